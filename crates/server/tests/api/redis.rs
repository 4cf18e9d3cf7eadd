//! Against a real redis-server (passport-testkit): the flow, bad input, two
//! instances sharing one Redis, and Redis going away and coming back.

use std::sync::Arc;

use code_store::{RedisConfig, RedisStore, SharedStore};
use passport_testkit::{RedisServer, TestRedis};

use crate::helpers::Answers;
use crate::helpers::{Backend, TestApp, code_id, test_settings};

const MOBILE: &str = "13800138000";

#[tokio::test]
async fn the_flow_works_on_redis() {
    let redis = TestRedis::new();
    let app = TestApp::spawn_with(Backend::redis(redis.url(), "flow"), |_| {}).await;
    let r = app.captcha_then_sms(MOBILE, &code_id(1)).await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"));
    app.captcha_then_sms(MOBILE, &code_id(2))
        .await
        .assert_error(429, "4201");
    let id = code_id(3);
    app.image_code(&id).await;
    let answer = app.store.answer(&id);
    let wrong = app.store.wrong_answer(&id);
    app.sms_code("13900139000", wrong, &id)
        .await
        .assert_error(400, "4004");
    app.sms_code("13900139000", &answer, &id)
        .await
        .assert_error(400, "4002");
    assert_eq!(app.get("/readyz").await.status, 200);
}

#[tokio::test]
async fn bad_input_never_reaches_redis() {
    let redis = TestRedis::new();
    let app = TestApp::spawn_with(Backend::redis(redis.url(), "bad-input"), |_| {}).await;
    for target in [
        "/passport/image_code",
        "/passport/image_code?code_id=%0D%0A",
        "/passport/image_code?code_id=*",
        "/passport/image_code?code_id=%E9%AA%8C",
    ] {
        app.get(target).await.assert_error(400, "4103");
    }
    app.sms_code("123", "ABCD", &code_id(1))
        .await
        .assert_error(400, "4004");
    app.sms_code(MOBILE, "ABCD", "junk")
        .await
        .assert_error(400, "4103");
    app.request("POST", "/passport/sms_code")
        .body(Some("application/json"), "x".repeat(5 * 1024))
        .send()
        .await
        .assert_error(413, "4103");
    assert_eq!(app.store.calls(), 0);
}

fn shared_redis_store(url: &str, prefix: &str) -> SharedStore {
    Arc::new(
        RedisStore::new(RedisConfig {
            url: url.to_owned(),
            key_prefix: prefix.to_owned(),
            ..RedisConfig::default()
        })
        .expect("redis store"),
    )
}

#[tokio::test]
async fn two_instances_share_captchas_and_limits() {
    let redis = TestRedis::new();
    let prefix = passport_testkit::unique_prefix("two-instances");
    let a = TestApp::spawn_on(shared_redis_store(redis.url(), &prefix), test_settings()).await;
    let b = TestApp::spawn_on(shared_redis_store(redis.url(), &prefix), test_settings()).await;

    let id = code_id(1);
    assert_eq!(a.image_code(&id).await.status, 200);
    let answer = a.store.answer(&id);
    let r = b.sms_code(MOBILE, &answer, &id).await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"));
    assert_eq!(b.sender.sent().len(), 1);

    // The interval set through B holds at A.
    let id = code_id(2);
    assert_eq!(b.image_code(&id).await.status, 200);
    let answer = b.store.answer(&id);
    a.sms_code(MOBILE, &answer, &id)
        .await
        .assert_error(429, "4201");
    assert!(a.sender.sent().is_empty());
}

#[tokio::test]
async fn redis_down_is_503_and_recovery_is_automatic() {
    let mut redis = RedisServer::start();
    let app = TestApp::spawn_with(Backend::redis(&redis.url(), "down"), |_| {}).await;
    assert_eq!(app.image_code(&code_id(1)).await.status, 200);

    redis.stop();
    app.image_code(&code_id(2)).await.assert_error(503, "4001");
    app.sms_code(MOBILE, "ABCD", &code_id(1))
        .await
        .assert_error(503, "4001");
    app.get("/readyz").await.assert_error(503, "4001");
    assert_eq!(
        app.get("/healthz").await.status,
        200,
        "the process is still up"
    );
    let metrics = crate::helpers::Request::new(app.metrics_port.unwrap(), "GET", "/metrics")
        .send()
        .await
        .text();
    assert!(
        metrics.contains("passport_store_errors_total 3\n"),
        "{metrics}"
    );

    redis.restart();
    assert_eq!(app.get("/readyz").await.status, 200);
    let r = app.captcha_then_sms(MOBILE, &code_id(3)).await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"));
}
