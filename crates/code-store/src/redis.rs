//! The Redis store (feature `redis`): a deadpool pool of redis-rs
//! multiplexed connections, under a connection manager of our own.
//!
//! Not deadpool-redis's own manager: it sends `UNWATCH` and `PING` every time
//! a connection leaves the pool, which made every store call three commands.
//! Here taking a connection from the pool costs nothing on the network. A
//! connection is marked broken when a command on it fails with an I/O error,
//! a dropped or refused connection, or a timeout, and the pool throws a
//! marked one away the next time it comes up and opens a fresh one instead.
//!
//! A multiplexed connection pipelines any number of concurrent commands on
//! one socket. So a call holds its pooled connection only long enough to
//! clone a handle to it, and gives it back before sending anything:
//! concurrent calls share connections instead of queueing for them, and the
//! pool opens a new one only when callers meet at the pool itself.
//!
//! Every wait is bounded: the pool's wait and create timeouts (which deadpool
//! leaves unset unless told), redis-rs's own connect and response timeouts
//! (set here rather than left at the library's defaults), an outer
//! `tokio::time::timeout` around getting a connection and another around
//! each command. A stopped or hung Redis therefore becomes
//! [`StoreError::Unavailable`] within the configured time.
//!
//! Reconnection needs no code of its own beyond the mark: after a restart,
//! the calls on a connection that saw the server go fail, the first
//! failure marks it, and the next call opens a fresh connection. Scripts
//! are sent as `EVALSHA` and reloaded once when a restarted server answers
//! `NOSCRIPT`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use deadpool::managed::{self, PoolError};
use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{
    self, AsyncConnectionConfig, FromRedisValue, IntoConnectionInfo, RedisError,
};
use serde::Deserialize;

use crate::sms_code::{DAILY, INTERVAL, TRIES, companion_key};
use crate::{
    CodeCheck, CodeLimits, CodeStore, Count, EntryKind, Issued, SmsCodeStore, StoreError, check_ttl,
};

/// Settings of a [`RedisStore`]. Every timeout is explicit, so a hung Redis
/// becomes an error within the configured time: getting a connection takes
/// at most `wait_timeout_ms + connect_timeout_ms + command_timeout_ms` in
/// all, and the command then at most `command_timeout_ms`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://` or `unix://` URL; may hold a password. (`rediss://` is
    /// refused: this build has no TLS.)
    pub url: String,
    /// Most connections open at once. Each one pipelines any number of
    /// concurrent commands, and a call holds one only to take a handle to
    /// it, so a few serve a busy server; a new one is opened only when
    /// callers meet at the pool. Also the most connections opened at once
    /// while Redis is unreachable.
    pub pool_size: usize,
    /// Time allowed to open a connection, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Time allowed to wait for the pool (while every slot is busy opening a
    /// connection), in milliseconds.
    pub wait_timeout_ms: u64,
    /// Time allowed for one command or script, in milliseconds.
    pub command_timeout_ms: u64,
    /// Put in front of every key.
    pub key_prefix: String,
    /// A file holding the URL, for deployments that keep the password out
    /// of the environment; the host application reads it into `url` when
    /// it loads its configuration (it wins over `url`).
    pub url_file: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".to_owned(),
            pool_size: 16,
            connect_timeout_ms: 1_000,
            wait_timeout_ms: 1_000,
            command_timeout_ms: 500,
            key_prefix: String::new(),
            url_file: String::new(),
        }
    }
}

// Never print the URL: it may carry a password.
impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &"<redacted>")
            .field("pool_size", &self.pool_size)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("wait_timeout_ms", &self.wait_timeout_ms)
            .field("command_timeout_ms", &self.command_timeout_ms)
            .field("key_prefix", &self.key_prefix)
            .field("url_file", &self.url_file)
            .finish()
    }
}

/// One pooled connection. Cloning it clones the multiplexed handle (every
/// clone pipelines onto the same socket) and shares the mark, so a failure
/// seen through any clone retires the pooled connection.
#[derive(Clone)]
struct Link {
    conn: MultiplexedConnection,
    broken: Mark,
}

/// Set once a command on the connection failed in a way that means its
/// socket is gone or stuck.
#[derive(Clone, Default)]
struct Mark(Arc<AtomicBool>);

impl Mark {
    /// Marks the connection when `e` says its socket is gone or stuck; a
    /// server's error answer leaves it in service.
    fn note(&self, e: &RedisError) {
        if e.is_timeout()
            || e.is_io_error()
            || e.is_connection_refusal()
            || e.is_connection_dropped()
        {
            self.set();
        }
    }

    fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Opens the pool's connections, with the configured timeouts, and vets
/// them on their way out of the pool without a network call.
struct Connector {
    client: redis::Client,
    config: AsyncConnectionConfig,
}

impl managed::Manager for Connector {
    type Type = Link;
    type Error = RedisError;

    async fn create(&self) -> Result<Link, RedisError> {
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await?;
        Ok(Link {
            conn,
            broken: Mark::default(),
        })
    }

    async fn recycle(
        &self,
        link: &mut Link,
        _: &managed::Metrics,
    ) -> managed::RecycleResult<RedisError> {
        if link.broken.is_set() {
            Err(managed::RecycleError::message("connection marked broken"))
        } else {
            Ok(())
        }
    }
}

/// A [`CodeStore`] over Redis (≥ 6.2). Cheap to clone.
#[derive(Clone)]
pub struct RedisStore {
    pool: managed::Pool<Connector>,
    key_prefix: Arc<str>,
    command_timeout: Duration,
    /// Bound on getting a connection, whatever the pool does meanwhile.
    connection_timeout: Duration,
}

// Hand-written: the client's connection info holds the password.
impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        f.debug_struct("RedisStore")
            .field("key_prefix", &self.key_prefix)
            .field("pool_max_size", &status.max_size)
            .field("pool_size", &status.size)
            .field("command_timeout", &self.command_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Builds the pool without connecting; the first call connects.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the URL does not parse, names a scheme
    /// this build cannot speak, or a size or timeout is zero. The message
    /// never repeats the URL.
    pub fn new(config: RedisConfig) -> Result<Self, crate::StoreError> {
        if config.pool_size == 0 {
            return Err(invalid("pool_size must be at least 1"));
        }
        let millis = |ms: u64, name: &str| {
            if ms == 0 {
                Err(invalid(&format!("{name} must be at least 1")))
            } else {
                Ok(Duration::from_millis(ms))
            }
        };
        let connect_timeout = millis(config.connect_timeout_ms, "connect_timeout_ms")?;
        let wait_timeout = millis(config.wait_timeout_ms, "wait_timeout_ms")?;
        let command_timeout = millis(config.command_timeout_ms, "command_timeout_ms")?;

        if config.url.starts_with("rediss:") {
            // redis-rs is built without TLS here: no crypto provider is chosen
            // for the whole process on the library's behalf.
            return Err(invalid("rediss:// (TLS) is not supported by this build"));
        }
        let info = config
            .url
            .as_str()
            .into_connection_info()
            .map_err(|e| invalid(&format!("redis url not usable ({})", e.category())))?;
        let client = redis::Client::open(info)
            .map_err(|e| invalid(&format!("redis url not usable ({})", e.category())))?;
        let connector = Connector {
            client,
            config: AsyncConnectionConfig::new()
                .set_connection_timeout(Some(connect_timeout))
                .set_response_timeout(Some(command_timeout)),
        };
        // No recycle timeout: recycling reads a flag.
        let pool = managed::Pool::builder(connector)
            .max_size(config.pool_size)
            .wait_timeout(Some(wait_timeout))
            // Opening includes the handshake after the TCP connect.
            .create_timeout(Some(connect_timeout + command_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|_| invalid("redis pool could not be built"))?;
        Ok(Self {
            pool,
            key_prefix: config.key_prefix.into(),
            command_timeout,
            // deadpool may throw away several marked connections in one
            // `get` before it opens a new one; one outer bound over it all.
            connection_timeout: wait_timeout + connect_timeout + command_timeout,
        })
    }

    fn key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.key_prefix.len() + key.len());
        full.push_str(&self.key_prefix);
        full.push_str(key);
        full
    }

    /// A handle to a pooled connection. The pooled connection itself goes
    /// back to the pool when this returns, before the caller's command is
    /// sent, so other calls share it meanwhile.
    async fn link(&self) -> Result<Link, StoreError> {
        let got = tokio::time::timeout(self.connection_timeout, self.pool.get()).await;
        let Ok(got) = got else {
            return Err(StoreError::Unavailable("redis connection timed out".into()));
        };
        let pooled = got.map_err(|e| match e {
            PoolError::Timeout(_) => StoreError::Unavailable("redis connection timed out".into()),
            PoolError::Backend(e) => from_redis(&e),
            PoolError::Closed => StoreError::Unavailable("redis pool closed".into()),
            PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
                StoreError::Backend("redis pool misconfigured".into())
            }
        })?;
        Ok(Link::clone(&pooled))
    }

    /// Waits for `request` at most the command timeout; a failure
    /// that means the connection is gone or stuck retires it.
    async fn finish<T>(
        &self,
        broken: &Mark,
        request: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.command_timeout, request).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                broken.note(&e);
                Err(from_redis(&e))
            }
            Err(_) => {
                // Possibly a server that stopped reading: a fresh connection
                // will find out at its handshake, within the connect timeout.
                broken.set();
                Err(timed_out())
            }
        }
    }

    async fn query<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        let Link { mut conn, broken } = self.link().await?;
        self.finish(&broken, cmd.query_async(&mut conn)).await
    }

    async fn run<T: FromRedisValue>(
        &self,
        script: &redis::Script,
        keys: &[&str],
        args: &[&[u8]],
    ) -> Result<T, StoreError> {
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        for arg in args {
            invocation.arg(*arg);
        }
        let Link { mut conn, broken } = self.link().await?;
        self.finish(&broken, invocation.invoke_async(&mut conn))
            .await
    }
}

fn invalid(why: &str) -> StoreError {
    StoreError::Backend(format!("invalid redis config: {why}"))
}

fn timed_out() -> StoreError {
    StoreError::Unavailable("redis command timed out".into())
}

/// Describes a redis-rs error by its kind and server code only: its full
/// text can hold connection details, and those may hold a password.
fn from_redis(e: &redis::RedisError) -> StoreError {
    if e.is_timeout() {
        timed_out()
    } else if e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() {
        StoreError::Unavailable(format!("redis connection failed ({})", e.category()))
    } else if let Some(code) = e.code() {
        // Answers that mean "not now" rather than "never": a server still
        // loading its data, a replica being promoted, a busy script.
        if matches!(
            code,
            "LOADING" | "BUSY" | "TRYAGAIN" | "CLUSTERDOWN" | "MASTERDOWN" | "READONLY"
        ) {
            StoreError::Unavailable(format!("redis answered {code}"))
        } else {
            StoreError::Backend(format!("redis answered {code}"))
        }
    } else {
        StoreError::Backend(format!("redis error ({})", e.category()))
    }
}

/// Milliseconds for `PX`/`PEXPIRE`, rounded up so a sub-millisecond TTL is
/// not sent as 0 (which Redis refuses).
fn ttl_millis(ttl: Duration) -> Result<Vec<u8>, StoreError> {
    check_ttl(ttl)?;
    let ms = ttl.as_nanos().div_ceil(1_000_000);
    Ok(ms.to_string().into_bytes())
}

/// The code key (prefixed) and the keys kept beside it, in the order the
/// code scripts take them: code, wrong checks, interval flag, daily count.
fn code_keys(prefix: &str, code_key: String) -> [String; 4] {
    let tries = companion_key(prefix, &code_key, TRIES);
    let interval = companion_key(prefix, &code_key, INTERVAL);
    let daily = companion_key(prefix, &code_key, DAILY);
    [code_key, tries, interval, daily]
}

/// Creates the counter with its window in the same step; also repairs a
/// counter someone else left without a TTL.
static INCR: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local value = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {value, ttl}
",
    )
});

/// DECR keeps the TTL; the guard keeps a missing key missing and a counter
/// from going below zero.
static DECR: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local current = redis.call('GET', KEYS[1])
if not current then
  return 0
end
local n = tonumber(current)
if not n then
  return redis.error_reply('ERR value is not a counter')
end
if n > 0 then
  redis.call('DECR', KEYS[1])
end
return 0
",
    )
});

/// KEYS: code, tries. ARGV: typed code, max wrong checks.
/// Returns {0, 0} missing, {1, 0} accepted, {2, attempts_left} rejected.
///
/// The comparison runs over every byte instead of Lua's `==`, so its time
/// does not depend on how much of the code was right. The tries key lives
/// as long as the code; a code without a TTL (written by someone else)
/// gets its tries key a day, so nothing here lives forever.
static CHECK_CODE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local stored = redis.call('GET', KEYS[1])
if not stored then
  redis.call('DEL', KEYS[2])
  return {0, 0}
end
local typed = ARGV[1]
local same = #stored == #typed
local diff = 0
for i = 1, math.min(#stored, #typed) do
  diff = bit.bor(diff, bit.bxor(string.byte(stored, i), string.byte(typed, i)))
end
if same and diff == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {1, 0}
end
local wrong = redis.call('INCR', KEYS[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = 86400000
end
redis.call('PEXPIRE', KEYS[2], ttl)
local max = tonumber(ARGV[2])
if wrong >= max then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {2, 0}
end
return {2, max - wrong}
",
    )
});

/// KEYS: code, tries, interval flag, daily count. ARGV: code, code TTL
/// ms, interval ms (0: off), daily cap (0: off), daily window ms.
/// Returns {0, 0} stored, {1, ms left} interval held, {2, ms left} daily cap
/// reached.
///
/// Every check comes before the first write, so a refusal changes nothing
/// (beyond giving a TTL to a flag or counter someone else left without one:
/// nothing here lives forever). The counter is read and compared rather
/// than counted and given back: the same outcome, one write fewer; a new
/// one is written with its window in one `SET`.
static ISSUE_CODE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local interval_on = tonumber(ARGV[3]) > 0
if interval_on then
  local left = redis.call('PTTL', KEYS[3])
  if left == -1 then
    redis.call('PEXPIRE', KEYS[3], ARGV[3])
    left = tonumber(ARGV[3])
  end
  if left ~= -2 then
    return {1, left}
  end
end
local cap = tonumber(ARGV[4])
local current = false
if cap > 0 then
  current = redis.call('GET', KEYS[4])
  if current then
    local count = tonumber(current)
    if not count then
      return redis.error_reply('ERR value is not a counter')
    end
    local left = redis.call('PTTL', KEYS[4])
    if left == -1 then
      redis.call('PEXPIRE', KEYS[4], ARGV[5])
      left = tonumber(ARGV[5])
    end
    if count >= cap then
      return {2, left}
    end
  end
end
if interval_on then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
end
if current then
  redis.call('INCR', KEYS[4])
elseif cap > 0 then
  redis.call('SET', KEYS[4], '1', 'PX', ARGV[5])
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
return {0, 0}
",
    )
});

/// KEYS: code, tries, interval flag, daily count. The counter is checked
/// before anything is deleted, so an error changes nothing; DECR keeps its
/// TTL, and a missing counter stays missing.
static REVOKE_CODE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local current = redis.call('GET', KEYS[4])
local count = nil
if current then
  count = tonumber(current)
  if not count then
    return redis.error_reply('ERR value is not a counter')
  end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
if count and count > 0 then
  redis.call('DECR', KEYS[4])
end
return 0
",
    )
});

#[async_trait]
impl CodeStore for RedisStore {
    // Redis has no per-kind budgets: the kind is for bounded stores.
    async fn put(
        &self,
        _kind: EntryKind,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let ms = ttl_millis(ttl)?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value).arg("PX").arg(ms);
        self.query::<()>(&cmd).await
    }

    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut cmd = redis::cmd("GETDEL");
        cmd.arg(self.key(key));
        self.query(&cmd).await
    }

    async fn incr(
        &self,
        _kind: EntryKind,
        key: &str,
        window: Duration,
    ) -> Result<Count, StoreError> {
        let ms = ttl_millis(window)?;
        let (value, ttl): (i64, i64) = self.run(&INCR, &[&self.key(key)], &[&ms]).await?;
        let value =
            u64::try_from(value).map_err(|_| StoreError::Backend("counter below zero".into()))?;
        Ok(Count {
            value,
            ttl: Duration::from_millis(u64::try_from(ttl).unwrap_or(0)),
        })
    }

    async fn decr(&self, key: &str) -> Result<(), StoreError> {
        self.run::<i64>(&DECR, &[&self.key(key)], &[]).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.query::<String>(&redis::cmd("PING")).await?;
        Ok(())
    }
}

#[async_trait]
impl SmsCodeStore for RedisStore {
    async fn check_code(
        &self,
        key: &str,
        code: &str,
        max_attempts: u32,
    ) -> Result<CodeCheck, StoreError> {
        let [key, tries, ..] = code_keys(&self.key_prefix, self.key(key));
        let max = max_attempts.to_string();
        let (outcome, left): (i64, i64) = self
            .run(
                &CHECK_CODE,
                &[&key, &tries],
                &[code.as_bytes(), max.as_bytes()],
            )
            .await?;
        match outcome {
            0 => Ok(CodeCheck::Missing),
            1 => Ok(CodeCheck::Accepted),
            2 => Ok(CodeCheck::Rejected {
                attempts_left: u32::try_from(left).unwrap_or(0),
            }),
            _ => Err(StoreError::Backend("unexpected answer to check".into())),
        }
    }

    async fn issue_code(
        &self,
        key: &str,
        code: &str,
        ttl: Duration,
        limits: CodeLimits,
    ) -> Result<Issued, StoreError> {
        let ms = ttl_millis(ttl)?;
        let interval = if limits.interval.is_zero() {
            b"0".to_vec()
        } else {
            ttl_millis(limits.interval)?
        };
        let (cap, window) = if limits.daily_cap == 0 {
            (b"0".to_vec(), b"0".to_vec())
        } else {
            (
                limits.daily_cap.to_string().into_bytes(),
                ttl_millis(limits.daily_window)?,
            )
        };
        let keys = code_keys(&self.key_prefix, self.key(key));
        let keys = keys.each_ref().map(String::as_str);
        let (outcome, left): (i64, i64) = self
            .run(
                &ISSUE_CODE,
                &keys,
                &[code.as_bytes(), &ms, &interval, &cap, &window],
            )
            .await?;
        let retry_after = Duration::from_millis(u64::try_from(left).unwrap_or(0));
        match outcome {
            0 => Ok(Issued::Stored),
            1 => Ok(Issued::IntervalHeld { retry_after }),
            2 => Ok(Issued::DailyCapReached { retry_after }),
            _ => Err(StoreError::Backend("unexpected answer to issue".into())),
        }
    }

    async fn revoke_code(&self, key: &str) -> Result<(), StoreError> {
        let keys = code_keys(&self.key_prefix, self.key(key));
        let keys = keys.each_ref().map(String::as_str);
        self.run::<i64>(&REVOKE_CODE, &keys, &[]).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companion_keys_share_the_code_keys_slot() {
        assert_eq!(
            code_keys("app:", "app:SMS_13812345678".to_owned()),
            [
                "app:SMS_13812345678",
                "app:{app:SMS_13812345678}:tries",
                "app:{app:SMS_13812345678}:interval",
                "app:{app:SMS_13812345678}:daily",
            ]
        );
    }

    #[test]
    fn ttls_round_up_to_whole_milliseconds() {
        assert_eq!(ttl_millis(Duration::from_secs(300)).unwrap(), b"300000");
        assert_eq!(ttl_millis(Duration::from_micros(1)).unwrap(), b"1");
        assert_eq!(ttl_millis(Duration::from_micros(1_500)).unwrap(), b"2");
        assert!(ttl_millis(Duration::ZERO).is_err());
    }

    #[test]
    fn bad_config_is_an_error_that_hides_the_url() {
        for url in [
            "http://user:hunter2@example.com",
            "redis://:hunter2@[::1",
            "",
        ] {
            let config = RedisConfig {
                url: url.to_owned(),
                ..RedisConfig::default()
            };
            let err = RedisStore::new(config).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{err}");
            assert!(err.contains("redis url"), "{err}");
        }
        let tls = RedisConfig {
            url: "rediss://:hunter2@example.com".to_owned(),
            ..RedisConfig::default()
        };
        let err = RedisStore::new(tls).unwrap_err().to_string();
        assert!(
            err.contains("rediss://") && !err.contains("hunter2"),
            "{err}"
        );
        let unix = RedisConfig {
            url: "unix:///run/redis/redis.sock".to_owned(),
            ..RedisConfig::default()
        };
        assert!(RedisStore::new(unix).is_ok());
        let zero_pool = RedisConfig {
            pool_size: 0,
            ..RedisConfig::default()
        };
        assert!(RedisStore::new(zero_pool).is_err());
        let zero_timeout = RedisConfig {
            command_timeout_ms: 0,
            ..RedisConfig::default()
        };
        assert!(RedisStore::new(zero_timeout).is_err());
    }

    #[test]
    fn debug_hides_the_url() {
        let config = RedisConfig {
            url: "redis://:hunter2@127.0.0.1:6379".to_owned(),
            ..RedisConfig::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
        let store = RedisStore::new(config).unwrap();
        assert!(!format!("{store:?}").contains("hunter2"));
    }
}
