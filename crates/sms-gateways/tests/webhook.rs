//! `WebhookSender` against a real HTTP/1.1 server on loopback, started by
//! each test (the test kit's `FakeGateway`): it records every request and
//! answers from a script.
#![cfg(feature = "webhook")]

use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use passport_testkit::{Answer, FakeGateway};
use sha2::Sha256;
use sms_gateways::Secret;
use sms_gateways::webhook::{WebhookConfig, WebhookSender};
use tokio::net::TcpListener;
use verify::{MobileRule, SendError, SmsCode, SmsMessage, SmsSender};

/// The sender's URL on `gw`.
fn url(gw: &FakeGateway) -> String {
    gw.url("/sms/send?token=t")
}

/// A redirect somewhere the sender must not go.
fn redirect() -> Answer {
    Answer::status(302).header("Location", "http://127.0.0.1:9/elsewhere")
}

fn message() -> SmsMessage {
    SmsMessage {
        mobile: MobileRule::default().parse("13812345678").unwrap(),
        code: SmsCode::parse("042042").unwrap(),
        ttl: Duration::from_secs(300),
        id: "7d1f3c52-8a4b-4e61-9f0a-2b3c4d5e6f70".to_owned(),
    }
}

fn sender(url: String, timeout_ms: u64, max_retries: u32) -> WebhookSender {
    sender_with(url, timeout_ms, max_retries, false)
}

fn sender_with(
    url: String,
    timeout_ms: u64,
    max_retries: u32,
    deduplicates: bool,
) -> WebhookSender {
    WebhookSender::new(&WebhookConfig {
        secret: Secret::new("s3cret"),
        authorization: Secret::new("Bearer gw-token"),
        timeout_ms,
        max_retries,
        deduplicates,
        ..WebhookConfig::new(url)
    })
    .expect("valid webhook config")
}

#[tokio::test]
async fn success_posts_signed_json_with_idempotency_key() {
    let gw = FakeGateway::start(vec![]).await;
    sender(url(&gw), 2_000, 2)
        .send(&message())
        .await
        .expect("sent");
    let requests = gw.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.target, "/sms/send?token=t");
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "mobile": "13812345678",
            "code": "042042",
            "ttl_secs": 300,
            "id": "7d1f3c52-8a4b-4e61-9f0a-2b3c4d5e6f70",
        })
    );
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.headers["idempotency-key"], message().id);
    assert_eq!(r.headers["authorization"], "Bearer gw-token");
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"s3cret").unwrap();
    mac.update(&r.body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(r.headers["x-passport-signature"], format!("sha256={hex}"));
}

#[tokio::test]
async fn no_signature_or_authorization_unless_configured() {
    let gw = FakeGateway::start(vec![]).await;
    let plain = WebhookSender::new(&WebhookConfig::new(url(&gw))).unwrap();
    plain.send(&message()).await.expect("sent");
    let r = &gw.requests()[0];
    assert!(!r.headers.contains_key("x-passport-signature"));
    assert!(!r.headers.contains_key("authorization"));
    assert_eq!(r.headers["idempotency-key"], message().id);
}

#[tokio::test]
async fn server_error_is_not_retried_unless_the_gateway_deduplicates() {
    // A 5xx may come after the gateway accepted the SMS: sending again
    // could deliver it twice.
    let gw = FakeGateway::start(vec![Answer::status(500)]).await;
    let e = sender(url(&gw), 2_000, 2)
        .send(&message())
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Status(500)), "{e:?}");
    assert!(!e.definitely_not_sent());
    assert_eq!(gw.requests().len(), 1, "no retry");
}

#[tokio::test]
async fn server_error_then_success_retries_once_with_the_same_key_when_deduplicated() {
    let gw = FakeGateway::start(vec![Answer::status(500)]).await;
    sender_with(url(&gw), 2_000, 2, true)
        .send(&message())
        .await
        .expect("sent on retry");
    let requests = gw.requests();
    assert_eq!(requests.len(), 2, "exactly one retry");
    assert_eq!(
        requests[0].headers["idempotency-key"],
        requests[1].headers["idempotency-key"]
    );
    assert_eq!(requests[0].body, requests[1].body);
}

#[tokio::test]
async fn server_errors_stop_after_max_retries() {
    let gw = FakeGateway::start(vec![Answer::status(503); 5]).await;
    let e = sender_with(url(&gw), 2_000, 2, true)
        .send(&message())
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Status(503)), "{e:?}");
    assert_eq!(gw.requests().len(), 3, "one try and two retries");
}

#[tokio::test]
async fn client_error_is_not_retried() {
    let gw = FakeGateway::start(vec![Answer::status(422)]).await;
    let e = sender(url(&gw), 2_000, 2)
        .send(&message())
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Status(422)), "{e:?}");
    assert_eq!(gw.requests().len(), 1);
}

#[tokio::test]
async fn redirect_is_not_followed() {
    let gw = FakeGateway::start(vec![redirect()]).await;
    let e = sender(url(&gw), 2_000, 2)
        .send(&message())
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Status(302)), "{e:?}");
    assert_eq!(gw.requests().len(), 1);
}

#[tokio::test]
async fn timeout_fails_within_the_timeout() {
    let gw = FakeGateway::start(vec![Answer::hang()]).await;
    let started = Instant::now();
    let e = sender(url(&gw), 300, 2).send(&message()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(e, SendError::Timeout), "{e:?}");
    assert!(!e.definitely_not_sent());
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1_500), "{elapsed:?}");
    assert_eq!(gw.requests().len(), 1, "a timeout is not retried");
}

#[tokio::test]
async fn timeouts_are_retried_when_deduplicated() {
    let gw = FakeGateway::start(vec![Answer::hang(), Answer::hang()]).await;
    sender_with(url(&gw), 300, 2, true)
        .send(&message())
        .await
        .expect("third attempt answered");
    assert_eq!(gw.requests().len(), 3);
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    // A port that was bound a moment ago and is closed now.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let e = sender(format!("http://{addr}/"), 1_000, 1)
        .send(&message())
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Connect(_)), "{e:?}");
    assert!(e.definitely_not_sent());
}

#[tokio::test]
async fn https_goes_through_rustls_and_fails_closed_on_a_bad_handshake() {
    // A plain-HTTP listener behind an https:// URL: the TLS handshake fails.
    // This also proves the client has a crypto provider without any
    // process-wide default being installed.
    let gw = FakeGateway::start(vec![]).await;
    let url = format!("https://{}/", gw.addr());
    let started = Instant::now();
    let e = sender(url, 2_000, 0).send(&message()).await.unwrap_err();
    assert!(matches!(e, SendError::Connect(_)), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    assert!(
        gw.requests().is_empty(),
        "nothing readable reached the gateway"
    );
}
