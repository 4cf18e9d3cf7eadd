//! [`WebhookSender`] (feature `webhook`): sends each code by POSTing JSON to
//! an HTTP gateway.
//!
//! The request is `POST <url>` with `Content-Type: application/json` and the
//! body `{"mobile": "13812345678", "code": "123456", "ttl_secs": 300, "id":
//! "<uuid>"}`. `id` also goes in an `Idempotency-Key` header: a retried
//! request carries the same key, so a gateway that honours it sends one SMS
//! however often it is asked. When a secret is configured,
//! `X-Passport-Signature: sha256=<hex>` carries the HMAC-SHA256 of the exact
//! body bytes under that secret. Redirects are never followed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::sender::{SendError, SmsMessage, SmsSender};

/// The header carrying the body's HMAC-SHA256 (`sha256=<lower-case hex>`).
pub const SIGNATURE_HEADER: &str = "x-passport-signature";
/// The header carrying [`SmsMessage::id`].
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// First wait before a retry; doubled each time up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Most retries a configuration may ask for: each one holds a user's request.
const MAX_RETRIES_LIMIT: u32 = 5;

/// Settings of a [`WebhookSender`], deserialisable from the service's config.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The gateway's `http://` or `https://` URL.
    pub url: String,
    /// Key of the HMAC-SHA256 signature header over the body; none when unset.
    #[serde(default)]
    pub secret: Option<String>,
    /// Value of an `Authorization` header (`Bearer ...`); none when unset.
    #[serde(default)]
    pub authorization: Option<String>,
    /// Time allowed for one attempt (connect, send, answer), in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Retries after a connect error, a timeout or a 5xx answer (never after
    /// a 4xx); at most 5.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
}

fn default_timeout_ms() -> u64 {
    3_000
}

fn default_max_retries() -> u32 {
    2
}

impl WebhookConfig {
    /// A config for `url` with every other setting at its default.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            secret: None,
            authorization: None,
            timeout_ms: default_timeout_ms(),
            max_retries: default_max_retries(),
        }
    }
}

// Secrets stay out of logs; the URL may carry a token in its query or
// credentials in its authority, so only its scheme and host are shown.
impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = reqwest::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(|h| format!("{}://{h}/...", u.scheme())))
            .unwrap_or_else(|| "<unparsable>".to_owned());
        f.debug_struct("WebhookConfig")
            .field("url", &url)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("timeout_ms", &self.timeout_ms)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

/// A [`WebhookConfig`] that cannot work; names the field.
#[derive(Debug, thiserror::Error)]
pub enum WebhookConfigError {
    /// A field has a value that cannot be used.
    #[error("invalid webhook setting `{field}`: {reason}")]
    Invalid {
        /// The field at fault (`url`, `authorization`, ...).
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The HTTP client could not be built (TLS set-up).
    #[error("webhook http client: {0}")]
    Client(String),
}

/// Sends codes to an HTTP gateway. Cheap to clone (one connection pool).
#[derive(Clone)]
pub struct WebhookSender {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    url: reqwest::Url,
    secret: Option<Vec<u8>>,
    max_retries: u32,
    /// Shown by `Debug` instead of the config's secrets.
    config: WebhookConfig,
}

impl std::fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSender")
            .field("config", &self.inner.config)
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
    /// Checks `config` and builds the HTTP client (no connection is made).
    pub fn new(config: WebhookConfig) -> Result<Self, WebhookConfigError> {
        let invalid = |field, reason| WebhookConfigError::Invalid { field, reason };
        let url = reqwest::Url::parse(&config.url).map_err(|_| invalid("url", "not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid(
                "url",
                "must be an http:// or https:// URL with a host",
            ));
        }
        if config.timeout_ms == 0 {
            return Err(invalid("timeout_ms", "must be greater than 0"));
        }
        if config.max_retries > MAX_RETRIES_LIMIT {
            return Err(invalid("max_retries", "must be at most 5"));
        }
        let secret = match &config.secret {
            Some(s) if s.is_empty() => return Err(invalid("secret", "must not be empty")),
            Some(s) => Some(s.as_bytes().to_vec()),
            None => None,
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(auth) = &config.authorization {
            let mut value = HeaderValue::from_str(auth)
                .map_err(|_| invalid("authorization", "not a valid header value"))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let timeout = Duration::from_millis(config.timeout_ms);
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config()?)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()
            .map_err(|e| WebhookConfigError::Client(e.without_url().to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                url,
                secret,
                max_retries: config.max_retries,
                config,
            }),
        })
    }

    /// One POST; the error says whether another attempt may help.
    async fn attempt(&self, body: &[u8], headers: &HeaderMap) -> Result<(), Attempt> {
        let response = self
            .inner
            .client
            .post(self.inner.url.clone())
            .headers(headers.clone())
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    Attempt::Retry(SendError::Timeout)
                } else if e.is_connect() {
                    Attempt::Retry(SendError::Connect(e.without_url().to_string()))
                } else {
                    Attempt::Fail(SendError::Other(e.without_url().to_string()))
                }
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() {
            Err(Attempt::Retry(SendError::Status(status.as_u16())))
        } else {
            // 4xx (and 3xx, as redirects are not followed): the request
            // itself is wrong; sending it again will not help.
            Err(Attempt::Fail(SendError::Status(status.as_u16())))
        }
    }
}

enum Attempt {
    Retry(SendError),
    Fail(SendError),
}

/// `sha256=<hex>` of the body under `secret`.
fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("hmac accepts any key length"));
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 2 * digest.len());
    out.push_str("sha256=");
    for byte in digest.iter() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// rustls with the ring provider and the platform's roots, given to reqwest
/// ready-made: no process-wide default provider is installed, so a host
/// application stays free to install its own.
fn tls_config() -> Result<rustls::ClientConfig, WebhookConfigError> {
    let client_error = |e: rustls::Error| WebhookConfigError::Client(e.to_string());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new(Arc::clone(&provider)).map_err(client_error)?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(client_error)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
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
        .map_err(|e| SendError::Other(e.to_string()))?;
        let mut headers = HeaderMap::new();
        let id = HeaderValue::from_str(&message.id)
            .map_err(|_| SendError::Other("idempotency key is not a header value".to_owned()))?;
        headers.insert(HeaderName::from_static(IDEMPOTENCY_HEADER), id);
        if let Some(secret) = &self.inner.secret {
            let value = HeaderValue::from_str(&signature(secret, &body))
                .unwrap_or_else(|_| unreachable!("hex is a valid header value"));
            headers.insert(HeaderName::from_static(SIGNATURE_HEADER), value);
        }

        let mut backoff = FIRST_BACKOFF;
        let mut retries_left = self.inner.max_retries;
        loop {
            match self.attempt(&body, &headers).await {
                Ok(()) => return Ok(()),
                Err(Attempt::Fail(error)) => return Err(error),
                Err(Attempt::Retry(error)) if retries_left == 0 => return Err(error),
                Err(Attempt::Retry(error)) => {
                    tracing::warn!(
                        mobile = %message.mobile.masked(),
                        %error,
                        retries_left,
                        "sms gateway attempt failed; retrying"
                    );
                    retries_left -= 1;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_rfc_4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn config_is_checked() {
        let field = |c: WebhookConfig| match WebhookSender::new(c) {
            Err(WebhookConfigError::Invalid { field, .. }) => field,
            other => panic!("expected an invalid field, got {other:?}"),
        };
        assert_eq!(field(WebhookConfig::new("ftp://x/")), "url");
        assert_eq!(field(WebhookConfig::new("not a url")), "url");
        let c = WebhookConfig::new("http://127.0.0.1:9/");
        assert_eq!(
            field(WebhookConfig {
                timeout_ms: 0,
                ..c.clone()
            }),
            "timeout_ms"
        );
        assert_eq!(
            field(WebhookConfig {
                max_retries: 9,
                ..c.clone()
            }),
            "max_retries"
        );
        let bad_auth = WebhookConfig {
            authorization: Some("Bearer x\r\nX-Evil: 1".to_owned()),
            ..c.clone()
        };
        assert_eq!(field(bad_auth), "authorization");
        assert!(WebhookSender::new(c).is_ok());
    }

    #[test]
    fn config_deserialises_with_defaults_and_hides_secrets() {
        let c: WebhookConfig = serde_json::from_str(
            r#"{"url": "https://sms.example/send?token=t0p", "secret": "s3cret"}"#,
        )
        .unwrap();
        assert_eq!(c.timeout_ms, 3_000);
        assert_eq!(c.max_retries, 2);
        assert_eq!(c.authorization, None);
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("t0p"),
            "{shown}"
        );
        assert!(serde_json::from_str::<WebhookConfig>(r#"{"url": "x", "typo": 1}"#).is_err());
    }
}
