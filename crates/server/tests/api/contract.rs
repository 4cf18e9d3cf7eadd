//! SPEC.md's errno table, row by row, on the memory store and on Redis.

use passport_server::Settings;
use passport_server::configuration::Secret;
use passport_testkit::TestRedis;
use serde_json::json;
use verify::SendError;

use crate::helpers::Answers;
use crate::helpers::{Backend, TestApp, code_id};

const KEY: &str = "contract-key-0123456789";

fn configure(s: &mut Settings) {
    s.verify_api.key = Secret::new(KEY);
    s.limits.sms_per_ip_per_hour = 5;
}

/// Every row but 4001 (Redis down, in `redis.rs`) and 4500 (no input
/// reaches it: only an image encoder failure does).
async fn every_row(app: &TestApp) {
    let mobile = "13800138000";

    // "0" / 200: an image, an SMS, a checked code.
    let r = app.captcha_then_sms(mobile, &code_id(1)).await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"));
    let code = app.last_code(mobile);
    let verify = |body: serde_json::Value| {
        app.request("POST", "/passport/sms_code/verify")
            .header("Authorization", &format!("Bearer {KEY}"))
            .json(&body)
            .send()
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // 4004 / 400: a wrong SMS code.
    verify(json!({"mobile": mobile, "sms_code": wrong}))
        .await
        .assert_error(400, "4004");
    let r = verify(json!({"mobile": mobile, "sms_code": code})).await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"));
    // 4002 / 400: the code is used.
    verify(json!({"mobile": mobile, "sms_code": code}))
        .await
        .assert_error(400, "4002");

    // 4002 / 400: a captcha never issued. 4004 / 400: a wrong captcha.
    app.sms_code("13900139000", "ABCD", &code_id(2))
        .await
        .assert_error(400, "4002");
    let id = code_id(3);
    app.image_code(&id).await;
    let wrong = app.store.wrong_answer(&id);
    app.sms_code("13900139000", wrong, &id)
        .await
        .assert_error(400, "4004");
    // 4004 / 400: a mobile that is not one.
    app.sms_code("1234", "ABCD", &code_id(4))
        .await
        .assert_error(400, "4004");

    // 4101 / 401: no bearer key.
    app.request("POST", "/passport/sms_code/verify")
        .json(&json!({"mobile": mobile, "sms_code": "123456"}))
        .send()
        .await
        .assert_error(401, "4101");

    // 4103 / 400, 413, 415.
    app.get("/passport/image_code?code_id=x")
        .await
        .assert_error(400, "4103");
    app.request("POST", "/passport/sms_code")
        .body(Some("application/json"), "x".repeat(4097))
        .send()
        .await
        .assert_error(413, "4103");
    app.request("POST", "/passport/sms_code")
        .body(Some("text/plain"), "{}")
        .send()
        .await
        .assert_error(415, "4103");

    // 4301 / 502: the sender fails.
    app.sender.fail_next(1, SendError::Timeout);
    app.captcha_then_sms("13700137000", &code_id(5))
        .await
        .assert_error(502, "4301");

    // 4201 / 429 with Retry-After: the per-IP SMS limit (5 per hour here;
    // whether a failed send counts is the rules' business, so a few more
    // requests are allowed before the limit must show).
    let mut limited = None;
    for n in 0..3 {
        let r = app
            .captcha_then_sms(&format!("1360013600{n}"), &code_id(10 + n))
            .await;
        if r.status != 200 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the per-IP limit held");
    r.assert_error(429, "4201");
    assert!(r.header("retry-after").is_some());
    // 4201 / 404 and 405.
    app.get("/nowhere").await.assert_error(404, "4201");
    app.get("/passport/sms_code")
        .await
        .assert_error(405, "4201");
}

#[tokio::test]
async fn every_row_on_the_memory_store() {
    let app = TestApp::spawn_with(Backend::Memory, configure).await;
    every_row(&app).await;
}

#[tokio::test]
async fn every_row_on_redis() {
    let redis = TestRedis::new();
    let app = TestApp::spawn_with(Backend::redis(redis.url(), "contract"), configure).await;
    every_row(&app).await;
}
