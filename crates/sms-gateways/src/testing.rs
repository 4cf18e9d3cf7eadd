//! Stand-in providers (feature `test-util`), for this crate's tests and for
//! any suite that sends through a real gateway configuration: an HTTP/1.1
//! server on `127.0.0.1:0` per provider that re-derives the signature of
//! every request from what came over the wire, checks the fields against
//! the gateway's configuration, and answers with that provider's documented
//! success and error bodies (each cited beside it).
//!
//! ```no_run
//! # #[cfg(feature = "tencent")]
//! # async fn demo(mut config: sms_gateways::tencent::TencentConfig) {
//! use sms_gateways::testing::{self, Provider};
//!
//! // `config` as the sender will use it; the stand-in holds the true key.
//! let provider = Provider::start(testing::tencent(&config)).await;
//! config.endpoint = provider.endpoint();
//! // ... send through a sender built from `config`, then:
//! let sent = provider.sent();
//! # }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use verify::{MobileRule, SendError, SmsCode, SmsMessage, SmsSender};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    /// `POST`.
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// The header `name` (lower case), or `""`.
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).cloned().unwrap_or_default()
    }
}

/// What the provider accepted: the number as it arrived and the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The recipient in the provider's own form (`+8613812345678` ...).
    pub to: String,
    /// The code the message carries.
    pub code: String,
}

/// How the stand-in answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Status and JSON body; nothing accepted.
    Json(u16, String),
    /// Status and JSON body of an accepted message, which is recorded.
    Accepted(u16, String, Sent),
    /// Reads the request and never answers.
    Hang,
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A stand-in provider on `127.0.0.1:0`. It serves until the test's runtime
/// ends.
#[derive(Debug)]
pub struct Provider {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    sent: Arc<Mutex<Vec<Sent>>>,
}

impl Provider {
    /// Binds a free loopback port and answers every request with `handler`.
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (recorded, accepted) = (Arc::clone(&requests), Arc::clone(&sent));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = Log {
                    requests: Arc::clone(&recorded),
                    sent: Arc::clone(&accepted),
                };
                tokio::spawn(serve(stream, log, Arc::clone(&handler)));
            }
        });
        Self {
            addr,
            requests,
            sent,
        }
    }

    /// `http://127.0.0.1:<port>`, the `endpoint` to configure.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.requests).clone()
    }

    /// Every message accepted so far, in order.
    pub fn sent(&self) -> Vec<Sent> {
        lock(&self.sent).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A handler that panicked leaves plain data behind.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct Log {
    requests: Arc<Mutex<Vec<Request>>>,
    sent: Arc<Mutex<Vec<Sent>>>,
}

async fn serve(stream: TcpStream, log: Log, handler: Arc<Handler>) {
    let mut stream = BufReader::new(stream);
    loop {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        let reply = handler(&request);
        lock(&log.requests).push(request);
        let (status, body) = match reply {
            Reply::Json(status, body) => (status, body),
            Reply::Accepted(status, body, sent) => {
                lock(&log.sent).push(sent);
                (status, body)
            }
            Reply::Hang => {
                let mut rest = Vec::new();
                let _ = stream.read_to_end(&mut rest).await;
                return;
            }
        };
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let out = stream.get_mut();
        if out.write_all(head.as_bytes()).await.is_err()
            || out.write_all(body.as_bytes()).await.is_err()
        {
            return;
        }
    }
}

async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        if stream.read_line(&mut header).await.unwrap_or(0) == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
    }
    let len: usize = headers
        .get("content-length")
        .map_or(Some(0), |v| v.parse().ok())?;
    let mut body = vec![0; len];
    stream.read_exact(&mut body).await.ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// The message the sender tests send: `13812345678`, code `042042`,
/// 5 minutes.
pub fn message() -> SmsMessage {
    SmsMessage {
        mobile: MobileRule::default()
            .parse("13812345678")
            .expect("a mainland number"),
        code: SmsCode::parse("042042").expect("six digits"),
        ttl: Duration::from_secs(300),
        id: "7d1f3c52-8a4b-4e61-9f0a-2b3c4d5e6f70".to_owned(),
    }
}

/// Sends [`message`] through `sender`, which must fail, and returns why.
pub async fn send_error(sender: &dyn SmsSender) -> SendError {
    sender
        .send(&message())
        .await
        .expect_err("the send must fail")
}

/// An `endpoint` whose port was bound a moment ago and is closed now.
pub async fn closed_endpoint() -> String {
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port")
        .local_addr()
        .expect("bound address");
    format!("http://{addr}")
}

/// Aliyun `SendSms` (ACS3-HMAC-SHA256), holding `config`'s true AccessKey.
#[cfg(feature = "aliyun")]
pub fn aliyun(config: &crate::aliyun::AliyunConfig) -> impl Fn(&Request) -> Reply + use<> {
    let config = config.clone();
    move |request| {
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((&request.target, ""));
        let pairs: Vec<(&str, String)> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k, percent_decoded(v)))
            .collect();
        if !aliyun_signed(&config, request, query, &pairs) {
            // The OpenAPI error answer's fields (RequestId, Message,
            // Recommend, HostId, Code) with the code and text of a failed
            // signature from the V3 signature page
            // <https://help.aliyun.com/document_detail/2593177.html>; the
            // stored copies at hand show no complete error body, so this
            // one is assembled from those fields, not copied.
            return Reply::Json(
                400,
                r#"{"RequestId":"A7E1C0B4-3C5B-5B7E-8F0A-1E2D3C4B5A69","Message":"Specified signature is not matched with our calculation.","Recommend":"https://api.aliyun.com/troubleshoot","HostId":"dysmsapi.aliyuncs.com","Code":"SignatureDoesNotMatch"}"#.to_owned(),
            );
        }
        aliyun_send(&config, request, path, &pairs)
    }
}

/// Whether `request` carries the ACS3 signature `config`'s secret makes of
/// it, over the query exactly as it was signed.
#[cfg(feature = "aliyun")]
fn aliyun_signed(
    config: &crate::aliyun::AliyunConfig,
    request: &Request,
    query: &str,
    pairs: &[(&str, String)],
) -> bool {
    use crate::aliyun::{Acs3Request, acs3_sign};
    let h = |n: &str| request.header(n);
    let expected = acs3_sign(&Acs3Request {
        access_key_id: &config.access_key_id,
        access_key_secret: config.access_key_secret.expose(),
        method: &request.method,
        host: &h("host"),
        action: &h("x-acs-action"),
        version: &h("x-acs-version"),
        date: &h("x-acs-date"),
        nonce: &h("x-acs-signature-nonce"),
        query: pairs,
        payload: &request.body,
    });
    h("authorization") == expected.authorization && query == expected.canonical_query
}

/// Aliyun's answer to a signed `SendSms`: accepted when its fields are the
/// configured ones and its template parameter holds the code.
#[cfg(feature = "aliyun")]
fn aliyun_send(
    config: &crate::aliyun::AliyunConfig,
    request: &Request,
    path: &str,
    pairs: &[(&str, String)],
) -> Reply {
    let h = |n: &str| request.header(n);
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let param: serde_json::Value =
        serde_json::from_str(&field("TemplateParam")).unwrap_or_default();
    let fields_ok = (request.method.as_str(), path) == ("POST", "/")
        && h("x-acs-action") == "SendSms"
        && h("x-acs-version") == "2017-05-25"
        && field("SignName") == config.sign_name
        && field("TemplateCode") == config.template_code;
    let code = param[config.template_param_name.as_str()]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if !fields_ok || code.is_empty() {
        // `isv.INVALID_PARAMETERS` of the SendSms error code list.
        return Reply::Json(
                200,
                r#"{"Message":"参数异常","RequestId":"2C3D6E2A-92A1-5E4B-9D6A-0C1F2B3A4D5E","Code":"isv.INVALID_PARAMETERS"}"#.to_owned(),
            );
    }
    // The success example of the SendSms reference, "SendSms - 发送短信",
    // <https://help.aliyun.com/document_detail/55284.htm>: Code, Message,
    // BizId, RequestId (the page masks the end of its BizId).
    Reply::Accepted(
            200,
            r#"{"Code":"OK","Message":"OK","BizId":"9006197469364984400","RequestId":"F655A8D5-B967-440B-8683-DAD6FF8DE990"}"#.to_owned(),
            Sent {
                to: field("PhoneNumbers"),
                code,
            },
        )
}

#[cfg(feature = "aliyun")]
fn percent_decoded(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}

/// Tencent Cloud `SendSms` 2021-01-11 (TC3-HMAC-SHA256), holding
/// `config`'s true SecretKey. Refusals come inside HTTP 200, as Tencent
/// sends them.
#[cfg(feature = "tencent")]
pub fn tencent(config: &crate::tencent::TencentConfig) -> impl Fn(&Request) -> Reply + use<> {
    let config = config.clone();
    move |request| {
        if !tencent_signed(&config, request) {
            // The failed-request example of the API 3.0 "Responses" page,
            // <https://www.tencentcloud.com/zh/document/product/382/40469>
            // ("最后更新时间: 2026-02-05" on the stored copy).
            return Reply::Json(
                200,
                r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated. Please check your signature is correct."},"RequestId":"ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"}}"#.to_owned(),
            );
        }
        tencent_send(&config, request)
    }
}

/// Whether `request` carries the TC3 signature `config`'s key makes of it,
/// with the JSON content type that signature covers.
#[cfg(feature = "tencent")]
fn tencent_signed(config: &crate::tencent::TencentConfig, request: &Request) -> bool {
    use crate::tencent::{Tc3Request, tc3_sign};
    let h = |n: &str| request.header(n);
    let expected = tc3_sign(&Tc3Request {
        secret_id: &config.secret_id,
        secret_key: config.secret_key.expose(),
        service: "sms",
        host: &h("host"),
        action: &h("x-tc-action"),
        sign_action: true,
        timestamp: h("x-tc-timestamp").parse().unwrap_or_default(),
        payload: &request.body,
    });
    h("authorization") == expected.authorization
        && h("content-type") == "application/json; charset=utf-8"
}

/// Tencent's answer to a signed `SendSms`: accepted when its fields are the
/// configured ones for one number and the code is where the template wants it.
#[cfg(feature = "tencent")]
fn tencent_send(config: &crate::tencent::TencentConfig, request: &Request) -> Reply {
    let h = |n: &str| request.header(n);
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let code_at = config.template_params.iter().position(|p| p == "{code}");
    let code = code_at
        .and_then(|i| body["TemplateParamSet"][i].as_str())
        .unwrap_or_default()
        .to_owned();
    let to = body["PhoneNumberSet"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let fields_ok = (request.method.as_str(), request.target.as_str()) == ("POST", "/")
        && h("x-tc-action") == "SendSms"
        && h("x-tc-version") == "2021-01-11"
        && h("x-tc-region") == config.region
        && body["SmsSdkAppId"] == config.sdk_app_id.as_str()
        && body["SignName"] == config.sign_name.as_str()
        && body["TemplateId"] == config.template_id.as_str()
        && body["PhoneNumberSet"].as_array().map(Vec::len) == Some(1);
    if !fields_ok || code.is_empty() {
        // `InvalidParameter`, a common error code of API 3.0.
        return Reply::Json(
                200,
                r#"{"Response":{"Error":{"Code":"InvalidParameter","Message":"parameter error"},"RequestId":"0b5b9f3e-6a6c-4b0d-9d7e-2f4e5a6b7c8d"}}"#.to_owned(),
            );
    }
    // The shape of the SendSms reference's example 1,
    // <https://tencentcloud.com/document/api/382/40536> (SMS API
    // 2021-01-11, "Last updated: 2025-11-13"): one SendStatus per
    // number, with SerialNo,
    // PhoneNumber, Fee, SessionContext, Code "Ok", Message, IsoCode; the
    // fields as the SendStatus data type lists them
    // (<https://tencentcloud.com/document/product/382/40473>, "Last
    // updated: 2024-05-20").
    let answer = serde_json::json!({"Response": {
        "SendStatusSet": [{
            "SerialNo": "5000:1045710669157053657849499619",
            "PhoneNumber": to,
            "Fee": 1,
            "SessionContext": body["SessionContext"],
            "Code": "Ok",
            "Message": "send success",
            "IsoCode": "CN",
        }],
        "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
    }});
    Reply::Accepted(200, answer.to_string(), Sent { to, code })
}

/// Yuntongxun / 容联云 `TemplateSMS`, holding `config`'s true auth token.
#[cfg(feature = "yuntongxun")]
pub fn yuntongxun(
    config: &crate::yuntongxun::YuntongxunConfig,
) -> impl Fn(&Request) -> Reply + use<> {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;

    use crate::yuntongxun::credentials;
    let config = config.clone();
    move |request| {
        // Authorization is base64(sid:timestamp); the sig is re-derived from
        // that timestamp and the true token.
        let auth = BASE64
            .decode(request.header("authorization"))
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let (sid, timestamp) = auth.split_once(':').unwrap_or_default();
        let expected = credentials(&config.account_sid, config.auth_token.expose(), timestamp);
        let target = format!(
            "/2013-12-26/Accounts/{}/SMS/TemplateSMS?sig={}",
            config.account_sid, expected.sig
        );
        if sid != config.account_sid || timestamp.len() != 14 || request.target != target {
            // Status code 111109 of the REST error code list, with the
            // `statusCode`/`statusMsg` fields of the TemplateSMS answer
            // (<https://doc.yuntongxun.com/p/5a533de33b8496dd00dce07c>).
            return Reply::Json(
                200,
                r#"{"statusCode":"111109","statusMsg":"请求地址Sig校验失败"}"#.to_owned(),
            );
        }
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let fields_ok = request.method == "POST"
            && body["appId"] == config.app_id.as_str()
            && body["templateId"] == config.template_id.as_str();
        let code = body["datas"][0].as_str().unwrap_or_default().to_owned();
        if !fields_ok || code.is_empty() {
            // 112300 of the same list: a parameter is wrong.
            return Reply::Json(
                200,
                r#"{"statusCode":"112300","statusMsg":"参数错误"}"#.to_owned(),
            );
        }
        // The TemplateSMS success answer of the same page: statusCode
        // "000000" and templateSMS with smsMessageSid and dateCreated.
        Reply::Accepted(
            200,
            r#"{"statusCode":"000000","templateSMS":{"smsMessageSid":"ff8080813c373cab013c94b0f0512345","dateCreated":"20130201155306"}}"#.to_owned(),
            Sent {
                to: body["to"].as_str().unwrap_or_default().to_owned(),
                code,
            },
        )
    }
}

/// Twilio Messages API, holding `config`'s true auth token. The code is the
/// first run of six digits in `Body`.
#[cfg(feature = "twilio")]
pub fn twilio(config: &crate::twilio::TwilioConfig) -> impl Fn(&Request) -> Reply + use<> {
    use crate::twilio::basic_auth;
    let config = config.clone();
    move |request| {
        let path = format!("/2010-04-01/Accounts/{}/Messages.json", config.account_sid);
        if request.header("authorization")
            != basic_auth(&config.account_sid, config.auth_token.expose())
        {
            // Twilio's error answer (code, message, more_info, status) for
            // 20003, <https://www.twilio.com/docs/errors/20003>.
            return Reply::Json(
                401,
                r#"{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}"#.to_owned(),
            );
        }
        let form: HashMap<String, String> = url_form(&request.body);
        let get = |k: &str| form.get(k).cloned().unwrap_or_default();
        let from_ok = get("From") == config.from || get("MessagingServiceSid") == config.from;
        let code = six_digits(&get("Body"));
        if request.method != "POST"
            || request.target != path
            || request.header("content-type") != "application/x-www-form-urlencoded"
            || !from_ok
            || code.is_empty()
        {
            // 21211, "Invalid 'To' Phone Number", stands in for any bad
            // parameter here.
            return Reply::Json(
                400,
                r#"{"code": 21211, "message": "Invalid 'To' Phone Number", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#.to_owned(),
            );
        }
        Reply::Accepted(
            201,
            twilio_message(&config.account_sid, &get),
            Sent {
                to: get("To"),
                code,
            },
        )
    }
}

/// The Message resource Twilio answers an accepted message with (HTTP 201),
/// its properties as the Message resource page lists them,
/// <https://www.twilio.com/docs/messaging/api/message-resource>; `get`
/// reads the request's form.
#[cfg(feature = "twilio")]
fn twilio_message(account_sid: &str, get: &dyn Fn(&str) -> String) -> String {
    serde_json::json!({
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "body": get("Body"),
            "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
            "date_sent": null,
            "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
            "direction": "outbound-api",
            "error_code": null,
            "error_message": null,
            "from": get("From"),
            "messaging_service_sid": null,
            "num_media": "0",
            "num_segments": "1",
            "price": null,
            "price_unit": null,
            "sid": "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "status": "queued",
            "to": get("To"),
            "uri": format!("/2010-04-01/Accounts/{account_sid}/Messages/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json"),
        })
        .to_string()
}

#[cfg(feature = "twilio")]
fn url_form(body: &[u8]) -> HashMap<String, String> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

#[cfg(feature = "twilio")]
fn six_digits(text: &str) -> String {
    text.as_bytes()
        .windows(SmsCode::LEN)
        .enumerate()
        .find(|(i, w)| {
            w.iter().all(u8::is_ascii_digit)
                && !text.as_bytes()[..*i].last().is_some_and(u8::is_ascii_digit)
        })
        .map(|(_, w)| String::from_utf8_lossy(w).into_owned())
        .unwrap_or_default()
}
