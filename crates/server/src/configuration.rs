//! [`Settings`]: the compiled-in `config/default.toml`, then optional files, then
//! `PASSPORT__<SECTION>__<KEY>` variables; checked once at start-up.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use captcha_render::{Format, Params};
use code_store::{MemoryConfig, RedisConfig};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use verify::{Lang, MobileRule, Policy, WebhookConfig};

use crate::client_ip::IpNet;

/// The base layer, compiled in so the binary runs from any working directory.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

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

/// A secret string (bearer key, webhook secret, Redis URL with password):
/// its `Debug` form never shows it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether it is unset.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(<empty>)"
        } else {
            "Secret(<redacted>)"
        })
    }
}

/// Everything `passport-server` can be told; see `config/default.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Listener, workers, page, metrics.
    pub server: ServerSettings,
    /// Where codes and counters live.
    pub store: StoreSettings,
    /// The captcha image.
    pub captcha: CaptchaSettings,
    /// SMS codes and their sender.
    pub sms: SmsSettings,
    /// Per-IP limits and trusted proxies.
    pub limits: LimitsSettings,
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
}

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// Which store.
    pub backend: Backend,
    /// Put in front of every key.
    pub key_prefix: String,
    /// `[store.memory]`.
    pub memory: MemorySettings,
    /// `[store.redis]`.
    pub redis: RedisSettings,
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

/// `[store.memory]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySettings {
    /// Most entries held at once.
    pub max_entries: usize,
}

/// `[store.redis]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// Connection URL (may hold a password).
    pub url: Secret,
    /// File holding the URL; wins over `url` when set.
    pub url_file: String,
    /// Most pooled connections.
    pub pool_size: usize,
    /// Time to open a connection (ms).
    pub connect_timeout_ms: u64,
    /// Time to wait for a pooled connection (ms).
    pub wait_timeout_ms: u64,
    /// Time for one command (ms).
    pub command_timeout_ms: u64,
}

/// `[captcha]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptchaSettings {
    /// Image width (px).
    pub width: u32,
    /// Image height (px).
    pub height: u32,
    /// Characters per captcha.
    pub length: usize,
    /// Characters drawn from; empty for the renderer's default.
    pub alphabet: String,
    /// Image encoding.
    pub format: ImageFormat,
    /// JPEG quality.
    pub jpeg_quality: u8,
    /// Seconds an answer lives.
    pub ttl_secs: u64,
    /// Noise level, 0..=3.
    pub noise: u8,
    /// Background colour, `#rrggbb`.
    pub background: String,
    /// Ink colours, `#rrggbb` each.
    #[serde(deserialize_with = "list")]
    pub ink: Vec<String>,
}

/// `captcha.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// `image/png`.
    Png,
    /// `image/jpeg`.
    Jpeg,
}

/// `[sms]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    /// Which sender.
    pub sender: SenderKind,
    /// Seconds a code lives.
    pub ttl_secs: u64,
    /// Seconds between two SMS to one mobile (0 disables).
    pub interval_secs: u64,
    /// SMS per mobile per 24 h (0 disables).
    pub daily_cap: u32,
    /// SMS in all per hour (0 disables).
    pub global_per_hour: u32,
    /// Wrong checks before a code is void.
    pub max_attempts: u32,
    /// Regular expression for mobile numbers.
    pub mobile_pattern: String,
    /// `[sms.webhook]`.
    pub webhook: WebhookSettings,
}

/// `sms.sender`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SenderKind {
    /// Logs the code (development only).
    Log,
    /// POSTs to an HTTP gateway.
    Webhook,
    /// Sends nothing (load benchmarks only).
    Discard,
}

/// `[sms.webhook]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Gateway URL.
    pub url: String,
    /// Signing key.
    pub secret: Secret,
    /// File holding the signing key.
    pub secret_file: String,
    /// `Authorization` header value.
    pub authorization: Secret,
    /// File holding the `Authorization` header value.
    pub authorization_file: String,
    /// Time for one call (ms).
    pub timeout_ms: u64,
    /// Retries after a connect error, timeout or 5xx.
    pub max_retries: u32,
}

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSettings {
    /// Captcha images per client IP per minute (0 disables).
    pub image_codes_per_ip_per_minute: u32,
    /// SMS requests per client IP per hour (0 disables).
    pub sms_per_ip_per_hour: u32,
    /// IPs or CIDRs whose `X-Forwarded-For` is believed.
    #[serde(deserialize_with = "list")]
    pub trusted_proxies: Vec<String>,
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
    pub default_lang: LangSetting,
}

/// `messages.default_lang`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LangSetting {
    /// Chinese.
    Zh,
    /// English.
    En,
}

impl From<LangSetting> for Lang {
    fn from(l: LangSetting) -> Self {
        match l {
            LangSetting::Zh => Lang::Zh,
            LangSetting::En => Lang::En,
        }
    }
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

    /// Loads the layers using the process environment: `config_dir` (from
    /// `--config`), else `PASSPORT_CONFIG_DIR`, else `./config` when present.
    pub fn load(config_dir: Option<&Path>) -> Result<Self, ConfigError> {
        let mut env = HashMap::new();
        for (key, value) in std::env::vars_os() {
            let Ok(key) = key.into_string() else { continue };
            if !key.starts_with("PASSPORT") {
                continue;
            }
            let value = value
                .into_string()
                .map_err(|_| ConfigError::new(&key, "not valid UTF-8"))?;
            env.insert(key, value);
        }
        Self::load_from(config_dir, &env, true)
    }

    /// Loads the layers with `env` standing in for the process environment;
    /// `look_in_cwd` allows the `./config` fallback.
    pub fn load_from(
        config_dir: Option<&Path>,
        env: &HashMap<String, String>,
        look_in_cwd: bool,
    ) -> Result<Self, ConfigError> {
        use config::{Config, Environment, File, FileFormat};

        let dir: Option<PathBuf> = match (config_dir, env.get("PASSPORT_CONFIG_DIR")) {
            (Some(dir), _) => Some(existing_dir(dir, "--config")?),
            (None, Some(dir)) if !dir.is_empty() => {
                Some(existing_dir(Path::new(dir), "PASSPORT_CONFIG_DIR")?)
            }
            _ => Some(PathBuf::from("config")).filter(|d| look_in_cwd && d.is_dir()),
        };

        let mut builder =
            Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
        if let Some(dir) = &dir {
            builder = builder.add_source(
                File::from(dir.join("default.toml"))
                    .format(FileFormat::Toml)
                    .required(false),
            );
            if let Some(name) = env.get("PASSPORT_ENV").filter(|n| !n.is_empty()) {
                let plain = name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !plain {
                    return Err(ConfigError::new(
                        "PASSPORT_ENV",
                        "must be letters, digits, '-' or '_'",
                    ));
                }
                builder = builder.add_source(
                    File::from(dir.join(format!("{name}.toml")))
                        .format(FileFormat::Toml)
                        .required(false),
                );
            }
        }
        let vars: config::Map<String, String> = env
            .iter()
            .filter(|(k, _)| k.starts_with("PASSPORT__"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        builder = builder.add_source(
            Environment::with_prefix("PASSPORT")
                .prefix_separator("__")
                .separator("__")
                .source(Some(vars)),
        );

        let mut settings: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(from_config_error)?;
        settings.read_secret_files()?;
        settings.validate()?;
        Ok(settings)
    }

    fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        fn read(path: &str, key: &str) -> Result<Option<Secret>, ConfigError> {
            if path.is_empty() {
                return Ok(None);
            }
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(key, format!("cannot read the file ({})", e.kind()))
            })?;
            Ok(Some(Secret(text.trim_end_matches(['\r', '\n']).to_owned())))
        }
        fn exclusive(value: &Secret, path: &str, key: &str) -> Result<(), ConfigError> {
            if !value.is_empty() && !path.is_empty() {
                return Err(ConfigError::new(
                    key,
                    "set either the value or the file, not both",
                ));
            }
            Ok(())
        }
        let api = &mut self.verify_api;
        exclusive(&api.key, &api.key_file, "verify_api.key_file")?;
        if let Some(s) = read(&api.key_file, "verify_api.key_file")? {
            api.key = s;
        }
        let hook = &mut self.sms.webhook;
        exclusive(&hook.secret, &hook.secret_file, "sms.webhook.secret_file")?;
        if let Some(s) = read(&hook.secret_file, "sms.webhook.secret_file")? {
            hook.secret = s;
        }
        exclusive(
            &hook.authorization,
            &hook.authorization_file,
            "sms.webhook.authorization_file",
        )?;
        if let Some(s) = read(&hook.authorization_file, "sms.webhook.authorization_file")? {
            hook.authorization = s;
        }
        // `url` has a non-empty default, so "both set" cannot be told apart
        // from "file set": the file wins.
        let redis = &mut self.store.redis;
        if let Some(s) = read(&redis.url_file, "store.redis.url_file")? {
            redis.url = s;
        }
        Ok(())
    }

    /// Checks every value; the first bad one is named.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, reason: &str| Err(ConfigError::new(key, reason));
        let range = |key: &str, v: u64, lo: u64, hi: u64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(ConfigError::new(key, format!("must be {lo}..={hi}")))
            }
        };

        let s = &self.server;
        if s.host.trim().is_empty() {
            return bad("server.host", "must not be empty");
        }
        range("server.workers", s.workers as u64, 0, 1024)?;
        if !s.metrics_addr.is_empty() && s.metrics_addr.parse::<SocketAddr>().is_err() {
            return bad(
                "server.metrics_addr",
                "must be an IP address and port (127.0.0.1:9898) or empty",
            );
        }

        let st = &self.store;
        if st.key_prefix.len() > 64
            || st
                .key_prefix
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return bad(
                "store.key_prefix",
                "must be at most 64 bytes without spaces or control characters",
            );
        }
        range(
            "store.memory.max_entries",
            st.memory.max_entries as u64,
            1,
            100_000_000,
        )?;
        let r = &st.redis;
        if st.backend == Backend::Redis {
            let url = r.url.expose();
            if !["redis://", "rediss://", "unix://", "redis+unix://"]
                .iter()
                .any(|scheme| url.starts_with(scheme))
            {
                return bad(
                    "store.redis.url",
                    "must be a redis://, rediss:// or unix:// URL",
                );
            }
        }
        range("store.redis.pool_size", r.pool_size as u64, 1, 1024)?;
        range(
            "store.redis.connect_timeout_ms",
            r.connect_timeout_ms,
            1,
            60_000,
        )?;
        range("store.redis.wait_timeout_ms", r.wait_timeout_ms, 1, 60_000)?;
        range(
            "store.redis.command_timeout_ms",
            r.command_timeout_ms,
            1,
            60_000,
        )?;

        let c = &self.captcha;
        range("captcha.width", c.width.into(), 1, 1000)?;
        range("captcha.height", c.height.into(), 1, 400)?;
        range("captcha.length", c.length as u64, 1, 12)?;
        let alphabet = self.alphabet().as_bytes();
        if alphabet.len() < 2
            || !alphabet.iter().all(|b| (0x21..=0x7e).contains(b))
            || (1..alphabet.len()).any(|i| alphabet[..i].contains(&alphabet[i]))
        {
            return bad(
                "captcha.alphabet",
                "must be at least 2 distinct printable ASCII characters",
            );
        }
        range("captcha.jpeg_quality", c.jpeg_quality.into(), 1, 100)?;
        range("captcha.ttl_secs", c.ttl_secs, 1, 86_400)?;
        range("captcha.noise", c.noise.into(), 0, 3)?;
        if parse_colour(&c.background).is_none() {
            return bad("captcha.background", "must be a colour like \"#fafaf5\"");
        }
        if c.ink.is_empty() || c.ink.len() > 8 || c.ink.iter().any(|i| parse_colour(i).is_none()) {
            return bad("captcha.ink", "must be 1 to 8 colours like \"#1c3a96\"");
        }
        if let Err(e) = captcha_render::Renderer::new(self.renderer_params()) {
            let captcha_render::ParamsError::Invalid(field) = e;
            return bad(&format!("captcha.{field}"), "not accepted by the renderer");
        }

        let m = &self.sms;
        range("sms.ttl_secs", m.ttl_secs, 1, 86_400)?;
        range("sms.interval_secs", m.interval_secs, 0, 86_400)?;
        range("sms.max_attempts", m.max_attempts.into(), 1, 100)?;
        if MobileRule::new(&m.mobile_pattern).is_err() {
            return bad("sms.mobile_pattern", "not a valid regular expression");
        }
        let w = &m.webhook;
        if m.sender == SenderKind::Webhook
            && !(w.url.starts_with("http://") || w.url.starts_with("https://"))
        {
            return bad(
                "sms.webhook.url",
                "must be an http:// or https:// URL when sms.sender = \"webhook\"",
            );
        }
        range("sms.webhook.timeout_ms", w.timeout_ms, 1, 60_000)?;
        range("sms.webhook.max_retries", w.max_retries.into(), 0, 5)?;
        if w.authorization.expose().chars().any(char::is_control) {
            return bad(
                "sms.webhook.authorization",
                "must not hold control characters",
            );
        }

        for p in &self.limits.trusted_proxies {
            if IpNet::from_str(p).is_err() {
                return Err(ConfigError::new(
                    "limits.trusted_proxies",
                    format!("{p:?} is not an IP address or CIDR"),
                ));
            }
        }

        let key = self.verify_api.key.expose();
        if !key.is_empty() && (key.len() < 16 || !key.bytes().all(|b| b.is_ascii_graphic())) {
            return bad(
                "verify_api.key",
                "must be at least 16 printable ASCII characters without spaces",
            );
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
            return bad(
                "log.level",
                "must be a level (info) or a filter (warn,passport_server=info)",
            );
        }

        if let Err(e) = self.policy().validate() {
            let key = match e.field {
                "captcha_ttl" => "captcha.ttl_secs",
                "sms_ttl" => "sms.ttl_secs",
                "sms_interval" => "sms.interval_secs",
                "max_attempts" => "sms.max_attempts",
                other => other,
            };
            return bad(key, e.reason);
        }
        Ok(())
    }

    /// TTLs and limits for `verify`.
    pub fn policy(&self) -> Policy {
        Policy {
            captcha_ttl: Duration::from_secs(self.captcha.ttl_secs),
            sms_ttl: Duration::from_secs(self.sms.ttl_secs),
            sms_interval: Duration::from_secs(self.sms.interval_secs),
            sms_daily_cap: self.sms.daily_cap,
            sms_per_ip_per_hour: self.limits.sms_per_ip_per_hour,
            sms_global_per_hour: self.sms.global_per_hour,
            image_codes_per_ip_per_minute: self.limits.image_codes_per_ip_per_minute,
            max_attempts: self.sms.max_attempts,
        }
    }

    /// Captcha rendering parameters.
    pub fn renderer_params(&self) -> Params {
        let c = &self.captcha;
        Params {
            width: c.width,
            height: c.height,
            length: c.length,
            alphabet: self.alphabet().to_owned(),
            format: match c.format {
                ImageFormat::Png => Format::Png,
                ImageFormat::Jpeg => Format::Jpeg {
                    quality: c.jpeg_quality,
                },
            },
            // Checked by `validate`; a bad colour here falls back to black.
            background: parse_colour(&c.background).unwrap_or_default(),
            ink: c
                .ink
                .iter()
                .map(|i| parse_colour(i).unwrap_or_default())
                .collect(),
            noise: c.noise,
        }
    }

    /// `captcha.alphabet`, or the renderer's own when empty.
    pub fn alphabet(&self) -> &str {
        match self.captcha.alphabet.as_str() {
            "" => captcha_render::DEFAULT_ALPHABET,
            set => set,
        }
    }

    /// Settings of the memory store.
    pub fn memory_config(&self) -> MemoryConfig {
        MemoryConfig {
            max_entries: self.store.memory.max_entries,
            key_prefix: self.store.key_prefix.clone(),
            ..RedisConfig::default()
        }
    }

    /// Settings of the Redis store.
    pub fn redis_config(&self) -> RedisConfig {
        let r = &self.store.redis;
        RedisConfig {
            url: r.url.expose().to_owned(),
            pool_size: r.pool_size,
            connect_timeout_ms: r.connect_timeout_ms,
            wait_timeout_ms: r.wait_timeout_ms,
            command_timeout_ms: r.command_timeout_ms,
            key_prefix: self.store.key_prefix.clone(),
        }
    }

    /// Settings of the webhook SMS sender.
    pub fn webhook_config(&self) -> WebhookConfig {
        let w = &self.sms.webhook;
        let set = |s: &Secret| Some(s.expose().to_owned()).filter(|s| !s.is_empty());
        WebhookConfig {
            url: w.url.clone(),
            secret: set(&w.secret),
            authorization: set(&w.authorization),
            timeout_ms: w.timeout_ms,
            max_retries: w.max_retries,
        }
    }

    /// The trusted proxies, parsed (checked by [`Settings::validate`]).
    pub fn trusted_proxies(&self) -> Vec<IpNet> {
        self.limits
            .trusted_proxies
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect()
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

/// `#rrggbb`.
fn parse_colour(s: &str) -> Option<[u8; 3]> {
    let hex = s
        .strip_prefix('#')
        .filter(|h| h.len() == 6 && h.is_ascii())?;
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

fn existing_dir(dir: &Path, key: &str) -> Result<PathBuf, ConfigError> {
    if dir.is_dir() {
        Ok(dir.to_path_buf())
    } else {
        Err(ConfigError::new(key, "not a directory"))
    }
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

// The config crate's messages may quote the value it refused; ours name the
// key and say what was expected, and only quote values of non-secret kinds.
fn from_config_error(e: config::ConfigError) -> ConfigError {
    use config::ConfigError as E;
    match e {
        E::Type { key, expected, .. } => ConfigError::new(
            key.unwrap_or_else(|| "(root)".to_owned()),
            format!("expected {expected}"),
        ),
        E::NotFound(key) => ConfigError::new(key, "missing"),
        E::At { error, key, .. } => {
            let inner = from_config_error(*error);
            let key = match (key, inner.key.as_str()) {
                (Some(k), "" | "(root)") => k,
                (Some(k), inner_key) => format!("{k}.{inner_key}"),
                (None, _) => inner.key,
            };
            ConfigError::new(key, inner.reason)
        }
        E::FileParse { uri, cause } => {
            let first_line = cause.to_string();
            let first_line = first_line.lines().next().unwrap_or("").to_owned();
            ConfigError::new(
                uri.unwrap_or_else(|| "config file".to_owned()),
                format!("not valid TOML ({first_line})"),
            )
        }
        E::Message(m) => {
            // serde's "unknown field `x`, expected ..." is the usual one.
            let reason = m.lines().next().unwrap_or("").to_owned();
            ConfigError::new("", reason)
        }
        other => ConfigError::new("", other.to_string().lines().next().unwrap_or("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::load_from(None, &env(pairs), false)
    }

    #[test]
    fn defaults_parse_and_validate() {
        let s = Settings::defaults();
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.store.backend, Backend::Memory);
        assert_eq!(s.policy(), Policy::default());
        assert_eq!(s.renderer_params(), Params::default());
        assert_eq!(s.server.metrics_addr, "127.0.0.1:9898");
        assert!(s.verify_api.key.is_empty());
    }

    #[test]
    fn environment_overrides_nested_keys() {
        let s = load(&[
            ("PASSPORT__SERVER__PORT", "9000"),
            ("PASSPORT__STORE__BACKEND", "redis"),
            ("PASSPORT__STORE__REDIS__URL", "redis://127.0.0.1:7000"),
            ("PASSPORT__LIMITS__SMS_PER_IP_PER_HOUR", "0"),
            ("PASSPORT__COMPAT__ERRORS_AS_200", "true"),
            ("PASSPORT__LIMITS__TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
            ("PASSPORT__SERVER__METRICS_ADDR", ""),
            ("PASSPORT__VERIFY_API__KEY", "0000111122223333"),
            ("PASSPORT_ENV", ""),
        ])
        .unwrap();
        assert_eq!(s.server.port, 9000);
        assert_eq!(s.store.backend, Backend::Redis);
        assert_eq!(s.store.redis.url.expose(), "redis://127.0.0.1:7000");
        assert_eq!(s.limits.sms_per_ip_per_hour, 0);
        assert!(s.compat.errors_as_200);
        assert_eq!(s.limits.trusted_proxies, ["10.0.0.0/8", "127.0.0.1"]);
        assert_eq!(s.server.metrics_addr, "");
        // Digit-only secrets keep their leading zeros.
        assert_eq!(s.verify_api.key.expose(), "0000111122223333");
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases: &[(&str, &str, &str)] = &[
            ("PASSPORT__CAPTCHA__WIDTH", "5000", "captcha.width"),
            ("PASSPORT__CAPTCHA__WIDTH", "wide", "captcha.width"),
            ("PASSPORT__SERVER__PORT", "70000", "server.port"),
            ("PASSPORT__STORE__BACKEND", "mongo", "store.backend"),
            ("PASSPORT__SMS__SENDER", "pigeon", "sms.sender"),
            ("PASSPORT__SMS__MAX_ATTEMPTS", "0", "sms.max_attempts"),
            ("PASSPORT__SMS__MOBILE_PATTERN", "(", "sms.mobile_pattern"),
            (
                "PASSPORT__LIMITS__TRUSTED_PROXIES",
                "10.0.0.0/99",
                "limits.trusted_proxies",
            ),
            (
                "PASSPORT__CORS__ALLOWED_ORIGINS",
                "*",
                "cors.allowed_origins",
            ),
            (
                "PASSPORT__SERVER__METRICS_ADDR",
                "nowhere",
                "server.metrics_addr",
            ),
            (
                "PASSPORT__MESSAGES__DEFAULT_LANG",
                "fr",
                "messages.default_lang",
            ),
            (
                "PASSPORT__COMPAT__ERRORS_AS_200",
                "maybe",
                "compat.errors_as_200",
            ),
            ("PASSPORT__LOG__LEVEL", "loud!", "log.level"),
            ("PASSPORT__LOG__LEVEL", "info,x=", "log.level"),
            ("PASSPORT__CAPTCHA__ALPHABET", "AA", "captcha.alphabet"),
            ("PASSPORT__SMS__SENDER", "webhook", "sms.webhook.url"),
            (
                "PASSPORT__SMS__WEBHOOK__MAX_RETRIES",
                "9",
                "sms.webhook.max_retries",
            ),
        ];
        for (var, value, key) in cases {
            let err = load(&[(var, value)]).expect_err(var);
            assert!(
                err.to_string().contains(key),
                "{var}={value}: {err} does not name {key}"
            );
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = load(&[("PASSPORT__CAPTCHA__WIDHT", "100")]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("captcha") && text.contains("widht"), "{text}");
    }

    #[test]
    fn secrets_never_appear_in_errors() {
        let err = load(&[
            ("PASSPORT__VERIFY_API__KEY", "short-secret"),
            ("PASSPORT__SERVER__PORT", "80"),
        ])
        .unwrap_err();
        assert!(err.to_string().starts_with("verify_api.key:"));
        assert!(!err.to_string().contains("short-secret"));
        let s = load(&[("PASSPORT__VERIFY_API__KEY", "a-long-enough-secret")]).unwrap();
        assert!(!format!("{s:?}").contains("a-long-enough-secret"));
    }

    #[test]
    fn secret_files_are_read_and_exclusive() {
        let dir = std::env::temp_dir().join(format!("passport-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("key");
        std::fs::write(&file, "from-a-file-0123456789\n").unwrap();
        let path = file.to_str().unwrap();
        let s = load(&[("PASSPORT__VERIFY_API__KEY_FILE", path)]).unwrap();
        assert_eq!(s.verify_api.key.expose(), "from-a-file-0123456789");
        let err = load(&[
            ("PASSPORT__VERIFY_API__KEY_FILE", path),
            ("PASSPORT__VERIFY_API__KEY", "another-key-0123456789"),
        ])
        .unwrap_err();
        assert_eq!(err.key, "verify_api.key_file");
        let err = load(&[("PASSPORT__VERIFY_API__KEY_FILE", "/nonexistent/key")]).unwrap_err();
        assert_eq!(err.key, "verify_api.key_file");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_layer_under_the_environment() {
        let dir = std::env::temp_dir().join(format!("passport-cfg-dir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("default.toml"),
            "[server]\nport = 7001\nworkers = 3\n",
        )
        .unwrap();
        std::fs::write(dir.join("staging.toml"), "[server]\nport = 7002\n").unwrap();
        let s =
            Settings::load_from(Some(&dir), &env(&[("PASSPORT_ENV", "staging")]), false).unwrap();
        assert_eq!((s.server.port, s.server.workers), (7002, 3));
        let s = Settings::load_from(
            Some(&dir),
            &env(&[
                ("PASSPORT_ENV", "staging"),
                ("PASSPORT__SERVER__PORT", "7003"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(s.server.port, 7003);
        std::fs::write(dir.join("default.toml"), "[server]\nport = = 1\n").unwrap();
        let err = Settings::load_from(Some(&dir), &HashMap::new(), false).unwrap_err();
        assert!(err.reason.contains("TOML"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
        let err = Settings::load_from(Some(&dir), &HashMap::new(), false).unwrap_err();
        assert_eq!(err.key, "--config");
    }
}
