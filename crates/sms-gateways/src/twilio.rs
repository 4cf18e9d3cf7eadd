//! [`TwilioSender`] (feature `twilio`): Twilio's Messages API.
//!
//! One round trip per code: `POST /2010-04-01/Accounts/{sid}/Messages.json`
//! with HTTP basic auth (account SID and auth token) and the form body
//! `To`, `From`, `Body`.

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use verify::{RefusalKind, SendError, SmsMessage, SmsSender};

use crate::config::{BuildError, default_timeout_ms, required};
use crate::http;
use crate::secret::{Secret, resolve_required};

/// `application/x-www-form-urlencoded` keeps `* - . _` and alphanumerics;
/// a space becomes `%20` here, which every form decoder reads as well as `+`.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// `[sms.twilio]`.
// Debug is derived: the secret is a `Secret`, whose Debug redacts it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    /// `account_sid`: `AC...`.
    pub account_sid: String,
    /// `auth_token`.
    #[serde(default)]
    pub auth_token: Secret,
    /// `auth_token_file`: a file holding `auth_token`.
    #[serde(default)]
    pub auth_token_file: String,
    /// `from`: the sending number (E.164) or a Messaging Service SID.
    pub from: String,
    /// `body_template`: the text, with `{code}` and `{minutes}` replaced.
    #[serde(default = "default_body_template")]
    pub body_template: String,
    /// `endpoint`: default `https://api.twilio.com`.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// `timeout_ms`: time for the one call, 1..=60000; default 3000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_body_template() -> String {
    "Your verification code is {code}. It expires in {minutes} minutes.".to_owned()
}

fn default_endpoint() -> String {
    "https://api.twilio.com".to_owned()
}

/// Sends codes through Twilio. Cheap to clone.
#[derive(Clone)]
pub struct TwilioSender {
    client: reqwest::Client,
    url: reqwest::Url,
    /// `Basic ...`, built once.
    authorization: Secret,
    config: TwilioConfig,
}

impl std::fmt::Debug for TwilioSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSender")
            .field("config", &self.config)
            .finish()
    }
}

impl TwilioSender {
    /// Checks `config`, reads its key file and builds the client (no
    /// connection is made).
    pub fn new(config: &TwilioConfig) -> Result<Self, BuildError> {
        required(&config.account_sid, "sms.twilio.account_sid")?;
        if !config.account_sid.starts_with("AC")
            || !config
                .account_sid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric())
        {
            return Err(BuildError::invalid(
                "sms.twilio.account_sid",
                "must be the account SID, AC followed by letters and digits",
            ));
        }
        let token = resolve_required(
            &config.auth_token,
            &config.auth_token_file,
            "sms.twilio.auth_token",
        )?;
        required(&config.from, "sms.twilio.from")?;
        if !config.body_template.contains("{code}") {
            return Err(BuildError::invalid(
                "sms.twilio.body_template",
                "must contain {code}",
            ));
        }
        let (mut url, client) =
            http::provider_client("sms.twilio", &config.endpoint, config.timeout_ms)?;
        url.set_path(&format!(
            "/2010-04-01/Accounts/{}/Messages.json",
            config.account_sid
        ));
        Ok(Self {
            client,
            url,
            authorization: Secret::new(basic_auth(&config.account_sid, token.expose())),
            config: config.clone(),
        })
    }

    /// The gateway label for logs and metrics.
    pub fn name(&self) -> &'static str {
        "twilio"
    }

    async fn attempt(&self, body: &str) -> Result<(), SendError> {
        let mut auth = reqwest::header::HeaderValue::from_str(self.authorization.expose())
            .map_err(|_| SendError::NotSent("auth token is not a header value".to_owned()))?;
        auth.set_sensitive(true);
        let request = self
            .client
            .post(self.url.clone())
            .header("authorization", auth)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        http::round_trip(request, outcome).await
    }
}

#[async_trait]
impl SmsSender for TwilioSender {
    async fn send(&self, message: &SmsMessage) -> Result<(), SendError> {
        let minutes = http::minutes(message);
        let text = self
            .config
            .body_template
            .replace("{code}", message.code.as_str())
            .replace("{minutes}", &minutes);
        // A Messaging Service SID goes in its own field; Twilio then picks
        // the sending number from the service's pool.
        let from_field = if self.config.from.starts_with("MG") {
            "MessagingServiceSid"
        } else {
            "From"
        };
        let body = form(&[
            ("To", &http::e164(message.mobile.as_str())),
            (from_field, &self.config.from),
            ("Body", &text),
        ]);
        // The Messages API has no idempotency key.
        http::with_connect_retries(self.name(), || self.attempt(&body)).await
    }
}

/// `Basic base64(sid:token)` (RFC 7617).
pub(crate) fn basic_auth(account_sid: &str, auth_token: &str) -> String {
    format!(
        "Basic {}",
        BASE64.encode(format!("{account_sid}:{auth_token}"))
    )
}

/// A form-encoded body of `pairs`, in order.
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, FORM),
                utf8_percent_encode(v, FORM)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Deserialize)]
struct ErrorBody {
    code: u32,
}

/// 2xx is accepted; a 4xx with Twilio's error `code` is a refusal; a 5xx or
/// an unreadable answer may hide an accepted message.
fn outcome(status: u16, body: &[u8]) -> Result<(), SendError> {
    if !(400..500).contains(&status) {
        return http::by_status(status);
    }
    let error: ErrorBody = http::json_answer(status, body)?;
    Err(refusal(error.code))
}

/// Twilio's documented error codes (Error and Warning Dictionary).
fn refusal(code: u32) -> SendError {
    let kind = match code {
        20003 | 20008 => RefusalKind::Auth,
        20005 | 21408 | 21606 | 21612 | 30002 => RefusalKind::Account,
        14107 | 20429 | 30022 => RefusalKind::Throttled,
        21211 | 21214 | 21610 | 21614 | 21217 => RefusalKind::BadNumber,
        21602 | 21617 | 30007 => RefusalKind::Template,
        _ => RefusalKind::Rejected,
    };
    http::refused(kind, code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, Provider, Reply, Sent, closed_endpoint, message};

    /// Twilio authenticates with HTTP Basic auth, the Account SID as user
    /// name and the Auth Token as password
    /// (<https://www.twilio.com/docs/errors/20003>), and takes `To`, `From`
    /// and `Body` form-encoded (<https://www.twilio.com/docs/messaging/api/message-resource>).
    /// RFC 7617 basic auth and the form body on fixed inputs; expected
    /// value from python3 at dev time:
    /// `base64.b64encode(b"ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:your_auth_token")`.
    #[test]
    fn basic_auth_and_form_body() {
        assert_eq!(
            basic_auth("ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "your_auth_token"),
            "Basic QUNYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWDp5b3VyX2F1dGhfdG9rZW4="
        );
        assert_eq!(
            form(&[
                ("To", "+8613812345678"),
                ("From", "+15005550006"),
                ("Body", "Code 042042, 5 min & 验")
            ]),
            "To=%2B8613812345678&From=%2B15005550006&Body=Code%20042042%2C%205%20min%20%26%20%E9%AA%8C"
        );
    }

    const SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const TOKEN: &str = "twilio-test-token";

    fn config(endpoint: String, token: &str) -> TwilioConfig {
        TwilioConfig {
            account_sid: SID.to_owned(),
            auth_token: Secret::new(token),
            auth_token_file: String::new(),
            from: "+15005550006".to_owned(),
            body_template: "Code {code}, valid {minutes} min".to_owned(),
            endpoint,
            timeout_ms: 500,
        }
    }

    /// The stand-in Twilio, holding the true token.
    async fn provider() -> Provider {
        Provider::start(testing::twilio(&config(String::new(), TOKEN))).await
    }

    /// Sends [`message`] through a sender on `endpoint` with `token`, which
    /// must fail.
    async fn failed_send(endpoint: String, token: &str) -> SendError {
        testing::send_error(&TwilioSender::new(&config(endpoint, token)).unwrap()).await
    }

    #[tokio::test]
    async fn sends_a_form_with_basic_auth() {
        let provider = provider().await;
        let sender = TwilioSender::new(&config(provider.endpoint(), TOKEN)).unwrap();
        sender.send(&message()).await.expect("sent");
        assert_eq!(
            provider.sent(),
            [Sent {
                to: "+8613812345678".to_owned(),
                code: "042042".to_owned()
            }]
        );
        assert_eq!(
            std::str::from_utf8(&provider.requests()[0].body).unwrap(),
            "To=%2B8613812345678&From=%2B15005550006&Body=Code%20042042%2C%20valid%205%20min"
        );
        assert_eq!(sender.name(), "twilio");
        assert!(!format!("{sender:?}").contains(TOKEN));
    }

    #[tokio::test]
    async fn a_wrong_token_is_an_auth_refusal() {
        let provider = provider().await;
        let e = failed_send(provider.endpoint(), "wrong").await;
        assert!(
            matches!(&e, SendError::Refused { kind: RefusalKind::Auth, code } if code == "20003"),
            "{e:?}"
        );
        assert!(e.definitely_not_sent());
    }

    #[tokio::test]
    async fn codes_server_errors_and_closed_ports() {
        assert_eq!(refusal(21211).kind(), "bad_number");
        assert_eq!(refusal(20429).kind(), "throttled");
        assert_eq!(refusal(12345).kind(), "rejected");
        let provider = Provider::start(|_| Reply::Json(503, "{}".to_owned())).await;
        let e = failed_send(provider.endpoint(), TOKEN).await;
        assert!(matches!(e, SendError::Status(503)) && !e.definitely_not_sent());
        assert_eq!(provider.requests().len(), 1, "a 5xx is not retried");
        let e = failed_send(closed_endpoint().await, TOKEN).await;
        assert!(matches!(e, SendError::Connect(_)));
    }

    #[test]
    fn config_names_the_bad_key() {
        let c = config("https://api.twilio.com".to_owned(), TOKEN);
        let bad = TwilioConfig {
            body_template: "no code".to_owned(),
            ..c.clone()
        };
        let e = TwilioSender::new(&bad).unwrap_err();
        assert!(e.to_string().contains("sms.twilio.body_template"), "{e}");
        let bad = TwilioConfig {
            account_sid: "XX1".to_owned(),
            ..c
        };
        let e = TwilioSender::new(&bad).unwrap_err();
        assert!(e.to_string().contains("sms.twilio.account_sid"), "{e}");
    }
}
