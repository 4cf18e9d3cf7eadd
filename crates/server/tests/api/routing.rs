//! Unknown routes, wrong methods, the compat switch, languages, health,
//! metrics, the page and CORS.

use serde_json::json;

use crate::helpers::{Backend, Request, TestApp, code_id};
use verify::Lang;

#[tokio::test]
async fn unknown_routes_are_404_json() {
    let app = TestApp::spawn().await;
    for target in [
        "/nope",
        "/passport",
        "/passport/",
        "/passport/image_code/x",
        "/../etc/passwd",
        "/%2e%2e/Cargo.toml",
        "/tests/harness.mjs",
    ] {
        let r = app.get(target).await;
        r.assert_error(404, "4201");
        assert_eq!(r.errmsg(), "非法请求");
    }
    app.request("DELETE", "/nope")
        .send()
        .await
        .assert_error(404, "4201");
}

#[tokio::test]
async fn wrong_methods_are_405_json() {
    let app = TestApp::spawn().await;
    for (method, path, allow) in [
        ("GET", "/passport/sms_code", "POST"),
        ("PUT", "/passport/sms_code", "POST"),
        ("DELETE", "/passport/image_code", "GET"),
        ("POST", "/healthz", "GET"),
        ("POST", "/readyz", "GET"),
    ] {
        let r = app.request(method, path).send().await;
        r.assert_error(405, "4201");
        assert_eq!(r.header("allow"), Some(allow));
    }
}

#[tokio::test]
async fn any_query_over_1_kib_is_400() {
    let app = TestApp::spawn().await;
    let q = "x".repeat(1025);
    app.get(&format!("/healthz?{q}"))
        .await
        .assert_error(400, "4103");
    app.get(&format!("/?{q}")).await.assert_error(400, "4103");
    let r = app
        .request("POST", &format!("/passport/sms_code?{q}"))
        .json(&json!({}))
        .send()
        .await;
    r.assert_error(400, "4103");
    assert_eq!(
        app.get(&format!("/healthz?{}", "x".repeat(1024)))
            .await
            .status,
        200
    );
    assert_eq!(app.store.calls(), 0);
}

#[tokio::test]
async fn errors_as_200_keeps_errno_and_retry_after() {
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.compat.errors_as_200 = true;
        s.limits.image_codes_per_ip_per_minute = 1;
    })
    .await;
    let r = app.get("/passport/image_code?code_id=junk").await;
    assert_eq!((r.status, r.errno().as_str()), (200, "4103"));
    let r = app.get("/nope").await;
    assert_eq!((r.status, r.errno().as_str()), (200, "4201"));
    let r = app.sms_code("13800138000", "ABCD", &code_id(1)).await;
    assert_eq!((r.status, r.errno().as_str()), (200, "4002"));
    assert_eq!(r.errmsg(), "图片验证码已过期");
    let r = app
        .request("POST", "/passport/sms_code")
        .body(Some("text/plain"), "x")
        .send()
        .await;
    assert_eq!((r.status, r.errno().as_str()), (200, "4103"));

    assert_eq!(app.image_code(&code_id(1)).await.status, 200);
    let r = app.image_code(&code_id(2)).await;
    assert_eq!((r.status, r.errno().as_str()), (200, "4201"));
    assert!(r.header("retry-after").is_some());
    // English and compat together.
    let r = app
        .request("GET", "/nope")
        .header("Accept-Language", "en")
        .send()
        .await;
    assert_eq!((r.status, r.errmsg().as_str()), (200, "Invalid request"));
}

#[tokio::test]
async fn default_lang_en_answers_in_english_unless_chinese_is_preferred() {
    let app = TestApp::spawn_with(Backend::Memory, |s| s.messages.default_lang = Lang::En).await;
    let r = app.sms_code("13800138000", "ABCD", &code_id(1)).await;
    r.assert_error(400, "4002");
    assert!(r.errmsg().is_ascii());
    let r = app
        .request("POST", "/passport/sms_code")
        .header("Accept-Language", "zh-CN,zh;q=0.9")
        .json(&json!({"mobile": "13800138000", "image_code": "ABCD", "image_code_id": code_id(1)}))
        .send()
        .await;
    assert_eq!(r.errmsg(), "图片验证码已过期");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let r = app.get("/healthz").await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"));
    let r = app.get("/readyz").await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"));
}

#[tokio::test]
async fn metrics_are_on_their_own_listener() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.captcha_then_sms("13800138000", &code_id(1))
            .await
            .errno(),
        "0"
    );
    app.get("/passport/image_code?code_id=bad").await;
    let port = app.metrics_port.expect("metrics listener");
    let r = Request::new(port, "GET", "/metrics").send().await;
    assert_eq!(r.status, 200);
    let text = r.text();
    for line in [
        "passport_captchas_issued_total 1\n",
        "passport_sms_sent_total 1\n",
        "passport_outcomes_total{errno=\"0\"} 2\n",
        "passport_outcomes_total{errno=\"4103\"} 1\n",
        "passport_store_errors_total 0\n",
        "passport_http_request_duration_seconds_count 3\n",
    ] {
        assert!(text.contains(line), "{line:?} missing from\n{text}");
    }
    // Not on the public listener.
    app.get("/metrics").await.assert_error(404, "4201");
}

#[tokio::test]
async fn an_empty_metrics_addr_disables_the_listener() {
    let app = TestApp::spawn_with(Backend::Memory, |s| s.server.metrics_addr = String::new()).await;
    assert_eq!(app.metrics_port, None);
}

#[tokio::test]
async fn the_page_is_served_with_its_security_headers() {
    let app = TestApp::spawn().await;
    let r = app.get("/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = r.header("content-security-policy").expect("CSP");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    // The page really has no inline script.
    let html = r.text();
    assert!(!html.contains("<script>"), "inline script in the page");
    assert!(html.contains("<script"));

    let r = app.get("/index.html").await;
    assert_eq!(r.status, 200);
    let js = std::fs::read_dir(crate::helpers::web_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.ends_with(".js"))
        .expect("the page has a script");
    let r = app.get(&format!("/{js}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
}

#[tokio::test]
async fn cors_is_off_unless_origins_are_configured() {
    let app = TestApp::spawn().await;
    let r = app
        .request("GET", "/healthz")
        .header("Origin", "https://example.com")
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);

    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.cors.allowed_origins = vec!["https://shop.example.com".to_owned()];
    })
    .await;
    let preflight = app
        .request("OPTIONS", "/passport/sms_code")
        .header("Origin", "https://shop.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await;
    assert_eq!(preflight.status, 200);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://shop.example.com")
    );
    let r = app
        .request("GET", "/healthz")
        .header("Origin", "https://shop.example.com")
        .send()
        .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://shop.example.com")
    );
    let r = app
        .request("GET", "/healthz")
        .header("Origin", "https://evil.example.net")
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
}
