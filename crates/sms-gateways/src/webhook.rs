//! [`WebhookSender`] (feature `webhook`): sends each code by POSTing JSON to
//! an HTTP gateway of one's own.
//!
//! The request is `POST <url>` with `Content-Type: application/json` and the
//! body `{"mobile": "13812345678", "code": "123456", "ttl_secs": 300, "id":
//! "<uuid>"}`. `id` also goes in an `Idempotency-Key` header. When a secret
//! is configured, `X-Passport-Signature: sha256=<hex>` carries the
//! HMAC-SHA256 of the exact body bytes under that secret. Redirects are never
//! followed.
//!
//! Retries: a connect error (no byte of the request written) is retried up
//! to `max_retries` times. A timeout or a 5xx may mean the gateway accepted
//! the SMS, so it is retried only when `deduplicates = true` says the gateway
//! sends once per `Idempotency-Key`.

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use verify::{SendError, SmsMessage, SmsSender};

use crate::config::{BuildError, default_timeout_ms};
use crate::http;
use crate::secret::{Secret, resolve};
use crate::sign::{hex, hmac_sha256};

/// The header carrying the body's HMAC-SHA256 (`sha256=<lower-case hex>`).
pub const SIGNATURE_HEADER: &str = "x-passport-signature";
/// The header carrying [`SmsMessage::id`].
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// `[sms.webhook]`: the keys of today's `config/default.toml`, plus
/// `deduplicates`. Empty strings mean unset.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `url`: the gateway's `http://` or `https://` URL (a path and query are
    /// allowed here: the gateway is one's own).
    pub url: String,
    /// `secret`: key of the HMAC-SHA256 signature header over the body.
    #[serde(default)]
    pub secret: Secret,
    /// `secret_file`: a file holding `secret`.
    #[serde(default)]
    pub secret_file: String,
    /// `authorization`: value of an `Authorization` header (`Bearer ...`).
    #[serde(default)]
    pub authorization: Secret,
    /// `authorization_file`: a file holding `authorization`.
    #[serde(default)]
    pub authorization_file: String,
    /// `timeout_ms`: time allowed for one attempt, 1..=60000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// `max_retries`: retries after a connect error (and, with
    /// `deduplicates`, after a timeout or a 5xx), 0..=5.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// `deduplicates`: the gateway sends once per `Idempotency-Key`, so a
    /// timeout or a 5xx may be retried too.
    #[serde(default)]
    pub deduplicates: bool,
}

fn default_max_retries() -> u32 {
    2
}

impl WebhookConfig {
    /// A config for `url` with every other setting at its default.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            secret: Secret::default(),
            secret_file: String::new(),
            authorization: Secret::default(),
            authorization_file: String::new(),
            timeout_ms: default_timeout_ms(),
            max_retries: default_max_retries(),
            deduplicates: false,
        }
    }
}

// The URL may carry a token in its query or credentials in its authority, so
// only its scheme and host are shown.
impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = reqwest::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(|h| format!("{}://{h}/...", u.scheme())))
            .unwrap_or_else(|| "<unparsable>".to_owned());
        f.debug_struct("WebhookConfig")
            .field("url", &url)
            .field("secret", &self.secret)
            .field("secret_file", &self.secret_file)
            .field("authorization", &self.authorization)
            .field("authorization_file", &self.authorization_file)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("deduplicates", &self.deduplicates)
            .finish()
    }
}

/// Sends codes to an HTTP gateway. Cheap to clone (one connection pool).
#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    url: reqwest::Url,
    /// `Content-Type` and `Authorization`, the same on every request.
    headers: HeaderMap,
    secret: Option<Secret>,
    max_retries: u32,
    deduplicates: bool,
    /// Shown by `Debug`; its own `Debug` hides the secrets.
    config: WebhookConfig,
}

impl std::fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSender")
            .field("config", &self.config)
            .finish()
    }
}

#[derive(Serialize)]
struct Body<'a> {
    mobile: &'a str,
    code: &'a str,
    ttl_secs: u64,
    id: &'a str,
}

impl WebhookSender {
    /// Checks `config`, reads its key files and builds the HTTP client (no
    /// connection is made).
    pub fn new(config: &WebhookConfig) -> Result<Self, BuildError> {
        let url = reqwest::Url::parse(&config.url)
            .map_err(|_| BuildError::invalid("sms.webhook.url", "not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(BuildError::invalid(
                "sms.webhook.url",
                "must be an http:// or https:// URL with a host",
            ));
        }
        let timeout = http::timeout(config.timeout_ms, "sms.webhook.timeout_ms")?;
        if config.max_retries > http::MAX_RETRIES_LIMIT {
            return Err(BuildError::invalid(
                "sms.webhook.max_retries",
                "must be 0..=5",
            ));
        }
        let secret = resolve(
            &config.secret,
            &config.secret_file,
            "sms.webhook.secret",
            false,
        )?;
        let authorization = resolve(
            &config.authorization,
            &config.authorization_file,
            "sms.webhook.authorization",
            false,
        )?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(auth) = &authorization {
            let mut value = HeaderValue::from_str(auth.expose()).map_err(|_| {
                BuildError::invalid("sms.webhook.authorization", "not a valid header value")
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        Ok(Self {
            client: http::client(timeout)?,
            url,
            headers,
            secret,
            max_retries: config.max_retries,
            deduplicates: config.deduplicates,
            config: config.clone(),
        })
    }

    /// The gateway label for logs and metrics.
    pub fn name(&self) -> &'static str {
        "webhook"
    }

    /// One POST.
    async fn attempt(&self, body: &[u8], headers: &HeaderMap) -> Result<(), SendError> {
        let request = self
            .client
            .post(self.url.clone())
            .headers(headers.clone())
            .body(body.to_vec());
        // 4xx: a refusal (not sent); 3xx: a redirect, not followed, so
        // not sent either; 5xx: may have been accepted.
        http::round_trip(request, |status, _| http::by_status(status)).await
    }
}

/// `sha256=<hex>` of the body under `secret`.
fn signature(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex(&hmac_sha256(secret, body)))
}

#[async_trait]
impl SmsSender for WebhookSender {
    async fn send(&self, message: &SmsMessage) -> Result<(), SendError> {
        let body = serde_json::to_vec(&Body {
            mobile: message.mobile.as_str(),
            code: message.code.as_str(),
            ttl_secs: message.ttl.as_secs(),
            id: &message.id,
        })
        .map_err(|e| SendError::NotSent(e.to_string()))?;
        let mut headers = self.headers.clone();
        let id = HeaderValue::from_str(&message.id)
            .map_err(|_| SendError::NotSent("idempotency key is not a header value".to_owned()))?;
        headers.insert(HeaderName::from_static(IDEMPOTENCY_HEADER), id);
        if let Some(secret) = &self.secret {
            let value = HeaderValue::from_str(&signature(secret.expose().as_bytes(), &body))
                .unwrap_or_else(|_| unreachable!("hex is a valid header value"));
            headers.insert(HeaderName::from_static(SIGNATURE_HEADER), value);
        }
        http::with_retries(self.max_retries, self.deduplicates, self.name(), || {
            self.attempt(&body, &headers)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_rfc_4231_case_2() {
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn config_is_checked() {
        let key = |c: WebhookConfig| match WebhookSender::new(&c) {
            Err(BuildError::Invalid { key, .. }) => key,
            other => panic!("expected an invalid key, got {other:?}"),
        };
        assert_eq!(key(WebhookConfig::new("ftp://x/")), "sms.webhook.url");
        assert_eq!(key(WebhookConfig::new("not a url")), "sms.webhook.url");
        let c = WebhookConfig::new("http://127.0.0.1:9/");
        let with = |f: fn(&mut WebhookConfig)| {
            let mut c = c.clone();
            f(&mut c);
            c
        };
        assert_eq!(key(with(|c| c.timeout_ms = 0)), "sms.webhook.timeout_ms");
        assert_eq!(key(with(|c| c.max_retries = 9)), "sms.webhook.max_retries");
        assert_eq!(
            key(with(
                |c| c.authorization = Secret::new("Bearer x\r\nX-Evil: 1")
            )),
            "sms.webhook.authorization"
        );
        assert_eq!(
            key(with(|c| {
                c.secret = Secret::new("a");
                c.secret_file = "/x".to_owned();
            })),
            "sms.webhook.secret_file"
        );
        assert!(WebhookSender::new(&c).is_ok());
    }

    #[test]
    fn todays_keys_deserialise_with_defaults_and_secrets_stay_hidden() {
        // The `[sms.webhook]` table of `config/default.toml`, with values.
        let c: WebhookConfig = serde_json::from_str(
            r#"{"url": "https://sms.example/send?token=t0p", "secret": "s3cret",
                "secret_file": "", "authorization": "", "authorization_file": "",
                "timeout_ms": 3000, "max_retries": 2}"#,
        )
        .unwrap();
        assert!(!c.deduplicates);
        assert!(c.authorization.is_empty());
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("t0p"),
            "{shown}"
        );
        let sender = WebhookSender::new(&c).unwrap();
        let shown = format!("{sender:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("t0p"),
            "{shown}"
        );
        assert!(serde_json::from_str::<WebhookConfig>(r#"{"url": "x", "typo": 1}"#).is_err());
    }
}
