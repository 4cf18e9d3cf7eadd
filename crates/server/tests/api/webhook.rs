//! `sms.sender = "webhook"`: the configured gateway gets the code, signed;
//! a gateway refusal is 502/4301.

use std::sync::Arc;

use code_store::{MemoryConfig, MemoryStore, SharedStore};
use passport_server::{Application, Settings};
use passport_testkit::{Answer, FakeGateway};
use sms_gateways::webhook::WebhookConfig;
use sms_gateways::{Secret, SenderKind};

use crate::helpers::{Answers, code_id, send_raw, test_settings};
use code_store::testing::InstrumentedStore;

/// A gateway on a free port answering every request with `status`.
async fn gateway(status: u16) -> FakeGateway {
    FakeGateway::answering(move |_| Answer::status(status)).await
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
    let gw = gateway(200).await;
    let (port, store) = app_with_gateway(gw.port(), |s| {
        hook(s).secret = Secret::new("signing-secret");
        hook(s).authorization = Secret::new("Bearer gateway-token");
    })
    .await;
    let r = ask(port, &store, 1).await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"));
    // The gateway records a request before it answers, and the server
    // answers only after the gateway has.
    let got = gw.requests().into_iter().next().unwrap();
    assert!(
        got.method.eq_ignore_ascii_case("post") && got.target == "/sms",
        "{got:?}"
    );
    assert!(
        got.header("authorization")
            .eq_ignore_ascii_case("bearer gateway-token")
    );
    assert!(got.header("x-passport-signature").starts_with("sha256="));
    let body: serde_json::Value = serde_json::from_slice(&got.body).unwrap_or_default();
    assert_eq!(body["mobile"], "13800138000");
    let code = body["code"].as_str().unwrap();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
}

#[tokio::test]
async fn a_gateway_refusal_is_502_4301() {
    let gw = gateway(400).await;
    let (port, store) = app_with_gateway(gw.port(), |_| {}).await;
    ask(port, &store, 1).await.assert_error(502, "4301");
    assert!(!gw.requests().is_empty());
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
