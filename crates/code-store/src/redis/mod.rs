//! The Redis store (feature `redis`): a deadpool pool of redis-rs
//! multiplexed connections, under a connection manager of our own, to one
//! server or to the primary the Sentinels name; or, for a Redis Cluster,
//! a few shared redis-rs Cluster connections. `rediss://` (rustls) in every
//! mode.
//!
//! The Cluster does not go through a pool: redis-rs's Cluster connection
//! already multiplexes one connection per node, follows `MOVED`/`ASK` and
//! refreshes its slot map itself, and deadpool-redis's Cluster pool pings
//! every primary on each checkout and cannot take a custom CA. Every
//! script and multi-key step touches keys of one slot: the companion keys
//! carry the code key in a `{...}` hash tag.
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

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ::redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, Slot, SlotAddr};
use ::redis::{self, FromRedisValue, RedisError, TlsCertificates};
use async_trait::async_trait;
use deadpool::managed::PoolError;

use crate::sms_code::{DAILY, INTERVAL, TRIES, companion_key};
use crate::{
    CodeCheck, CodeLimits, CodeStore, Count, EntryKind, Issued, SmsCodeStore, StoreError, check_ttl,
};

mod config;
mod connection;
mod ip_counters;
mod scripts;

use config::read_ca;
pub use config::{RedisConfig, RedisMode};
use connection::*;
use ip_counters::IpBuckets;
use scripts::*;

/// A [`CodeStore`] over Redis (≥ 6.2): standalone, Cluster or Sentinel,
/// plain or TLS. Cheap to clone.
#[derive(Clone)]
pub struct RedisStore {
    connections: Connections,
    key_prefix: Arc<str>,
    command_timeout: Duration,
    /// Bound on getting a connection, whatever the pool does meanwhile.
    connection_timeout: Duration,
    wait_replicas: u32,
    /// Where per-IP counters are counted (see `ip_counters.rs`).
    ip_buckets: Arc<IpBuckets>,
}

// Hand-written: the client's connection info holds the password.
impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("RedisStore");
        d.field("key_prefix", &self.key_prefix);
        match &self.connections {
            Connections::Pool(pool) => {
                let status = pool.status();
                d.field("pool_max_size", &status.max_size)
                    .field("pool_size", &status.size);
            }
            Connections::Cluster(c) => {
                let open = c.conns.iter().filter(|c| c.initialized()).count();
                d.field("cluster_connections", &open);
            }
        }
        d.field("command_timeout", &self.command_timeout)
            .field("wait_replicas", &self.wait_replicas)
            .finish_non_exhaustive()
    }
}

/// Lets TLS connections work: redis-rs asks rustls for the process's
/// default crypto provider. One the host application installed is kept.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Whether any URL of the configured mode asks for TLS.
fn uses_tls(config: &RedisConfig) -> bool {
    match config.mode {
        RedisMode::Standalone => config.url.starts_with("rediss:"),
        RedisMode::Cluster => config.nodes.iter().any(|u| u.starts_with("rediss:")),
        RedisMode::Sentinel => config.sentinels.iter().any(|u| u.starts_with("rediss:")),
    }
}

impl RedisStore {
    /// Builds the connections without connecting; the first call connects.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when [`RedisConfig::validate`] refuses the
    /// settings (the message names the key and never repeats a URL).
    pub fn new(config: RedisConfig) -> Result<Self, crate::StoreError> {
        config
            .validate()
            .map_err(|e| StoreError::Backend(format!("invalid redis config: {e}")))?;
        let timeouts = Timeouts::of(&config);
        let certificates = match &config.tls_ca_file {
            Some(path) => Some(TlsCertificates {
                client_tls: None,
                root_cert: Some(read_ca(path).map_err(|e| invalid(&e.to_string()))?),
            }),
            None => None,
        };
        if uses_tls(&config) {
            install_crypto_provider();
        }
        let (connections, connection_timeout) = match config.mode {
            RedisMode::Cluster => (
                Connections::Cluster(Arc::new(cluster(&config, certificates, &timeouts)?)),
                timeouts.connect + timeouts.command,
            ),
            RedisMode::Sentinel => {
                let sentinel = sentinel_client(&config, certificates)
                    .map_err(|e| unusable("sentinels", &e))?;
                let source = Source::Sentinel(tokio::sync::Mutex::new(sentinel));
                (
                    Connections::Pool(pool(source, &config, &timeouts)?),
                    timeouts.pooled_connection(),
                )
            }
            RedisMode::Standalone => {
                let source = Source::Direct(direct_client(&config, certificates)?);
                (
                    Connections::Pool(pool(source, &config, &timeouts)?),
                    timeouts.pooled_connection(),
                )
            }
        };
        Ok(Self {
            connections,
            key_prefix: config.key_prefix.into(),
            command_timeout: timeouts.command,
            connection_timeout,
            wait_replicas: config.wait_replicas,
            ip_buckets: Arc::new(IpBuckets::new(config.ip_counter_buckets)),
        })
    }

    /// The secret every instance hashes per-IP keys under: cached, read
    /// (and made, by the first instance) through Redis.
    async fn ip_secret(&self) -> Result<Vec<u8>, StoreError> {
        if let Some(secret) = self.ip_buckets.cached_secret() {
            return Ok(secret);
        }
        let ttl = ttl_millis(ip_counters::SECRET_TTL)?;
        let candidate = IpBuckets::candidate();
        let secret: Vec<u8> = self
            .run(
                &IP_SECRET,
                &[&self.key(ip_counters::SECRET_KEY)],
                &[candidate.as_bytes(), &ttl],
            )
            .await?;
        if secret.is_empty() {
            return Err(StoreError::Backend("empty per-IP counter secret".into()));
        }
        self.ip_buckets.remember(secret.clone());
        Ok(secret)
    }

    /// Counts one for the per-IP key `key` in its bucket.
    async fn incr_ip(&self, key: &str, window: Duration) -> Result<Count, StoreError> {
        let ms = ttl_millis(window)?;
        let secret = self.ip_secret().await?;
        let place = self.ip_buckets.place(&secret, key);
        let (value, ttl): (i64, i64) = self
            .run_replicated(
                &IP_INCR,
                &[&self.key(&place.key)],
                &[place.field.as_bytes(), &ms],
            )
            .await?;
        counted(value, ttl)
    }

    fn key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.key_prefix.len() + key.len());
        full.push_str(&self.key_prefix);
        full.push_str(key);
        full
    }

    /// A handle to a connection. A pooled connection goes back to the pool
    /// when this returns, before the caller's command is sent, so other
    /// calls share it meanwhile.
    async fn link(&self) -> Result<Link, StoreError> {
        let pool = match &self.connections {
            Connections::Pool(pool) => pool,
            Connections::Cluster(cluster) => return self.cluster_link(cluster).await,
        };
        let got = tokio::time::timeout(self.connection_timeout, pool.get()).await;
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

    async fn cluster_link(&self, cluster: &Cluster) -> Result<Link, StoreError> {
        let turn = cluster.next.fetch_add(1, Ordering::Relaxed) % cluster.conns.len();
        let open = cluster.conns[turn].get_or_try_init(|| cluster.client.get_async_connection());
        match tokio::time::timeout(self.connection_timeout, open).await {
            // The Cluster connection heals itself: nothing to mark.
            Ok(Ok(conn)) => Ok(Link {
                conn: Handle::Cluster(conn.clone()),
                broken: Mark::default(),
            }),
            Ok(Err(e)) => Err(from_redis(&e)),
            Err(_) => Err(StoreError::Unavailable("redis connection timed out".into())),
        }
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
        self.run_then_wait(script, keys, args, false).await
    }

    /// [`query`](Self::query) for a write that guards money or a captcha:
    /// with `wait_replicas` set, the write is then acknowledged by that many
    /// replicas of `key`'s primary, or the call fails.
    async fn query_replicated<T: FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
        key: &str,
    ) -> Result<T, StoreError> {
        let Link { mut conn, broken } = self.link().await?;
        let value = self.finish(&broken, cmd.query_async(&mut conn)).await?;
        self.wait_for_replicas(&mut conn, &broken, key).await?;
        Ok(value)
    }

    /// [`run`](Self::run) for a script that guards money: as
    /// [`query_replicated`](Self::query_replicated), for its first key.
    async fn run_replicated<T: FromRedisValue>(
        &self,
        script: &redis::Script,
        keys: &[&str],
        args: &[&[u8]],
    ) -> Result<T, StoreError> {
        self.run_then_wait(script, keys, args, true).await
    }

    async fn run_then_wait<T: FromRedisValue>(
        &self,
        script: &redis::Script,
        keys: &[&str],
        args: &[&[u8]],
        wait: bool,
    ) -> Result<T, StoreError> {
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        for arg in args {
            invocation.arg(*arg);
        }
        let Link { mut conn, broken } = self.link().await?;
        let value = self
            .finish(&broken, invocation.invoke_async(&mut conn))
            .await?;
        if wait && let Some(key) = keys.first() {
            self.wait_for_replicas(&mut conn, &broken, key).await?;
        }
        Ok(value)
    }

    /// `WAIT wait_replicas command_timeout_ms` on the connection the write
    /// went out on, at `key`'s own primary: `WAIT` counts the replicas that
    /// have every write *this connection* sent so far. In Cluster mode it is
    /// routed by `key`'s slot (a bare `WAIT` would go to every primary).
    /// Does nothing when `wait_replicas` is 0.
    async fn wait_for_replicas(
        &self,
        conn: &mut Handle,
        broken: &Mark,
        key: &str,
    ) -> Result<(), StoreError> {
        if self.wait_replicas == 0 {
            return Ok(());
        }
        let timeout_ms = u64::try_from(self.command_timeout.as_millis()).unwrap_or(u64::MAX);
        let mut cmd = redis::cmd("WAIT");
        cmd.arg(self.wait_replicas).arg(timeout_ms);
        // The server blocks up to `timeout_ms`; give the answer time to come.
        let bound = self.command_timeout * 2;
        let acked = match conn {
            Handle::Single(c) => tokio::time::timeout(bound, cmd.query_async::<i64>(c)).await,
            Handle::Cluster(c) => {
                let route = Route::with_slot(Slot::for_key(key.as_bytes()), SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                tokio::time::timeout(bound, async {
                    let value = c.route_command(cmd, routing).await?;
                    Ok::<_, RedisError>(i64::from_redis_value(value)?)
                })
                .await
            }
        };
        match acked {
            Ok(Ok(n)) if n >= i64::from(self.wait_replicas) => Ok(()),
            Ok(Ok(_)) => Err(StoreError::Unavailable(
                "redis write not acknowledged by enough replicas".into(),
            )),
            Ok(Err(e)) => {
                broken.note(&e);
                Err(from_redis(&e))
            }
            Err(_) => {
                broken.set();
                Err(timed_out())
            }
        }
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
    } else if e.is_io_error()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        // No Sentinel could name a reachable primary: a failover under way.
        || matches!(
            e.kind(),
            redis::ErrorKind::MasterNameNotFoundBySentinel
                | redis::ErrorKind::NoValidReplicasFoundBySentinel
        )
    {
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

/// A counter script's `{value, ms left}` as a [`Count`].
fn counted(value: i64, ttl: i64) -> Result<Count, StoreError> {
    let value =
        u64::try_from(value).map_err(|_| StoreError::Backend("counter below zero".into()))?;
    Ok(Count {
        value,
        ttl: Duration::from_millis(u64::try_from(ttl).unwrap_or(0)),
    })
}

/// The code key (prefixed) and the keys kept beside it, in the order the
/// code scripts take them: code, wrong checks, interval flag, daily count.
fn code_keys(prefix: &str, code_key: String) -> [String; 4] {
    let tries = companion_key(prefix, &code_key, TRIES);
    let interval = companion_key(prefix, &code_key, INTERVAL);
    let daily = companion_key(prefix, &code_key, DAILY);
    [code_key, tries, interval, daily]
}

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
        let key = self.key(key);
        let mut cmd = redis::cmd("GETDEL");
        cmd.arg(&key);
        self.query_replicated(&cmd, &key).await
    }

    // Per-IP counters go to a bounded set of buckets; every other kind
    // is a key of its own.
    async fn incr(
        &self,
        kind: EntryKind,
        key: &str,
        window: Duration,
    ) -> Result<Count, StoreError> {
        if kind == EntryKind::IpCounter {
            return self.incr_ip(key, window).await;
        }
        let ms = ttl_millis(window)?;
        let (value, ttl): (i64, i64) = self
            .run_replicated(&INCR, &[&self.key(key)], &[&ms])
            .await?;
        counted(value, ttl)
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
            .run_replicated(
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
        assert!(RedisStore::new(tls).is_ok());
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
