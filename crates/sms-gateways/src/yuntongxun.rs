//! [`YuntongxunSender`] (feature `yuntongxun`): Yuntongxun / 容联云
//! template SMS, the provider the seed project used
//! (`CCP().send_template_sms(mobile, [code, minutes], 1)`).
//!
//! One round trip per code: `POST /2013-12-26/Accounts/{account_sid}/SMS/
//! TemplateSMS?sig=<SigParameter>` with `SigParameter` = upper-case hex MD5
//! of `account_sid + auth_token + timestamp` and `Authorization` =
//! base64 of `account_sid:timestamp`, the timestamp `yyyyMMddHHmmss` in
//! Beijing time (UTC+8), as the provider's own SDKs send it.

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};
use serde::Deserialize;
use serde_json::json;
use verify::{RefusalKind, SendError, SmsMessage, SmsSender};

use crate::config::{BuildError, default_timeout_ms, required};
use crate::http;
use crate::secret::{Secret, resolve_required};
use crate::sign::{Civil, hex, unix_now};

/// Beijing time, the clock the provider checks the timestamp against.
const UTC_PLUS_8: i64 = 8 * 3_600;

/// `[sms.yuntongxun]`.
// Debug is derived: the secret is a `Secret`, whose Debug redacts it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct YuntongxunConfig {
    /// `account_sid`: the main account's ACCOUNT SID.
    pub account_sid: String,
    /// `auth_token`: the main account's AUTH TOKEN.
    #[serde(default)]
    pub auth_token: Secret,
    /// `auth_token_file`: a file holding `auth_token`.
    #[serde(default)]
    pub auth_token_file: String,
    /// `app_id`: the application's APP ID.
    pub app_id: String,
    /// `template_id`: the template (`1` is the provider's test template).
    pub template_id: String,
    /// `endpoint`: default `https://app.cloopen.com:8883`.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// `timeout_ms`: time for the one call, 1..=60000; default 3000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_endpoint() -> String {
    "https://app.cloopen.com:8883".to_owned()
}

/// Sends codes through Yuntongxun. Cheap to clone.
#[derive(Clone)]
pub struct YuntongxunSender {
    client: reqwest::Client,
    url: reqwest::Url,
    auth_token: Secret,
    config: YuntongxunConfig,
}

impl std::fmt::Debug for YuntongxunSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YuntongxunSender")
            .field("config", &self.config)
            .finish()
    }
}

impl YuntongxunSender {
    /// Checks `config`, reads its key file and builds the client (no
    /// connection is made).
    pub fn new(config: &YuntongxunConfig) -> Result<Self, BuildError> {
        required(&config.account_sid, "sms.yuntongxun.account_sid")?;
        // It goes into the URL path.
        if !config
            .account_sid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
        {
            return Err(BuildError::invalid(
                "sms.yuntongxun.account_sid",
                "must be letters and digits",
            ));
        }
        let auth_token = resolve_required(
            &config.auth_token,
            &config.auth_token_file,
            "sms.yuntongxun.auth_token",
        )?;
        required(&config.app_id, "sms.yuntongxun.app_id")?;
        required(&config.template_id, "sms.yuntongxun.template_id")?;
        let (url, client) =
            http::provider_client("sms.yuntongxun", &config.endpoint, config.timeout_ms)?;
        Ok(Self {
            client,
            url,
            auth_token,
            config: config.clone(),
        })
    }

    /// The gateway label for logs and metrics.
    pub fn name(&self) -> &'static str {
        "yuntongxun"
    }

    async fn attempt(&self, body: &str) -> Result<(), SendError> {
        let timestamp = Civil::from_unix(unix_now() + UTC_PLUS_8).compact();
        let auth = credentials(
            &self.config.account_sid,
            self.auth_token.expose(),
            &timestamp,
        );
        let mut url = self.url.clone();
        url.set_path(&format!(
            "/2013-12-26/Accounts/{}/SMS/TemplateSMS",
            self.config.account_sid
        ));
        url.set_query(Some(&format!("sig={}", auth.sig)));
        let request = self
            .client
            .post(url)
            .header("accept", "application/json")
            .header("content-type", "application/json;charset=utf-8")
            .header("authorization", auth.authorization)
            .body(body.to_owned());
        http::round_trip(request, outcome).await
    }
}

#[async_trait]
impl SmsSender for YuntongxunSender {
    async fn send(&self, message: &SmsMessage) -> Result<(), SendError> {
        let minutes = http::minutes(message);
        let body = json!({
            "to": yuntongxun_number(message.mobile.as_str()),
            "appId": self.config.app_id,
            "templateId": self.config.template_id,
            "datas": [message.code.as_str(), minutes],
        })
        .to_string();
        // TemplateSMS has no idempotency key.
        http::with_connect_retries(self.name(), || self.attempt(&body)).await
    }
}

/// Mainland numbers as the bare 11 digits (an E.164 `+86` number too);
/// others with the `00` prefix the provider documents for international
/// numbers.
fn yuntongxun_number(mobile: &str) -> String {
    match mobile.strip_prefix('+') {
        Some(rest) => match rest.strip_prefix("86") {
            Some(national) => national.to_owned(),
            None => format!("00{rest}"),
        },
        None => mobile.to_owned(),
    }
}

/// The two values a request carries.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Credentials {
    /// `sig` query parameter.
    pub(crate) sig: String,
    /// `Authorization` header.
    pub(crate) authorization: String,
}

/// The documented formulas: `sig` = upper-case MD5(sid + token + timestamp),
/// `Authorization` = base64(sid + ":" + timestamp).
pub(crate) fn credentials(account_sid: &str, auth_token: &str, timestamp: &str) -> Credentials {
    let digest = Md5::digest(format!("{account_sid}{auth_token}{timestamp}").as_bytes());
    Credentials {
        sig: hex(&digest).to_ascii_uppercase(),
        authorization: BASE64.encode(format!("{account_sid}:{timestamp}")),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    status_code: String,
}

/// `statusCode` `"000000"` is success; another code is a refusal.
fn outcome(status: u16, body: &[u8]) -> Result<(), SendError> {
    http::server_error(status)?;
    let answer: Answer = http::json_answer(status, body)?;
    match answer.status_code.as_str() {
        "000000" => Ok(()),
        // "未知错误": nothing says it was not sent.
        "111000" => Err(SendError::Other("provider unknown error 111000".to_owned())),
        code => Err(refusal(code)),
    }
}

/// Yuntongxun's documented status codes (REST API error code list).
fn refusal(code: &str) -> SendError {
    let kind = match code {
        // 1111xx: the request's account, Authorization or sig is wrong.
        "111100" | "111101" | "111102" | "111103" | "111104" | "111105" | "111106" | "111107"
        | "111108" | "111109" | "111113" | "111115" | "111128" | "111129" | "111141" => {
            RefusalKind::Auth
        }
        "111142" | "111181" | "111212" | "112303" | "112305" => RefusalKind::Account,
        "111111" | "160038" | "160039" | "160040" | "160041" => RefusalKind::Throttled,
        "112300" | "112306" | "160034" | "160042" => RefusalKind::BadNumber,
        "112307" | "112308" | "112309" | "160032" => RefusalKind::Template,
        _ => RefusalKind::Rejected,
    };
    http::refused(kind, code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, Provider, Reply, Sent, closed_endpoint, message};

    /// The documented formulas on fixed inputs. Yuntongxun's REST
    /// documentation for template SMS, <https://doc.yuntongxun.com/p/5a533de33b8496dd00dce07c>
    /// (section 1.3/1.4, as quoted in full at
    /// <https://www.cnblogs.com/tyjs09/p/15684378.html>; page date not shown):
    /// SigParameter = MD5(账户Id + 账户授权令牌 + 时间戳), "yyyyMMddHHmmss",
    /// upper-case; Authorization = Base64(账户Id + ":" + 时间戳), the same
    /// timestamp. The page publishes no worked example with outputs, so the
    /// expected values are python3's, computed at dev time:
    /// `hashlib.md5((sid + tok + ts).encode()).hexdigest().upper()` and
    /// `base64.b64encode((sid + ":" + ts).encode())`.
    #[test]
    fn sig_and_authorization_follow_the_documented_formulas() {
        let c = credentials(
            "8aaf07087f77bf96017f8ab4a1b00a4c",
            "0123456789abcdef0123456789abcdef",
            "20261201223000",
        );
        assert_eq!(c.sig, "A01DCED2AE5062D9E3BCB746DB805962");
        assert_eq!(
            c.authorization,
            "OGFhZjA3MDg3Zjc3YmY5NjAxN2Y4YWI0YTFiMDBhNGM6MjAyNjEyMDEyMjMwMDA="
        );
    }

    const SID: &str = "8aaf07087f77bf96017f8ab4a1b00a4c";
    const TOKEN: &str = "yuntongxun-test-token";

    fn config(endpoint: String, token: &str) -> YuntongxunConfig {
        YuntongxunConfig {
            account_sid: SID.to_owned(),
            auth_token: Secret::new(token),
            auth_token_file: String::new(),
            app_id: "8aaf07087f77bf96017f8ab4a2b30a53".to_owned(),
            template_id: "1".to_owned(),
            endpoint,
            timeout_ms: 500,
        }
    }

    /// The stand-in Yuntongxun, holding the true token.
    async fn provider() -> Provider {
        Provider::start(testing::yuntongxun(&config(String::new(), TOKEN))).await
    }

    /// Sends [`message`] through a sender on `endpoint` with `token`, which
    /// must fail.
    async fn failed_send(endpoint: String, token: &str) -> SendError {
        testing::send_error(&YuntongxunSender::new(&config(endpoint, token)).unwrap()).await
    }

    #[tokio::test]
    async fn sends_what_the_seed_sent() {
        let provider = provider().await;
        let sender = YuntongxunSender::new(&config(provider.endpoint(), TOKEN)).unwrap();
        sender.send(&message()).await.expect("sent");
        assert_eq!(
            provider.sent(),
            [Sent {
                to: "13812345678".to_owned(),
                code: "042042".to_owned()
            }]
        );
        let body: serde_json::Value = serde_json::from_slice(&provider.requests()[0].body).unwrap();
        assert_eq!(
            body,
            json!({"to": "13812345678", "appId": "8aaf07087f77bf96017f8ab4a2b30a53",
                   "templateId": "1", "datas": ["042042", "5"]})
        );
        assert_eq!(sender.name(), "yuntongxun");
    }

    #[tokio::test]
    async fn a_wrong_token_is_an_auth_refusal() {
        let provider = provider().await;
        let e = failed_send(provider.endpoint(), "wrong").await;
        assert!(
            matches!(&e, SendError::Refused { kind: RefusalKind::Auth, code } if code == "111109"),
            "{e:?}"
        );
        assert!(e.definitely_not_sent());
        assert_eq!(provider.requests().len(), 1);
    }

    #[tokio::test]
    async fn codes_timeouts_and_closed_ports() {
        assert_eq!(refusal("160038").kind(), "throttled");
        assert_eq!(refusal("160042").kind(), "bad_number");
        assert_eq!(refusal("111142").kind(), "account");
        assert_eq!(refusal("999999").kind(), "rejected");
        assert!(
            !outcome(200, br#"{"statusCode":"111000"}"#)
                .unwrap_err()
                .definitely_not_sent()
        );
        assert!(matches!(outcome(200, b"<html>"), Err(SendError::Other(_))));
        assert_eq!(yuntongxun_number("+85212345678"), "0085212345678");
        assert_eq!(yuntongxun_number("+8613812345678"), "13812345678");
        assert_eq!(yuntongxun_number("13812345678"), "13812345678");

        let provider = Provider::start(|_| Reply::Hang).await;
        let e = failed_send(provider.endpoint(), TOKEN).await;
        assert!(matches!(e, SendError::Timeout), "{e:?}");
        assert_eq!(provider.requests().len(), 1);

        let e = failed_send(closed_endpoint().await, TOKEN).await;
        assert!(matches!(e, SendError::Connect(_)));
    }

    #[test]
    fn config_defaults_and_bad_keys() {
        let c: YuntongxunConfig = serde_json::from_str(
            r#"{"account_sid": "ab/c", "auth_token": "t0k", "app_id": "a", "template_id": "1"}"#,
        )
        .unwrap();
        assert_eq!(c.endpoint, "https://app.cloopen.com:8883");
        let e = YuntongxunSender::new(&c).unwrap_err();
        assert!(e.to_string().contains("sms.yuntongxun.account_sid"), "{e}");
        assert!(!format!("{c:?}").contains("t0k"));
    }
}
