//! `sms.sender = "webhook"`: the configured gateway gets the code, signed;
//! a gateway refusal is 502/4301.

use std::sync::Arc;

use code_store::{MemoryConfig, MemoryStore, SharedStore};
use passport_server::{Application, Settings};
use sms_gateways::webhook::WebhookConfig;
use sms_gateways::{Secret, SenderKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::helpers::{Answers, code_id, send_raw, test_settings};
use code_store::testing::InstrumentedStore;

/// One request as the gateway saw it.
struct Received {
    head: String,
    body: serde_json::Value,
}

/// A gateway on a free port answering every request with `status`.
async fn gateway(status: u16) -> (u16, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head, body) = loop {
                    let n = stream.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break (head, buf[end + 4..end + 4 + len].to_vec());
                    }
                };
                let _ = tx.send(Received {
                    head,
                    body: serde_json::from_slice(&body).unwrap_or_default(),
                });
                let answer = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (port, rx)
}

async fn app_with_gateway(
    port: u16,
    configure: impl FnOnce(&mut Settings),
) -> (u16, Arc<InstrumentedStore>) {
    let mut settings = test_settings();
    settings.sms.sender = SenderKind::Webhook;
    hook(&mut settings).url = format!("http://127.0.0.1:{port}/sms");
    configure(&mut settings);
    let sender = settings.sms.build().expect("webhook sender");
    let inner: SharedStore = Arc::new(MemoryStore::new(MemoryConfig::default()));
    let store = Arc::new(InstrumentedStore::new(inner));
    let app = Application::build_with(settings, Arc::clone(&store) as SharedStore, sender)
        .await
        .unwrap();
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    (port, store)
}

/// The `[sms.webhook]` table (config/default.toml has one).
fn hook(settings: &mut Settings) -> &mut WebhookConfig {
    settings.sms.webhook.as_mut().expect("[sms.webhook]")
}

async fn ask(port: u16, store: &InstrumentedStore, n: u32) -> crate::helpers::Response {
    let id = code_id(n);
    let image =
        crate::helpers::Request::new(port, "GET", &format!("/passport/image_code?code_id={id}"))
            .send()
            .await;
    assert_eq!(image.status, 200);
    let body = serde_json::json!({"mobile": "13800138000", "image_code": store.answer(&id), "image_code_id": id});
    let req = crate::helpers::Request::new(port, "POST", "/passport/sms_code").json(&body);
    send_raw(port, &req.to_bytes()).await
}

#[tokio::test]
async fn the_gateway_gets_the_code_signed_and_authorised() {
    let (gw, mut received) = gateway(200).await;
    let (port, store) = app_with_gateway(gw, |s| {
        hook(s).secret = Secret::new("signing-secret");
        hook(s).authorization = Secret::new("Bearer gateway-token");
    })
    .await;
    let r = ask(port, &store, 1).await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"));
    let got = received.recv().await.unwrap();
    assert!(got.head.starts_with("post /sms "), "{}", got.head);
    assert!(got.head.contains("authorization: bearer gateway-token"));
    assert!(got.head.contains("x-passport-signature: sha256="));
    assert_eq!(got.body["mobile"], "13800138000");
    let code = got.body["code"].as_str().unwrap();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
}

#[tokio::test]
async fn a_gateway_refusal_is_502_4301() {
    let (gw, mut received) = gateway(400).await;
    let (port, store) = app_with_gateway(gw, |_| {}).await;
    ask(port, &store, 1).await.assert_error(502, "4301");
    assert!(received.recv().await.is_some());
}

#[tokio::test]
async fn a_gateway_that_is_not_there_is_502_4301() {
    let port = passport_testkit::free_port();
    let (app, store) = app_with_gateway(port, |s| {
        hook(s).max_retries = 0;
    })
    .await;
    ask(app, &store, 1).await.assert_error(502, "4301");
}
