//! [`Settings`]: the compiled-in `config/default.toml`, then optional files, then
//! `PASSPORT__<SECTION>__<KEY>` variables; checked once, at load.
//!
//! Each section that configures a lower crate is that crate's own type, which
//! validates itself and names the bad field: `[store.memory]` and
//! `[store.redis]` are `code_store`'s, `[captcha]` is `captcha_render`'s
//! `Params`, `[limits]` is `verify`'s `Policy`, `[mobile]` its `MobileRule`.
//! This module checks only the server's own keys and puts the section in
//! front of a lower crate's field name.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use captcha_render::Params;
use code_store::{MemoryConfig, RedisConfig};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use sms_gateways::GatewaysConfig;
use verify::{Lang, MobileRule, Policy, SmsCode, TestNumbers};

use crate::client_ip::IpNet;

mod load;
mod secret;
#[cfg(test)]
mod tests;

pub use load::DEFAULT_TOML;
pub use secret::Secret;
use secret::{read_secret_file, secret_or_file};

/// Names a key of the configuration and what is wrong with its value; never
/// shows the value itself (it may be a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct ConfigError {
    /// The dotted key (`captcha.width`), or the file at fault.
    pub key: String,
    /// What is wrong, on one line.
    pub reason: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// Everything `passport-server` can be told; see `config/default.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Listener, workers, page, metrics, trusted proxies.
    pub server: ServerSettings,
    /// Where codes and counters live.
    pub store: StoreSettings,
    /// The captcha image (the renderer's own parameters).
    pub captcha: Params,
    /// TTLs and rate limits (the rules' own policy).
    pub limits: Policy,
    /// Which mobile numbers are accepted.
    pub mobile: MobileRule,
    /// The SMS sender and its gateway's table (the gateways crate's own).
    pub sms: GatewaysConfig,
    /// The server-to-server check endpoint.
    pub verify_api: VerifyApiSettings,
    /// Cross-origin callers.
    pub cors: CorsSettings,
    /// Seed compatibility.
    pub compat: CompatSettings,
    /// `errmsg` language.
    pub messages: MessagesSettings,
    /// Logging.
    pub log: LogSettings,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on.
    pub host: String,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Directory of the page served at `/`; empty for none.
    pub static_dir: String,
    /// `host:port` of the `/metrics` listener; empty disables it.
    pub metrics_addr: String,
    /// IPs or CIDRs whose `X-Forwarded-For` is believed.
    #[serde(deserialize_with = "list")]
    pub trusted_proxies: Vec<String>,
    /// Time allowed to read a whole request body (ms), from the end of its
    /// head; then 408/4103 and the connection is closed.
    pub body_timeout_ms: u64,
    /// Time allowed to read a request head (ms); then actix-http answers
    /// 408 and closes the connection.
    pub head_timeout_ms: u64,
    /// Seconds an idle keep-alive connection is kept open; 0 closes each
    /// connection after its answer.
    pub keep_alive_secs: u64,
    /// Connections one client address may hold open (an IPv6 client's /64;
    /// trusted proxies exempt); one more is answered 429/4201 and closed.
    pub max_connections_per_ip: usize,
    /// Connections open in all; 0 derives it from the descriptor limit
    /// (see [`Settings::max_connections`]).
    pub max_connections: usize,
    /// Serve the OpenAPI document at `GET /openapi.json`.
    pub openapi: bool,
}

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// Which store.
    pub backend: Backend,
    /// Put in front of every key, by whichever store runs.
    pub key_prefix: String,
    /// `[store.memory]`.
    pub memory: MemoryConfig,
    /// `[store.redis]`.
    pub redis: RedisConfig,
}

/// `store.backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The bounded in-memory store (one process).
    Memory,
    /// Redis.
    Redis,
}

/// `[verify_api]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyApiSettings {
    /// The bearer key; empty disables the endpoint.
    pub key: Secret,
    /// File holding the bearer key.
    pub key_file: String,
}

/// `[cors]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    /// Origins allowed to call the API from a browser.
    #[serde(deserialize_with = "list")]
    pub allowed_origins: Vec<String>,
}

/// `[compat]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompatSettings {
    /// Every JSON error answered with HTTP 200.
    pub errors_as_200: bool,
}

/// `[messages]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesSettings {
    /// `zh` or `en`.
    pub default_lang: Lang,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// A level or a per-target filter.
    pub level: String,
    /// JSON lines instead of text.
    pub json: bool,
}

// A list key takes a TOML array, or one comma-separated string from the
// environment. Done here rather than with the env source's `try_parsing`,
// which would also turn "007" into 7 and "inf" into a float in every
// string key (secrets and prefixes included).
fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct ListVisitor;
    impl<'de> Visitor<'de> for ListVisitor {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of strings or one comma-separated string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                let item = item.trim();
                if !item.is_empty() {
                    out.push(item.to_owned());
                }
            }
            Ok(out)
        }
    }
    d.deserialize_any(ListVisitor)
}

impl Settings {
    /// The compiled-in defaults alone (no files, no environment).
    pub fn defaults() -> Self {
        Self::load_from(None, &HashMap::new(), false)
            .unwrap_or_else(|e| unreachable!("config/default.toml is valid: {e}"))
    }

    /// Reads the secrets kept in files, once, after the layers are merged.
    fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        let api = &mut self.verify_api;
        secret_or_file(&mut api.key, &api.key_file, "verify_api.key_file")?;
        // `url` has a non-empty default, so "both set" cannot be told apart
        // from "file set": the file wins.
        let redis = &mut self.store.redis;
        if let Some(url) = read_secret_file(&redis.url_file, "store.redis.url_file")? {
            redis.url = url;
        }
        // One prefix for whichever store runs.
        self.store
            .memory
            .key_prefix
            .clone_from(&self.store.key_prefix);
        self.store
            .redis
            .key_prefix
            .clone_from(&self.store.key_prefix);
        Ok(())
    }

    /// Checks every value, once: the lower crates check their own sections
    /// (their field names get the section in front), this module the
    /// server's keys. The first bad one is named.
    fn validate(&self) -> Result<(), ConfigError> {
        self.captcha
            .validate()
            .map_err(|e| ConfigError::new(format!("captcha.{}", e.field()), e.to_string()))?;
        self.limits
            .validate()
            .map_err(|e| ConfigError::new(format!("limits.{}", e.field), e.reason))?;
        self.validate_server()?;
        self.validate_store()?;
        self.validate_sms()?;
        self.validate_edges()
    }

    fn validate_server(&self) -> Result<(), ConfigError> {
        let s = &self.server;
        if s.host.trim().is_empty() {
            return Err(ConfigError::new("server.host", "must not be empty"));
        }
        range("server.workers", s.workers as u64, 0, 1024)?;
        range("server.body_timeout_ms", s.body_timeout_ms, 1, 60_000)?;
        range("server.head_timeout_ms", s.head_timeout_ms, 1, 60_000)?;
        range("server.keep_alive_secs", s.keep_alive_secs, 0, 300)?;
        range(
            "server.max_connections_per_ip",
            s.max_connections_per_ip as u64,
            1,
            1_000_000,
        )?;
        range(
            "server.max_connections",
            s.max_connections as u64,
            0,
            1_000_000,
        )?;
        if !s.metrics_addr.is_empty() && s.metrics_addr.parse::<SocketAddr>().is_err() {
            return Err(ConfigError::new(
                "server.metrics_addr",
                "must be an IP address and port (127.0.0.1:9898) or empty",
            ));
        }
        for p in &s.trusted_proxies {
            if IpNet::from_str(p).is_err() {
                return Err(ConfigError::new(
                    "server.trusted_proxies",
                    format!("{p:?} is not an IP address or CIDR"),
                ));
            }
        }
        Ok(())
    }

    fn validate_store(&self) -> Result<(), ConfigError> {
        let st = &self.store;
        if st.key_prefix.len() > 64
            || st
                .key_prefix
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(ConfigError::new(
                "store.key_prefix",
                "must be at most 64 bytes without spaces or control characters",
            ));
        }
        st.memory
            .validate()
            .map_err(|e| ConfigError::new(format!("store.memory.{}", e.key), e.reason))?;
        // Its message never quotes the URL (it may hold a password).
        st.redis
            .validate()
            .map_err(|e| ConfigError::new(format!("store.redis.{}", e.key), e.reason))?;
        Ok(())
    }

    /// `sms.test_numbers`, parsed with the mobile rule into canonical
    /// numbers (checked at load, so this cannot fail on loaded settings).
    pub fn test_numbers(&self) -> Result<TestNumbers, ConfigError> {
        let key = "sms.test_numbers";
        let mut numbers = TestNumbers::new();
        for entry in &self.sms.test_numbers {
            // The number is named masked; the code never.
            let mobile = self
                .mobile
                .parse(&entry.mobile)
                .map_err(|_| ConfigError::new(key, "a number the mobile rule does not accept"))?;
            let code = SmsCode::parse(&entry.code).map_err(|_| {
                ConfigError::new(
                    key,
                    format!("the code of {} is not six digits", mobile.masked()),
                )
            })?;
            if numbers.get(&mobile).is_some() {
                return Err(ConfigError::new(
                    key,
                    format!("{} is listed twice", mobile.masked()),
                ));
            }
            numbers.insert(mobile, code);
        }
        Ok(numbers)
    }

    fn validate_sms(&self) -> Result<(), ConfigError> {
        self.test_numbers()?;
        // Building checks the chosen gateway's table (and reads its `*_file`
        // secrets) without sending anything.
        self.sms.build().map(drop).map_err(|e| match e {
            sms_gateways::BuildError::Invalid { key, reason } => ConfigError::new(key, reason),
            other => ConfigError::new("sms.sender", other.to_string()),
        })
    }

    fn validate_edges(&self) -> Result<(), ConfigError> {
        let key = self.verify_api.key.expose();
        if !key.is_empty() && (key.len() < 16 || !key.bytes().all(|b| b.is_ascii_graphic())) {
            return Err(ConfigError::new(
                "verify_api.key",
                "must be at least 16 printable ASCII characters without spaces",
            ));
        }
        for origin in &self.cors.allowed_origins {
            if !is_origin(origin) {
                return Err(ConfigError::new(
                    "cors.allowed_origins",
                    format!(
                        "{origin:?} is not an origin like https://example.com (\"*\" is never allowed)"
                    ),
                ));
            }
        }
        if !is_log_filter(&self.log.level) {
            return Err(ConfigError::new(
                "log.level",
                "must be a level (info) or a filter (warn,passport_server=info)",
            ));
        }
        Ok(())
    }

    /// `server.max_connections`, or when it is 0 the process's soft
    /// descriptor limit less a reserve for the listeners, the Redis pool, the
    /// gateway and the log (64 plus `store.redis.pool_size`), at least 32.
    pub fn max_connections(&self) -> usize {
        match self.server.max_connections {
            0 => crate::connections::derived_total(self.store.redis.pool_size),
            n => n,
        }
    }

    /// The trusted proxies, parsed (checked at load).
    pub(crate) fn trusted_proxies(&self) -> Vec<IpNet> {
        self.server
            .trusted_proxies
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect()
    }
}

/// `key`'s value `v` must be within `lo..=hi`.
fn range(key: &str, v: u64, lo: u64, hi: u64) -> Result<(), ConfigError> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(ConfigError::new(key, format!("must be {lo}..={hi}")))
    }
}

/// `info`, or `warn,passport_server=debug`: levels, optionally per target.
/// Stricter than `Targets`' parser, which takes any word for a target.
fn is_log_filter(s: &str) -> bool {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    let is_level = |l: &str| LEVELS.contains(&l.trim().to_ascii_lowercase().as_str());
    !s.trim().is_empty()
        && s.split(',').all(|d| match d.split_once('=') {
            None => is_level(d),
            Some((target, level)) => {
                let target = target.trim();
                !target.is_empty()
                    && target
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
                    && is_level(level)
            }
        })
}

/// `scheme://host[:port]`, nothing after it.
fn is_origin(s: &str) -> bool {
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}
