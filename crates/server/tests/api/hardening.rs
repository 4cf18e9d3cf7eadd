//! The attacks that took the first version down or around its limits.

use crate::helpers::{Backend, TestApp, code_id};

/// Per-IP counters from more addresses than the memory store budgets for
/// (cheap with IPv6 /64s) once filled it for everyone. Now the oldest
/// per-IP counters give way and the service keeps serving.
#[tokio::test]
async fn a_counter_flood_from_many_addresses_leaves_the_service_serving() {
    const BUDGET: usize = 300;
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.server.trusted_proxies = vec!["127.0.0.1".to_owned()];
        s.store.memory.max_ip_counters = BUDGET;
    })
    .await;
    // A first honest send, whose interval flag must survive the flood.
    assert_eq!(
        app.captcha_then_sms("13800138000", &code_id(0))
            .await
            .errno(),
        "0"
    );
    for n in 0..(BUDGET as u32 * 3 / 2) {
        let attacker = format!("2001:db8:{:x}::1", n + 1);
        let r = app
            .request("POST", "/passport/sms_code")
            .header("X-Forwarded-For", &attacker)
            .json(&serde_json::json!({
                "mobile": "13900139000",
                "image_code": "ABCD",
                "image_code_id": code_id(1_000_000 + n),
            }))
            .send()
            .await;
        r.assert_error(400, "4002");
    }
    assert_eq!(app.get("/readyz").await.status, 200, "still ready");
    // Captchas and sends still work for everyone else...
    assert_eq!(
        app.captcha_then_sms("13700137000", &code_id(1))
            .await
            .errno(),
        "0"
    );
    // ...and the first mobile's interval still holds.
    app.captcha_then_sms("13800138000", &code_id(2))
        .await
        .assert_error(429, "4201");
}
