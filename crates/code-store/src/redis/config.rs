//! `RedisConfig`: the `[store.redis]` table, and its check.

use std::path::PathBuf;

use ::redis::{self, ConnectionAddr, IntoConnectionInfo};
use serde::{Deserialize, Deserializer};

use crate::ConfigError;

/// How the store reaches Redis.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RedisMode {
    /// One server (or a proxy) at `url`.
    #[default]
    Standalone,
    /// A Redis Cluster, found through the seed `nodes`.
    Cluster,
    /// The primary the `sentinels` name for `sentinel_master`.
    Sentinel,
}

/// Settings of a [`RedisStore`]. Every timeout is explicit, so a hung Redis
/// becomes an error within the configured time: getting a connection takes
/// at most `wait_timeout_ms + connect_timeout_ms + command_timeout_ms` in
/// all, and the command then at most `command_timeout_ms`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `standalone` (the default), `cluster` or `sentinel`.
    pub mode: RedisMode,
    /// Standalone mode: `redis://`, `rediss://` (TLS) or `unix://` URL; may
    /// hold a password. Ignored in the other modes.
    pub url: String,
    /// Cluster mode: seed node URLs (`redis://` or `rediss://`, all alike);
    /// the rest of the Cluster is discovered from them. From the
    /// environment, one comma-separated string.
    #[serde(deserialize_with = "list_or_commas")]
    pub nodes: Vec<String>,
    /// Sentinel mode: Sentinel URLs. Their user and password are used for
    /// the Sentinels and the primary alike; `rediss://` makes both TLS. From
    /// the environment, one comma-separated string.
    #[serde(deserialize_with = "list_or_commas")]
    pub sentinels: Vec<String>,
    /// Sentinel mode: the name the Sentinels monitor the primary under.
    pub sentinel_master: String,
    /// PEM file of the CA that signs the servers' certificates, for
    /// `rediss://`; when unset, the platform's roots are trusted.
    pub tls_ca_file: Option<PathBuf>,
    /// When above 0, the take and the writes that guard money (the interval
    /// flag, the daily and global counters) wait until this many replicas
    /// acknowledge them (`WAIT`, at most `command_timeout_ms`); fewer
    /// acknowledgements fail the call as unavailable.
    pub wait_replicas: u32,
    /// Most connections open at once (standalone and Sentinel modes). Each
    /// one pipelines any number of concurrent commands, and a call holds one
    /// only to take a handle to it, so a few serve a busy server; a new one
    /// is opened only when callers meet at the pool. Also the most
    /// connections opened at once while Redis is unreachable. In Cluster
    /// mode, up to 4 shared Cluster connections (each one multiplexed
    /// socket per node) serve every call.
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
    /// Buckets per-client-IP counters of each kind are hashed into (a
    /// keyed hash), 100..=16,777,216: a bound on the keys a flood from many
    /// addresses can make (one per 100 buckets). Clients sharing a bucket
    /// share a count, so size it well above the requests a flood may send
    /// in a window divided by the per-IP limit.
    pub ip_counter_buckets: u32,
    /// A file holding the URL, for deployments that keep the password out
    /// of the environment; the host application reads it into `url` when
    /// it loads its configuration (it wins over `url`).
    pub url_file: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            mode: RedisMode::Standalone,
            url: "redis://127.0.0.1:6379".to_owned(),
            nodes: Vec::new(),
            sentinels: Vec::new(),
            sentinel_master: String::new(),
            tls_ca_file: None,
            wait_replicas: 0,
            pool_size: 16,
            connect_timeout_ms: 1_000,
            wait_timeout_ms: 1_000,
            command_timeout_ms: 500,
            key_prefix: String::new(),
            ip_counter_buckets: 262_144,
            url_file: String::new(),
        }
    }
}

// Never print a URL: it may carry a password.
impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("mode", &self.mode)
            .field("url", &"<redacted>")
            .field("nodes", &format_args!("<{} redacted>", self.nodes.len()))
            .field(
                "sentinels",
                &format_args!("<{} redacted>", self.sentinels.len()),
            )
            .field("sentinel_master", &self.sentinel_master)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("wait_replicas", &self.wait_replicas)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("wait_timeout_ms", &self.wait_timeout_ms)
            .field("command_timeout_ms", &self.command_timeout_ms)
            .field("key_prefix", &self.key_prefix)
            .field("ip_counter_buckets", &self.ip_counter_buckets)
            .field("url_file", &self.url_file)
            .finish()
    }
}

/// A list, or one string of comma-separated items (what an environment
/// variable can hold).
pub(super) fn list_or_commas<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        One(String),
    }
    Ok(match ListOrString::deserialize(d)? {
        ListOrString::List(items) => items,
        ListOrString::One(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

impl RedisConfig {
    /// Checks the settings, naming the first bad one by its key. The URLs
    /// of the modes not chosen are not looked at.
    ///
    /// # Errors
    /// [`ConfigError`] naming the key; its reason never repeats a URL.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.pool_size == 0 {
            return Err(ConfigError::new("pool_size", "must be at least 1"));
        }
        for (key, ms) in [
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("wait_timeout_ms", self.wait_timeout_ms),
            ("command_timeout_ms", self.command_timeout_ms),
        ] {
            if ms == 0 {
                return Err(ConfigError::new(key, "must be at least 1"));
            }
        }
        if !(100..=16_777_216).contains(&self.ip_counter_buckets) {
            return Err(ConfigError::new(
                "ip_counter_buckets",
                "must be 100..=16777216",
            ));
        }
        match self.mode {
            RedisMode::Standalone => {
                parse_url("url", &self.url)?;
            }
            RedisMode::Cluster => {
                let tls = urls("nodes", &self.nodes)?;
                if tls.iter().any(|t| *t != tls[0]) {
                    return Err(ConfigError::new(
                        "nodes",
                        "mixes redis:// and rediss:// nodes",
                    ));
                }
            }
            RedisMode::Sentinel => {
                urls("sentinels", &self.sentinels)?;
                if self.sentinel_master.trim().is_empty() {
                    return Err(ConfigError::new(
                        "sentinel_master",
                        "must name the monitored primary in sentinel mode",
                    ));
                }
            }
        }
        if let Some(path) = &self.tls_ca_file {
            read_ca(path)?;
        }
        Ok(())
    }
}

/// Parses each of `list` (at least one); returns whether each is TLS.
pub(super) fn urls(key: &'static str, list: &[String]) -> Result<Vec<bool>, ConfigError> {
    if list.is_empty() {
        return Err(ConfigError::new(key, "needs at least one URL in this mode"));
    }
    list.iter()
        .map(|url| {
            let info = parse_url(key, url)?;
            match info.addr() {
                ConnectionAddr::Tcp(..) => Ok(false),
                ConnectionAddr::TcpTls { .. } => Ok(true),
                _ => Err(ConfigError::new(key, "only redis:// and rediss:// here")),
            }
        })
        .collect()
}

pub(super) fn parse_url(
    key: &'static str,
    url: &str,
) -> Result<redis::ConnectionInfo, ConfigError> {
    url.into_connection_info()
        .map_err(|e| ConfigError::new(key, format!("redis url not usable ({})", e.category())))
}

pub(super) fn read_ca(path: &std::path::Path) -> Result<Vec<u8>, ConfigError> {
    let pem = std::fs::read(path)
        .map_err(|e| ConfigError::new("tls_ca_file", format!("cannot be read ({e})")))?;
    if !pem.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(ConfigError::new("tls_ca_file", "holds no PEM certificate"));
    }
    Ok(pem)
}
