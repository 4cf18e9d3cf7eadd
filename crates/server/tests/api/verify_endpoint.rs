//! `POST /passport/sms_code/verify`: bearer key, then the code, once.

use serde_json::json;

use crate::helpers::{Backend, TestApp, code_id};

const KEY: &str = "test-key-0123456789abcdef";
const MOBILE: &str = "13800138000";
const PATH: &str = "/passport/sms_code/verify";

async fn app_with_key() -> TestApp {
    TestApp::spawn_with(Backend::Memory, |s| {
        s.verify_api.key = passport_server::configuration::Secret::new(KEY);
    })
    .await
}

async fn check(
    app: &TestApp,
    auth: Option<&str>,
    body: serde_json::Value,
) -> crate::helpers::Response {
    let mut req = app.request("POST", PATH);
    if let Some(auth) = auth {
        req = req.header("Authorization", auth);
    }
    req.json(&body).send().await
}

fn bearer() -> String {
    format!("Bearer {KEY}")
}

#[tokio::test]
async fn is_404_while_no_key_is_configured() {
    let app = TestApp::spawn().await;
    let r = check(
        &app,
        Some(&bearer()),
        json!({"mobile": MOBILE, "sms_code": "123456"}),
    )
    .await;
    r.assert_error(404, "4201");
    assert_eq!(app.store.calls(), 0);
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_401_before_the_body_is_looked_at() {
    let app = app_with_key().await;
    let body = json!({"mobile": MOBILE, "sms_code": "123456"});
    for auth in [
        None,
        Some("Bearer"),
        Some("Bearer "),
        Some("Bearer wrong-key-0123456789abcdef"),
        Some("Bearer test-key-0123456789abcde"),
        Some("Bearer test-key-0123456789abcdef0"),
        Some("Basic dGVzdDp0ZXN0"),
        Some(KEY),
    ] {
        let r = check(&app, auth, body.clone()).await;
        r.assert_error(401, "4101");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
    // Even a body that would be refused is not parsed without the key.
    let r = app
        .request("POST", PATH)
        .body(Some("text/plain"), "junk")
        .send()
        .await;
    r.assert_error(401, "4101");
    assert_eq!(app.store.calls(), 0);
}

#[tokio::test]
async fn the_right_code_is_accepted_once() {
    let app = app_with_key().await;
    assert_eq!(app.captcha_then_sms(MOBILE, &code_id(1)).await.errno(), "0");
    let code = app.last_code(MOBILE);
    // The scheme is case-insensitive.
    let auth = format!("bearer {KEY}");
    let r = check(
        &app,
        Some(&auth),
        json!({"mobile": MOBILE, "sms_code": code}),
    )
    .await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"));
    check(
        &app,
        Some(&bearer()),
        json!({"mobile": MOBILE, "sms_code": code}),
    )
    .await
    .assert_error(400, "4002");
}

#[tokio::test]
async fn wrong_codes_are_4004_until_the_code_is_void() {
    let app = app_with_key().await;
    app.captcha_then_sms(MOBILE, &code_id(1)).await;
    let code = app.last_code(MOBILE);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        check(
            &app,
            Some(&bearer()),
            json!({"mobile": MOBILE, "sms_code": wrong}),
        )
        .await
        .assert_error(400, "4004");
    }
    // Five wrong checks void it: the right code no longer works.
    check(
        &app,
        Some(&bearer()),
        json!({"mobile": MOBILE, "sms_code": code}),
    )
    .await
    .assert_error(400, "4002");
}

#[tokio::test]
async fn a_code_never_sent_is_4002() {
    let app = app_with_key().await;
    check(
        &app,
        Some(&bearer()),
        json!({"mobile": MOBILE, "sms_code": "123456"}),
    )
    .await
    .assert_error(400, "4002");
}

#[tokio::test]
async fn malformed_input_is_4103_or_4004_with_no_store_call() {
    let app = app_with_key().await;
    for body in [
        json!({}),
        json!({"mobile": MOBILE}),
        json!({"sms_code": "123456"}),
        json!({"mobile": MOBILE, "sms_code": "12345"}),
        json!({"mobile": MOBILE, "sms_code": "1234567"}),
        json!({"mobile": MOBILE, "sms_code": "12345a"}),
        json!({"mobile": MOBILE, "sms_code": 123456}),
    ] {
        check(&app, Some(&bearer()), body)
            .await
            .assert_error(400, "4103");
    }
    check(
        &app,
        Some(&bearer()),
        json!({"mobile": "123", "sms_code": "123456"}),
    )
    .await
    .assert_error(400, "4004");
    let r = app
        .request("POST", PATH)
        .header("Authorization", &bearer())
        .body(
            Some("application/x-www-form-urlencoded"),
            "mobile=1&sms_code=2",
        )
        .send()
        .await;
    r.assert_error(415, "4103");
    assert_eq!(app.store.calls(), 0);
}

#[tokio::test]
async fn get_is_405() {
    let app = app_with_key().await;
    let r = app.get(PATH).await;
    r.assert_error(405, "4201");
    assert_eq!(r.header("allow"), Some("POST"));
}
