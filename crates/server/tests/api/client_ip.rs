//! Per-IP limits count the socket peer; `X-Forwarded-For` only from trusted proxies.

use crate::helpers::{Backend, TestApp, code_id};

#[tokio::test]
async fn spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.limits.image_codes_per_ip_per_minute = 5;
    })
    .await;
    let mut ok = 0;
    for n in 0..1_000u32 {
        let spoofed = format!("203.0.{}.{}", n / 256, n % 256);
        let r = app
            .request(
                "GET",
                &format!("/passport/image_code?code_id={}", code_id(n)),
            )
            .header("X-Forwarded-For", &spoofed)
            .send()
            .await;
        match r.status {
            200 => ok += 1,
            429 => assert_eq!(r.errno(), "4201"),
            other => panic!("status {other}"),
        }
    }
    assert_eq!(ok, 5, "the cap counts the peer, not the header");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_rightmost_untrusted_address_counts() {
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.limits.image_codes_per_ip_per_minute = 1;
        s.server.trusted_proxies = vec!["127.0.0.1".to_owned(), "10.0.0.0/8".to_owned()];
    })
    .await;
    let get = |n: u32, xff: &'static str| {
        app.request(
            "GET",
            &format!("/passport/image_code?code_id={}", code_id(n)),
        )
        .header("X-Forwarded-For", xff)
        .send()
    };
    assert_eq!(get(1, "198.51.100.1").await.status, 200);
    assert_eq!(get(2, "198.51.100.2").await.status, 200);
    get(3, "198.51.100.1").await.assert_error(429, "4201");
    // A forged leftmost entry changes nothing: 198.51.100.2 is the client.
    get(4, "1.2.3.4, 198.51.100.2, 10.1.2.3")
        .await
        .assert_error(429, "4201");
    assert_eq!(get(5, "1.2.3.4, 198.51.100.3, 10.1.2.3").await.status, 200);
}
