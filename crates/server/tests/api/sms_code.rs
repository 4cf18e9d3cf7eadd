//! `POST /passport/sms_code`.

use serde_json::json;
use verify::SendError;

use crate::helpers::Answers;
use crate::helpers::{Backend, TestApp, code_id};

const MOBILE: &str = "13800138000";

#[tokio::test]
async fn the_right_answer_sends_a_code() {
    let app = TestApp::spawn().await;
    let r = app.captcha_then_sms(MOBILE, &code_id(1)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"errno": "0", "errmsg": "发送成功"}));
    let sent = app.sender.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].mobile.as_str(), MOBILE);
    assert_eq!(sent[0].code.as_str().len(), 6);
}

#[tokio::test]
async fn the_answer_is_case_insensitive_and_trimmed() {
    let app = TestApp::spawn().await;
    let id = code_id(1);
    app.image_code(&id).await;
    let typed = format!("  {}  ", app.store.answer(&id).to_lowercase());
    assert_eq!(app.sms_code(MOBILE, &typed, &id).await.errno(), "0");
}

#[tokio::test]
async fn a_wrong_answer_is_4004_and_uses_the_captcha_up() {
    let app = TestApp::spawn().await;
    let id = code_id(1);
    app.image_code(&id).await;
    let answer = app.store.answer(&id);
    let wrong = app.store.wrong_answer(&id);
    app.sms_code(MOBILE, wrong, &id)
        .await
        .assert_error(400, "4004");
    app.sms_code(MOBILE, &answer, &id)
        .await
        .assert_error(400, "4002");
    assert!(app.sender.sent().is_empty());
}

#[tokio::test]
async fn a_captcha_never_issued_is_4002() {
    let app = TestApp::spawn().await;
    let r = app.sms_code(MOBILE, "ABCD", &code_id(7)).await;
    r.assert_error(400, "4002");
    assert_eq!(r.errmsg(), "图片验证码已过期");
}

#[tokio::test]
async fn an_invalid_mobile_is_4004_with_no_store_call() {
    let app = TestApp::spawn().await;
    for mobile in [
        "12345",
        "23800138000",
        "1380013800０",
        "138001380001",
        "+1 555 0100",
        "１３８００１３８０００",
    ] {
        app.sms_code(mobile, "ABCD", &code_id(1))
            .await
            .assert_error(400, "4004");
    }
    assert_eq!(app.store.calls(), 0);
}

#[tokio::test]
async fn missing_or_malformed_parameters_are_4103_with_no_store_call() {
    let app = TestApp::spawn().await;
    let id = code_id(1);
    let bodies = [
        json!({}),
        json!({"image_code": "ABCD", "image_code_id": id}),
        json!({"mobile": MOBILE, "image_code_id": id}),
        json!({"mobile": MOBILE, "image_code": "ABCD"}),
        json!({"mobile": "", "image_code": "ABCD", "image_code_id": id}),
        json!({"mobile": MOBILE, "image_code": "  ", "image_code_id": id}),
        json!({"mobile": MOBILE, "image_code": "ABCD", "image_code_id": "not-a-uuid"}),
        json!({"mobile": MOBILE, "image_code": "ABCD", "image_code_id": "*"}),
        json!({"mobile": MOBILE, "image_code": "ABCD", "image_code_id": "0b7d3c5e\r\n"}),
        json!({"mobile": 13800138000u64, "image_code": "ABCD", "image_code_id": id}),
        json!({"mobile": MOBILE, "image_code": ["ABCD"], "image_code_id": id}),
        json!([MOBILE, "ABCD", id]),
        json!("hello"),
        json!(null),
    ];
    for body in &bodies {
        app.post_json("/passport/sms_code", body)
            .await
            .assert_error(400, "4103");
    }
    assert_eq!(app.store.calls(), 0);
}

#[tokio::test]
async fn bad_bodies_get_the_contracts_status_with_no_store_call() {
    let app = TestApp::spawn().await;
    let id = code_id(1);
    let good = json!({"mobile": MOBILE, "image_code": "ABCD", "image_code_id": id}).to_string();
    let post = |ct: Option<&'static str>, body: Vec<u8>| {
        app.request("POST", "/passport/sms_code").body(ct, body)
    };
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let shallow_but_deep = format!("{}{}", "[".repeat(1_500), "]".repeat(1_500));
    let mut five_kb = good.clone().into_bytes();
    five_kb.truncate(good.len() - 1);
    five_kb.extend(format!(r#","pad":"{}"}}"#, "x".repeat(5 * 1024)).into_bytes());

    let cases: Vec<(Option<&str>, Vec<u8>, u16)> = vec![
        (Some("application/json"), b"not json".to_vec(), 400),
        (Some("application/json"), b"{\"mobile\": ".to_vec(), 400),
        (Some("application/json"), Vec::new(), 400),
        (Some("application/json"), b"\xff\xfe{}".to_vec(), 400),
        (Some("application/json"), shallow_but_deep.into_bytes(), 400),
        (Some("application/json"), deep.into_bytes(), 413),
        (Some("application/json"), five_kb, 413),
        (
            Some("application/x-www-form-urlencoded"),
            format!("mobile={MOBILE}&image_code=ABCD&image_code_id={id}").into_bytes(),
            415,
        ),
        (Some("text/plain"), good.clone().into_bytes(), 415),
        (None, good.clone().into_bytes(), 415),
    ];
    for (ct, body, status) in cases {
        post(ct, body).send().await.assert_error(status, "4103");
    }
    assert_eq!(app.store.calls(), 0);
}

#[tokio::test]
async fn a_body_of_exactly_4_kib_is_read() {
    let app = TestApp::spawn().await;
    let id = code_id(1);
    let mut body =
        json!({"mobile": MOBILE, "image_code": "ABCD", "image_code_id": id, "pad": ""}).to_string();
    let pad = 4096 - body.len();
    body = body.replace(r#""pad":"""#, &format!(r#""pad":"{}""#, "x".repeat(pad)));
    assert_eq!(body.len(), 4096);
    let r = app
        .request("POST", "/passport/sms_code")
        .body(Some("application/json"), body)
        .send()
        .await;
    // Parsed, so the rules ran: the captcha was never issued.
    r.assert_error(400, "4002");
}

#[tokio::test]
async fn a_second_sms_within_the_interval_is_429() {
    let app = TestApp::spawn().await;
    assert_eq!(app.captcha_then_sms(MOBILE, &code_id(1)).await.errno(), "0");
    let r = app.captcha_then_sms(MOBILE, &code_id(2)).await;
    r.assert_error(429, "4201");
    let after: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&after), "Retry-After {after}");
    // Another mobile is not held up.
    assert_eq!(
        app.captcha_then_sms("13900139000", &code_id(3))
            .await
            .errno(),
        "0"
    );
    assert_eq!(app.sender.sent().len(), 2);
}

#[tokio::test]
async fn the_daily_cap_holds() {
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.limits.sms_interval = std::time::Duration::ZERO;
        s.limits.sms_daily_cap = 2;
    })
    .await;
    for n in 0..2 {
        assert_eq!(app.captcha_then_sms(MOBILE, &code_id(n)).await.errno(), "0");
    }
    app.captcha_then_sms(MOBILE, &code_id(5))
        .await
        .assert_error(429, "4201");
}

#[tokio::test]
async fn the_per_ip_limit_holds() {
    let app = TestApp::spawn_with(Backend::Memory, |s| s.limits.sms_per_ip_per_hour = 2).await;
    for (n, mobile) in ["13800000001", "13800000002"].into_iter().enumerate() {
        assert_eq!(
            app.captcha_then_sms(mobile, &code_id(n as u32))
                .await
                .errno(),
            "0"
        );
    }
    app.captcha_then_sms("13800000003", &code_id(9))
        .await
        .assert_error(429, "4201");
}

#[tokio::test]
async fn a_refusing_sender_is_502_and_the_user_can_retry() {
    let app = TestApp::spawn().await;
    app.sender.fail_next(1, SendError::Status(422));
    let r = app.captcha_then_sms(MOBILE, &code_id(1)).await;
    r.assert_error(502, "4301");
    // Code and interval flag were given back: a new captcha, a new try.
    assert_eq!(app.captcha_then_sms(MOBILE, &code_id(2)).await.errno(), "0");
    assert_eq!(app.sender.sent().len(), 1);
}

#[tokio::test]
async fn a_sender_that_may_have_sent_keeps_the_interval() {
    let app = TestApp::spawn().await;
    app.sender.fail_next(1, SendError::Timeout);
    app.captcha_then_sms(MOBILE, &code_id(1))
        .await
        .assert_error(502, "4301");
    // The SMS may have arrived: the interval holds.
    app.captcha_then_sms(MOBILE, &code_id(2))
        .await
        .assert_error(429, "4201");
    assert_eq!(app.sender.attempts(), 1);
    let metrics = crate::helpers::Request::new(app.metrics_port.unwrap(), "GET", "/metrics")
        .send()
        .await;
    assert!(
        metrics
            .text()
            .contains("passport_sms_send_failures_total{gateway=\"log\",kind=\"timeout\"} 1\n"),
        "{}",
        metrics.text()
    );
}

#[tokio::test]
async fn errmsg_is_english_when_the_client_prefers_it() {
    let app = TestApp::spawn().await;
    let id = code_id(1);
    let r = app
        .request("POST", "/passport/sms_code")
        .header("Accept-Language", "en-US,en;q=0.9,zh;q=0.5")
        .json(&json!({"mobile": MOBILE, "image_code": "ABCD", "image_code_id": id}))
        .send()
        .await;
    r.assert_error(400, "4002");
    assert!(
        r.errmsg().is_ascii() && !r.errmsg().is_empty(),
        "{}",
        r.errmsg()
    );

    app.image_code(&id).await;
    let answer = app.store.answer(&id);
    let r = app
        .request("POST", "/passport/sms_code")
        .header("Accept-Language", "en")
        .json(&json!({"mobile": MOBILE, "image_code": answer, "image_code_id": id}))
        .send()
        .await;
    assert_eq!(r.errno(), "0");
    assert!(r.errmsg().is_ascii(), "{}", r.errmsg());
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let app = TestApp::spawn().await;
    let id = code_id(1);
    app.image_code(&id).await;
    let answer = app.store.answer(&id);
    let r = app
        .post_json(
            "/passport/sms_code",
            &json!({"mobile": MOBILE, "image_code": answer, "image_code_id": id, "csrf_token": "x"}),
        )
        .await;
    assert_eq!(r.errno(), "0");
}

#[tokio::test]
async fn every_spelling_of_one_number_shares_one_budget() {
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.mobile = verify::MobileRule::with_format(verify::MobileFormat::E164, "").unwrap();
    })
    .await;
    assert_eq!(
        app.captcha_then_sms("0044 7700-900123", &code_id(1))
            .await
            .errno(),
        "0"
    );
    assert_eq!(app.last_code("+447700900123").len(), 6);
    for (n, spelling) in ["+447700900123", "447700900123", "+44 7700 900 123"]
        .into_iter()
        .enumerate()
    {
        app.captcha_then_sms(spelling, &code_id(2 + n as u32))
            .await
            .assert_error(429, "4201");
    }
    assert_eq!(app.sender.sent().len(), 1);
}

#[tokio::test]
async fn mainland_prefixes_share_one_budget() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.captcha_then_sms("+86 138-0013-8000", &code_id(1))
            .await
            .errno(),
        "0"
    );
    assert_eq!(app.last_code(MOBILE).len(), 6);
    for (n, spelling) in ["008613800138000", "8613800138000", MOBILE]
        .into_iter()
        .enumerate()
    {
        app.captcha_then_sms(spelling, &code_id(2 + n as u32))
            .await
            .assert_error(429, "4201");
    }
}

#[tokio::test]
async fn a_test_number_gets_its_fixed_code_and_no_sms() {
    let key = "test-key-0123456789abcdef";
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.sms.test_numbers = vec!["+86 139 0000 0000:246810".parse().unwrap()];
        s.verify_api.key = passport_server::configuration::Secret::new(key);
    })
    .await;
    assert_eq!(
        app.captcha_then_sms("13900000000", &code_id(1))
            .await
            .errno(),
        "0"
    );
    assert_eq!(
        app.sender.attempts(),
        0,
        "no gateway call for a test number"
    );
    let r = app
        .request("POST", "/passport/sms_code/verify")
        .header("Authorization", &format!("Bearer {key}"))
        .json(&json!({"mobile": "13900000000", "sms_code": "246810"}))
        .send()
        .await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"), "{}", r.text());
    // Every other number is sent as before.
    assert_eq!(app.captcha_then_sms(MOBILE, &code_id(2)).await.errno(), "0");
    assert_eq!(app.sender.sent().len(), 1);
}
