//! [`AliyunSender`] (feature `aliyun`): Aliyun SMS, action `SendSms` of
//! version `2017-05-25`, signed with the V3 signature `ACS3-HMAC-SHA256`.
//!
//! One round trip per code: `POST /?PhoneNumbers=...` with the parameters in
//! the query string and an empty body.

use async_trait::async_trait;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use verify::{RefusalKind, SendError, SmsMessage, SmsSender};

use crate::config::{BuildError, default_timeout_ms, required};
use crate::http;
use crate::secret::{Secret, resolve_required};
use crate::sign::{Civil, hex, hmac_sha256, sha256_hex, unix_now};

const ACTION: &str = "SendSms";
const VERSION: &str = "2017-05-25";

/// RFC 3986 encoding as the V3 signature wants it: everything but
/// `A-Z a-z 0-9 - _ . ~` becomes `%XX` (upper-case hex), spaces included.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `[sms.aliyun]`.
// Debug is derived: the secret is a `Secret`, whose Debug redacts it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AliyunConfig {
    /// `access_key_id`.
    pub access_key_id: String,
    /// `access_key_secret`.
    #[serde(default)]
    pub access_key_secret: Secret,
    /// `access_key_secret_file`: a file holding `access_key_secret`.
    #[serde(default)]
    pub access_key_secret_file: String,
    /// `sign_name`: the approved signature (签名).
    pub sign_name: String,
    /// `template_code`: the approved template (`SMS_...`).
    pub template_code: String,
    /// `template_param_name`: the template variable holding the code;
    /// default `code` (`TemplateParam` is `{"code":"123456"}`).
    #[serde(default = "default_param_name")]
    pub template_param_name: String,
    /// `endpoint`: default `https://dysmsapi.aliyuncs.com`.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// `timeout_ms`: time for the one call, 1..=60000; default 3000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_param_name() -> String {
    "code".to_owned()
}

fn default_endpoint() -> String {
    "https://dysmsapi.aliyuncs.com".to_owned()
}

/// Sends codes through Aliyun SMS. Cheap to clone.
#[derive(Clone)]
pub struct AliyunSender {
    client: reqwest::Client,
    url: reqwest::Url,
    host: String,
    secret: Secret,
    config: AliyunConfig,
}

impl std::fmt::Debug for AliyunSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AliyunSender")
            .field("config", &self.config)
            .finish()
    }
}

impl AliyunSender {
    /// Checks `config`, reads its key file and builds the client (no
    /// connection is made).
    pub fn new(config: &AliyunConfig) -> Result<Self, BuildError> {
        required(&config.access_key_id, "sms.aliyun.access_key_id")?;
        let secret = resolve_required(
            &config.access_key_secret,
            &config.access_key_secret_file,
            "sms.aliyun.access_key_secret",
        )?;
        required(&config.sign_name, "sms.aliyun.sign_name")?;
        required(&config.template_code, "sms.aliyun.template_code")?;
        required(
            &config.template_param_name,
            "sms.aliyun.template_param_name",
        )?;
        let (url, client) =
            http::provider_client("sms.aliyun", &config.endpoint, config.timeout_ms)?;
        Ok(Self {
            client,
            host: http::host_header(&url),
            url,
            secret,
            config: config.clone(),
        })
    }

    /// The gateway label for logs and metrics.
    pub fn name(&self) -> &'static str {
        "aliyun"
    }

    async fn attempt(&self, query: &[(&str, String)]) -> Result<(), SendError> {
        // A fresh nonce and date per attempt: Aliyun refuses a reused nonce.
        let nonce = hex(&rand::random::<[u8; 16]>());
        let date = Civil::from_unix(unix_now()).iso8601();
        let signed = acs3_sign(&Acs3Request {
            access_key_id: &self.config.access_key_id,
            access_key_secret: self.secret.expose(),
            method: "POST",
            host: &self.host,
            action: ACTION,
            version: VERSION,
            date: &date,
            nonce: &nonce,
            query,
            payload: b"",
        });
        let mut url = self.url.clone();
        // Set as the already-encoded string, so the query on the wire is
        // byte for byte the one that was signed.
        url.set_query(Some(&signed.canonical_query));
        let request = self
            .client
            .post(url)
            .header("x-acs-action", ACTION)
            .header("x-acs-version", VERSION)
            .header("x-acs-date", &date)
            .header("x-acs-signature-nonce", &nonce)
            .header("x-acs-content-sha256", &signed.content_sha256)
            .header("authorization", signed.authorization);
        http::round_trip(request, outcome).await
    }
}

#[async_trait]
impl SmsSender for AliyunSender {
    async fn send(&self, message: &SmsMessage) -> Result<(), SendError> {
        let param =
            serde_json::json!({ self.config.template_param_name.as_str(): message.code.as_str() });
        let query = [
            ("PhoneNumbers", aliyun_number(message.mobile.as_str())),
            ("SignName", self.config.sign_name.clone()),
            ("TemplateCode", self.config.template_code.clone()),
            ("TemplateParam", param.to_string()),
            ("OutId", message.id.clone()),
        ];
        // `SendSms` has no idempotency key.
        http::with_connect_retries(self.name(), || self.attempt(&query)).await
    }
}

/// Aliyun wants mainland numbers as the bare 11 digits and others as the
/// country code and number without `+` or `00` (SendSms, `PhoneNumbers`:
/// "国际/港澳台消息:国际区号+号码"). An E.164 mainland number is sent as
/// the national digits, so it goes out as domestic SMS.
fn aliyun_number(mobile: &str) -> String {
    match mobile.strip_prefix('+') {
        Some(international) => international
            .strip_prefix("86")
            .unwrap_or(international)
            .to_owned(),
        None => mobile.to_owned(),
    }
}

/// What an ACS3 signature covers; generic over host, action and version so
/// the published example (ECS `RunInstances`) checks the same code.
pub(crate) struct Acs3Request<'a> {
    pub(crate) access_key_id: &'a str,
    pub(crate) access_key_secret: &'a str,
    pub(crate) method: &'a str,
    pub(crate) host: &'a str,
    pub(crate) action: &'a str,
    pub(crate) version: &'a str,
    pub(crate) date: &'a str,
    pub(crate) nonce: &'a str,
    pub(crate) query: &'a [(&'a str, String)],
    pub(crate) payload: &'a [u8],
}

/// The signature and each step before it.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Acs3Signed {
    pub(crate) canonical_query: String,
    pub(crate) content_sha256: String,
    pub(crate) canonical_request: String,
    pub(crate) string_to_sign: String,
    pub(crate) signature: String,
    pub(crate) authorization: String,
}

/// `ACS3-HMAC-SHA256` for a request to path `/`, signing `host` and every
/// `x-acs-*` header sent.
pub(crate) fn acs3_sign(r: &Acs3Request<'_>) -> Acs3Signed {
    let mut pairs: Vec<(String, String)> = r
        .query
        .iter()
        .map(|(k, v)| {
            (
                utf8_percent_encode(k, RFC3986).to_string(),
                utf8_percent_encode(v, RFC3986).to_string(),
            )
        })
        .collect();
    pairs.sort();
    let canonical_query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let content_sha256 = sha256_hex(r.payload);
    // Already in sorted order of the lower-case names.
    let headers = [
        ("host", r.host),
        ("x-acs-action", r.action),
        ("x-acs-content-sha256", content_sha256.as_str()),
        ("x-acs-date", r.date),
        ("x-acs-signature-nonce", r.nonce),
        ("x-acs-version", r.version),
    ];
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let signed_headers = headers.map(|(k, _)| k).join(";");
    let canonical_request = format!(
        "{}\n/\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{content_sha256}",
        r.method
    );
    let string_to_sign = format!(
        "ACS3-HMAC-SHA256\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let signature = hex(&hmac_sha256(
        r.access_key_secret.as_bytes(),
        string_to_sign.as_bytes(),
    ));
    let authorization = format!(
        "ACS3-HMAC-SHA256 Credential={},SignedHeaders={signed_headers},Signature={signature}",
        r.access_key_id
    );
    Acs3Signed {
        canonical_query,
        content_sha256,
        canonical_request,
        string_to_sign,
        signature,
        authorization,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: String,
}

/// Reads Aliyun's answer: `Code` `OK` is success, another `Code` is a
/// refusal (auth failures come with a 4xx), a 5xx, an `isp.` code or an
/// unreadable body may hide an accepted request.
fn outcome(status: u16, body: &[u8]) -> Result<(), SendError> {
    http::server_error(status)?;
    let answer: Answer = http::json_answer(status, body)?;
    match answer.code.as_str() {
        "OK" if status == 200 => Ok(()),
        code if code.starts_with("isp.") => Err(SendError::Other(format!("provider error {code}"))),
        code => Err(refusal(code)),
    }
}

/// Aliyun's documented `SendSms` error codes (SMS "错误码" list and the
/// OpenAPI common errors), mapped to what they mean to us.
fn refusal(code: &str) -> SendError {
    let kind = match code {
        "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "InvalidAccessKeyId.NotFound"
        | "InvalidAccessKeyId.Inactive"
        | "InvalidTimeStamp.Expired"
        | "SignatureNonceUsed"
        | "Forbidden.RAM"
        | "isv.RAM_PERMISSION_DENY" => RefusalKind::Auth,
        "isv.MOBILE_NUMBER_ILLEGAL"
        | "isv.MOBILE_COUNT_OVER_LIMIT"
        | "isv.BLACK_KEY_CONTROL_LIMIT" => RefusalKind::BadNumber,
        "isv.AMOUNT_NOT_ENOUGH"
        | "isv.OUT_OF_SERVICE"
        | "isv.ACCOUNT_NOT_EXISTS"
        | "isv.ACCOUNT_ABNORMAL"
        | "isv.PRODUCT_UN_SUBSCRIPT"
        | "isv.PRODUCT_UNSUBSCRIBE" => RefusalKind::Account,
        "isv.BUSINESS_LIMIT_CONTROL" | "isv.DAY_LIMIT_CONTROL" | "Throttling.User" => {
            RefusalKind::Throttled
        }
        "isv.SMS_SIGNATURE_ILLEGAL"
        | "isv.SMS_SIGNATURE_SCENE_ILLEGAL"
        | "isv.SMS_TEMPLATE_ILLEGAL"
        | "isv.TEMPLATE_MISSING_PARAMETERS"
        | "isv.TEMPLATE_PARAMS_ILLEGAL"
        | "isv.PARAM_LENGTH_LIMIT"
        | "isv.INVALID_JSON_PARAM"
        | "isv.INVALID_PARAMETERS" => RefusalKind::Template,
        _ => RefusalKind::Rejected,
    };
    http::refused(kind, code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, Provider, Reply, Sent, closed_endpoint, message};

    /// Aliyun's V3 signature document ("V3版本请求体&签名机制",
    /// <https://help.aliyun.com/document_detail/2593177.html>, updated
    /// 2025-01-06; the same example is at
    /// <https://help.aliyun.com/zh/resource-management/common-parameters>):
    /// ECS `RunInstances` with AccessKey `YourAccessKeyId` /
    /// `YourAccessKeySecret`, `x-acs-date` 2023-10-26T10:22:32Z, nonce
    /// `3156853299f313e23d1673dc12e1703d`, the query `ImageId=...&RegionId=
    /// cn-shanghai` and an empty body. The page publishes the resulting
    /// `Authorization`, whose signature `06563a9e...83c0` this reproduces
    /// (its request-structure table shows that same header next to
    /// illustrative `x-acs-date`/nonce values of its own; the signature
    /// belongs to the signing example's fixed inputs used here).
    /// The canonical request and string to sign in between were not in the
    /// copy of the page at hand; they were computed independently at dev time
    /// (python3, `hashlib`/`hmac`/`urllib.parse.quote(safe="-_.~")`,
    /// sorted query and headers), and that script's signature equals the
    /// published one.
    #[test]
    fn acs3_reproduces_the_ecs_example() {
        let query = [
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd".to_owned(),
            ),
            ("RegionId", "cn-shanghai".to_owned()),
        ];
        let signed = acs3_sign(&Acs3Request {
            access_key_id: "YourAccessKeyId",
            access_key_secret: "YourAccessKeySecret",
            method: "POST",
            host: "ecs.cn-shanghai.aliyuncs.com",
            action: "RunInstances",
            version: "2014-05-26",
            date: "2023-10-26T10:22:32Z",
            nonce: "3156853299f313e23d1673dc12e1703d",
            query: &query,
            payload: b"",
        });
        assert_eq!(
            signed.canonical_request,
            "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n\
             host:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\n\
             x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
             x-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n\
             x-acs-version:2014-05-26\n\n\
             host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            signed.string_to_sign,
            "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            signed.signature,
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
        assert_eq!(
            signed.authorization,
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,\
             SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
             Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    #[test]
    fn numbers_go_out_as_aliyun_documents_them() {
        assert_eq!(aliyun_number("13812345678"), "13812345678");
        assert_eq!(aliyun_number("+8613812345678"), "13812345678");
        assert_eq!(aliyun_number("+447700900123"), "447700900123");
    }

    #[test]
    fn the_query_is_rfc_3986_encoded() {
        let query = [("TemplateParam", r#"{"code":"042042"} 签"#.to_owned())];
        let signed = acs3_sign(&Acs3Request {
            access_key_id: "a",
            access_key_secret: "b",
            method: "POST",
            host: "h",
            action: "SendSms",
            version: VERSION,
            date: "d",
            nonce: "n",
            query: &query,
            payload: b"",
        });
        assert_eq!(
            signed.canonical_query,
            "TemplateParam=%7B%22code%22%3A%22042042%22%7D%20%E7%AD%BE"
        );
    }

    const SECRET: &str = "aliyun-test-secret";

    fn config(endpoint: String, secret: &str) -> AliyunConfig {
        AliyunConfig {
            access_key_id: "LTAItest".to_owned(),
            access_key_secret: Secret::new(secret),
            access_key_secret_file: String::new(),
            sign_name: "阿里云短信测试".to_owned(),
            template_code: "SMS_154950909".to_owned(),
            template_param_name: default_param_name(),
            endpoint,
            timeout_ms: 500,
        }
    }

    /// The stand-in Aliyun, holding the true secret.
    async fn provider() -> Provider {
        Provider::start(testing::aliyun(&config(String::new(), SECRET))).await
    }

    /// Sends [`message`] through a sender on `endpoint` with `secret`, which
    /// must fail.
    async fn failed_send(endpoint: String, secret: &str) -> SendError {
        testing::send_error(&AliyunSender::new(&config(endpoint, secret)).unwrap()).await
    }

    #[tokio::test]
    async fn sends_a_signed_request_the_provider_accepts() {
        let provider = provider().await;
        let sender = AliyunSender::new(&config(provider.endpoint(), SECRET)).unwrap();
        sender.send(&message()).await.expect("sent");
        assert_eq!(
            provider.sent(),
            [Sent {
                to: "13812345678".to_owned(),
                code: "042042".to_owned()
            }]
        );
        let request = &provider.requests()[0];
        let query = request.target.split_once('?').unwrap().1;
        assert!(
            query.contains("TemplateParam=%7B%22code%22%3A%22042042%22%7D"),
            "{query}"
        );
        assert!(
            query.contains(&format!("OutId={}", message().id)),
            "{query}"
        );
        assert_eq!(sender.name(), "aliyun");
    }

    #[tokio::test]
    async fn a_wrong_secret_is_an_auth_refusal() {
        let provider = provider().await;
        let e = failed_send(provider.endpoint(), "wrong").await;
        assert!(
            matches!(&e, SendError::Refused { kind: RefusalKind::Auth, code } if code == "SignatureDoesNotMatch"),
            "{e:?}"
        );
        assert!(e.definitely_not_sent());
        assert_eq!(provider.requests().len(), 1);
        assert!(provider.sent().is_empty());
    }

    #[tokio::test]
    async fn documented_refusals_and_ambiguous_answers() {
        // `isv.BUSINESS_LIMIT_CONTROL` of the SendSms error code list, in
        // the answer's Code/Message/RequestId fields.
        let provider = Provider::start(|_| {
            Reply::Json(200, r#"{"Message":"触发号码天级流控Permits:10","RequestId":"2184201F-BFB3-446B-B1F2-C746B7BF0657","Code":"isv.BUSINESS_LIMIT_CONTROL"}"#.to_owned())
        })
        .await;
        let e = failed_send(provider.endpoint(), SECRET).await;
        assert_eq!(e.kind(), "throttled");
        assert_eq!(refusal("isv.MOBILE_NUMBER_ILLEGAL").kind(), "bad_number");
        assert_eq!(refusal("isv.AMOUNT_NOT_ENOUGH").kind(), "account");
        assert_eq!(refusal("isv.SOMETHING_NEW").kind(), "rejected");
        let e = outcome(200, br#"{"Code":"isp.SYSTEM_ERROR"}"#).unwrap_err();
        assert!(!e.definitely_not_sent());
        assert!(matches!(outcome(503, b"x"), Err(SendError::Status(503))));
        assert!(matches!(outcome(200, b"x"), Err(SendError::Other(_))));
    }

    #[tokio::test]
    async fn five_hundreds_and_timeouts_are_not_retried() {
        let provider = Provider::start(|_| Reply::Json(500, "{}".to_owned())).await;
        let sender = AliyunSender::new(&config(provider.endpoint(), SECRET)).unwrap();
        let e = sender.send(&message()).await.unwrap_err();
        assert!(matches!(e, SendError::Status(500)) && !e.definitely_not_sent());
        assert_eq!(provider.requests().len(), 1);

        let provider = Provider::start(|_| Reply::Hang).await;
        let sender = AliyunSender::new(&config(provider.endpoint(), SECRET)).unwrap();
        let e = sender.send(&message()).await.unwrap_err();
        assert!(matches!(e, SendError::Timeout), "{e:?}");
        assert_eq!(provider.requests().len(), 1);
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_error() {
        let e = failed_send(closed_endpoint().await, SECRET).await;
        assert!(matches!(e, SendError::Connect(_)) && e.definitely_not_sent());
    }

    #[test]
    fn config_defaults_and_bad_keys() {
        let c: AliyunConfig = serde_json::from_str(
            r#"{"access_key_id": "id", "access_key_secret": "s3c", "sign_name": "s", "template_code": ""}"#,
        )
        .unwrap();
        assert_eq!(c.endpoint, "https://dysmsapi.aliyuncs.com");
        assert_eq!(c.template_param_name, "code");
        let e = AliyunSender::new(&c).unwrap_err();
        assert!(e.to_string().contains("sms.aliyun.template_code"), "{e}");
        assert!(!format!("{c:?}").contains("s3c"));
        let c = AliyunConfig {
            access_key_secret: Secret::default(),
            ..c
        };
        let e = AliyunSender::new(&c).unwrap_err();
        assert!(
            e.to_string().contains("sms.aliyun.access_key_secret"),
            "{e}"
        );
    }
}
