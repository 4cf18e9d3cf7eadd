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

/// A body sent a byte at a time was read for as long as the client liked.
/// Now the whole body has a deadline: 408/4103 and the connection closed,
/// while other clients are served meanwhile.
#[tokio::test]
async fn a_slow_body_gets_408_within_the_deadline_and_others_are_served() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn_with(Backend::Memory, |s| s.server.body_timeout_ms = 300).await;
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    slow.write_all(
        b"POST /passport/sms_code HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{",
    )
    .await
    .unwrap();
    let started = Instant::now();
    // Another client while the slow one holds its connection.
    assert_eq!(app.image_code(&code_id(1)).await.status, 200);
    let (mut read_half, mut write_half) = slow.split();
    // A byte now and then (the attack's pace), never the whole body.
    let trickle = async {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if write_half.write_all(b" ").await.is_err() {
                break;
            }
        }
    };
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), read_half.read_to_end(&mut answer));
    tokio::select! {
        result = read => { result.expect("answered and closed within 5 s").ok(); }
        () = trickle => {}
    }
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"errno\":\"4103\""), "{text}");
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}
