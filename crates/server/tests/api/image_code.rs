//! `GET /passport/image_code`.

use crate::helpers::Answers;
use crate::helpers::{Backend, Request, TestApp, code_id, send_raw};
use captcha_render::Format;

#[tokio::test]
async fn answers_a_png_with_the_contract_headers() {
    let app = TestApp::spawn().await;
    let id = code_id(1);
    let r = app.image_code(&id).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(r.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(app.store.answer(&id).chars().count(), 4);
}

#[tokio::test]
async fn answers_a_jpeg_when_configured() {
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.captcha.format = Format::Jpeg { quality: 80 }
    })
    .await;
    let r = app.image_code(&code_id(2)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    assert!(r.body.starts_with(&[0xff, 0xd8]));
}

#[tokio::test]
async fn upper_case_ids_are_the_same_captcha() {
    let app = TestApp::spawn().await;
    let id = code_id(3);
    assert_eq!(app.image_code(&id.to_uppercase()).await.status, 200);
    let answer = app.store.answer(&id);
    assert_eq!(app.sms_code("13800138000", &answer, &id).await.errno(), "0");
}

#[tokio::test]
async fn bad_code_ids_are_4103_with_no_store_call() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(37);
    let big = "f".repeat(10 * 1024);
    let cases = [
        "/passport/image_code".to_owned(),
        "/passport/image_code?".to_owned(),
        "/passport/image_code?code_id=".to_owned(),
        "/passport/image_code?id=0b7d3c5e-8f7a-4c1e-9d2b-000000000001".to_owned(),
        "/passport/image_code?code_id=not-a-uuid".to_owned(),
        "/passport/image_code?code_id=%0D%0ASet-Cookie:%20x=1".to_owned(),
        "/passport/image_code?code_id=0b7d3c5e-8f7a-4c1e-9d2b-00000000000%0A".to_owned(),
        "/passport/image_code?code_id=*".to_owned(),
        "/passport/image_code?code_id=%E9%AA%8C%E8%AF%81%E7%A0%81".to_owned(),
        "/passport/image_code?code_id=%F0%9F%98%80%F0%9F%98%80".to_owned(),
        "/passport/image_code?code_id=%FF%FE".to_owned(),
        format!("/passport/image_code?code_id={long}"),
        format!(
            "/passport/image_code?code_id={}&code_id={}",
            code_id(1),
            code_id(2)
        ),
        format!("/passport/image_code?code_id={big}"),
    ];
    for target in &cases {
        let r = app.get(target).await;
        r.assert_error(400, "4103");
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    assert_eq!(app.store.calls(), 0, "bad input reached the store");
}

#[tokio::test]
async fn huge_queries_are_refused_before_routing() {
    let app = TestApp::spawn().await;
    // actix-http refuses a URI over 64 KiB (400) and a request head over
    // 128 KiB (431) itself, before any route, with a plain body. Between
    // the contract's 1 KiB and those, the JSON 400 above answers.
    for size in [100 * 1024, 1024 * 1024] {
        let target = format!("/passport/image_code?code_id={}", "f".repeat(size));
        let r = app.get(&target).await;
        assert!(
            (400..500).contains(&r.status),
            "{size}: status {}",
            r.status
        );
    }
    assert_eq!(app.store.calls(), 0);
    // The app still serves.
    assert_eq!(app.image_code(&code_id(1)).await.status, 200);
}

#[tokio::test]
async fn a_raw_crlf_in_the_request_line_is_refused() {
    let app = TestApp::spawn().await;
    let raw = b"GET /passport/image_code?code_id=0b7d3c5e\r\nX: y HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    let r = send_raw(app.port, raw).await;
    assert!((400..500).contains(&r.status), "status {}", r.status);
    assert_eq!(app.store.calls(), 0);
}

#[tokio::test]
async fn the_per_ip_limit_answers_429_with_retry_after() {
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.limits.image_codes_per_ip_per_minute = 3;
    })
    .await;
    for n in 0..3 {
        assert_eq!(app.image_code(&code_id(n)).await.status, 200);
    }
    let r = app.image_code(&code_id(9)).await;
    r.assert_error(429, "4201");
    let after: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&after), "Retry-After {after}");
}

#[tokio::test]
async fn zero_disables_the_per_ip_limit() {
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.limits.image_codes_per_ip_per_minute = 0;
    })
    .await;
    for n in 0..61 {
        assert_eq!(app.image_code(&code_id(n)).await.status, 200);
    }
}

#[tokio::test]
async fn head_and_post_are_405() {
    let app = TestApp::spawn().await;
    let r = Request::new(
        app.port,
        "POST",
        &format!("/passport/image_code?code_id={}", code_id(1)),
    )
    .send()
    .await;
    r.assert_error(405, "4201");
    assert_eq!(r.header("allow"), Some("GET"));
    assert_eq!(app.store.calls(), 0);
}
