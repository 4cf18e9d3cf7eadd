//! The attacks that took the first version down or around its limits.

use std::net::Ipv4Addr;
use std::time::Duration;

use passport_server::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, Request, Response, TestApp, code_id, connect_from, send_raw};

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

/// The address the flooding client connects from.
const FLOODER: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// Another client: loopback answers on all of 127/8.
const OTHER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// How long a refused connection may take to be answered and closed.
const REFUSED_WITHIN: Duration = Duration::from_secs(2);

/// Small caps, and head and idle limits far beyond the tests' deadlines, so
/// that only a cap can close a connection in time.
fn capped(s: &mut Settings, per_ip: usize, total: usize) {
    s.server.max_connections_per_ip = per_ip;
    s.server.max_connections = total;
    s.server.head_timeout_ms = 30_000;
    s.server.body_timeout_ms = 30_000;
    s.server.keep_alive_secs = 30;
}

/// Reads one answer (head and `Content-Length` body) off a kept-alive
/// connection.
async fn read_answer(stream: &mut TcpStream) -> Response {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = async {
        loop {
            let n = stream.read(&mut chunk).await.unwrap_or(0);
            buf.extend_from_slice(&chunk[..n]);
            if n == 0 {
                break;
            }
            let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an answer within 10 s");
    Response::parse(&buf)
}

/// Reads until the server closes (or resets) the connection, within `deadline`.
async fn read_until_closed(stream: &mut TcpStream, deadline: Duration) -> Response {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(deadline, read)
        .await
        .unwrap_or_else(|_| panic!("connection still open after {deadline:?}"));
    Response::parse(&buf)
}

/// A connection from `source` the server has answered once (so it is
/// counted), now holding half a request head, as a slow client does.
async fn hold(port: u16, source: Ipv4Addr) -> TcpStream {
    let mut stream = connect_from(source, port).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_answer(&mut stream).await;
    assert_eq!(
        answer.status, 200,
        "held connection from {source} not served"
    );
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    stream
}

/// Ends the half-sent request of a held connection; the server answers it
/// and closes.
async fn release(mut stream: TcpStream) -> Response {
    stream
        .write_all(b"Connection: close\r\n\r\n")
        .await
        .unwrap();
    read_until_closed(&mut stream, Duration::from_secs(10)).await
}

/// What a new connection from `source` that starts a slow request body
/// gets before the server closes it; panics when it stays open.
async fn slow_newcomer(port: u16, source: Ipv4Addr) -> Response {
    let mut stream = connect_from(source, port).await;
    // The server may have shut the connection already: what counts is the answer.
    let _ = stream
        .write_all(
            b"POST /passport/sms_code HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{",
        )
        .await;
    read_until_closed(&mut stream, REFUSED_WITHIN).await
}

/// `GET /healthz` from `source`, until its place under the caps comes back
/// (a closed connection's place is given back as actix drops it, just after
/// the client has seen it close).
async fn served_again(port: u16, source: Ipv4Addr) {
    for _ in 0..50 {
        let r = Request::new(port, "GET", "/healthz")
            .send_from(source)
            .await;
        if r.status == 200 {
            return;
        }
        r.assert_error(429, "4201");
        tokio::task::yield_now().await;
    }
    panic!("{source} not served again after a place was given back");
}

async fn metric(app: &TestApp, line_start: &str) -> String {
    let port = app.metrics_port.expect("metrics listener");
    let r = send_raw(
        port,
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    r.text()
        .lines()
        .find(|l| l.starts_with(line_start))
        .unwrap_or_else(|| panic!("no {line_start} in /metrics"))
        .to_owned()
}

/// 1,100 slow connections from one address held the server at its
/// descriptor limit. Now one address holds at most its cap: the next ones are
/// answered 429/4201 and closed at once (not after the head or body
/// deadline), the listener goes on serving other clients, and a place comes
/// back when a held connection closes.
#[tokio::test]
async fn connections_beyond_the_per_ip_cap_are_refused_at_once_while_others_are_served() {
    const CAP: usize = 4;
    let app = TestApp::spawn_with(Backend::Memory, |s| capped(s, CAP, 1000)).await;
    let mut held = Vec::new();
    for _ in 0..CAP {
        held.push(hold(app.port, FLOODER).await);
    }
    for _ in 0..3 {
        let r = slow_newcomer(app.port, FLOODER).await;
        r.assert_error(429, "4201");
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(r.header("connection"), Some("close"));
    }
    // Another client is served meanwhile.
    let r = Request::new(app.port, "GET", "/healthz")
        .send_from(OTHER)
        .await;
    assert_eq!(r.status, 200);
    let target = format!("/passport/image_code?code_id={}", code_id(1));
    let r = Request::new(app.port, "GET", &target)
        .send_from(OTHER)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(
        metric(&app, "passport_connections_refused_total{cap=\"per_ip\"}").await,
        "passport_connections_refused_total{cap=\"per_ip\"} 3"
    );
    // The held connections were kept: one finishes its request...
    assert_eq!(release(held.remove(0)).await.status, 200);
    // ...and gives its place back.
    served_again(app.port, FLOODER).await;
}

/// A reverse proxy carries many clients on its connections: a peer in
/// `server.trusted_proxies` counts in the total only.
#[tokio::test]
async fn a_trusted_proxy_is_not_held_to_the_per_ip_cap() {
    const CAP: usize = 2;
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        capped(s, CAP, 1000);
        s.server.trusted_proxies = vec!["127.0.0.1".to_owned()];
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..CAP * 2 {
        held.push(hold(app.port, FLOODER).await);
    }
    assert_eq!(app.get("/healthz").await.status, 200);
    // Any other peer is.
    for _ in 0..CAP {
        held.push(hold(app.port, OTHER).await);
    }
    slow_newcomer(app.port, OTHER)
        .await
        .assert_error(429, "4201");
}

/// The total cap keeps descriptors for Redis and the gateway, whichever
/// addresses the connections come from; a place comes back when one closes.
#[tokio::test]
async fn connections_beyond_the_total_cap_are_refused_and_places_come_back() {
    const TOTAL: usize = 3;
    let app = TestApp::spawn_with(Backend::Memory, |s| capped(s, 64, TOTAL)).await;
    let mut held = Vec::new();
    for n in 0..TOTAL as u8 {
        held.push(hold(app.port, Ipv4Addr::new(127, 0, 0, 10 + n)).await);
    }
    for source in [Ipv4Addr::new(127, 0, 0, 20), FLOODER] {
        slow_newcomer(app.port, source)
            .await
            .assert_error(429, "4201");
    }
    assert_eq!(
        metric(&app, "passport_connections_refused_total{cap=\"total\"}").await,
        "passport_connections_refused_total{cap=\"total\"} 2"
    );
    assert_eq!(
        metric(&app, "passport_connections_open ").await,
        format!("passport_connections_open {TOTAL}")
    );
    assert_eq!(release(held.remove(0)).await.status, 200);
    served_again(app.port, Ipv4Addr::new(127, 0, 0, 20)).await;
}

/// Idle and half-sent connections are closed by `server.keep_alive_secs`
/// and `server.head_timeout_ms` (both were actix's built-in 5 s before).
#[tokio::test]
async fn idle_and_slow_head_connections_close_at_the_configured_limits() {
    use std::time::Instant;
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.server.keep_alive_secs = 1;
        s.server.head_timeout_ms = 300;
    })
    .await;
    let mut idle = connect_from(OTHER, app.port).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_answer(&mut idle).await.status, 200);
    let started = Instant::now();
    let after = read_until_closed(&mut idle, Duration::from_secs(3)).await;
    assert!(after.body.is_empty(), "{}", after.text());
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "kept alive"
    );

    let mut slow = connect_from(OTHER, app.port).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // actix-http's own answer, before any code of ours runs (no JSON body).
    let r = read_until_closed(&mut slow, Duration::from_secs(3)).await;
    assert_eq!(r.status, 408);
}

/// actix-cors answered a refused preflight with a plain-text 400.
#[tokio::test]
async fn a_refused_cors_preflight_gets_the_contracts_json() {
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.cors.allowed_origins = vec!["https://shop.example.com".to_owned()];
    })
    .await;
    let preflight = |origin: &str, method: &str, headers: &str| {
        app.request("OPTIONS", "/passport/sms_code")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", method)
            .header("Access-Control-Request-Headers", headers)
    };
    let r = preflight("https://evil.example.net", "POST", "content-type")
        .send()
        .await;
    r.assert_error(403, "4201");
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    // A method or a header the API does not take, from the allowed origin.
    preflight("https://shop.example.com", "PUT", "content-type")
        .send()
        .await
        .assert_error(403, "4201");
    preflight("https://shop.example.com", "POST", "x-evil")
        .send()
        .await
        .assert_error(403, "4201");
    // In the client's language.
    let r = preflight("https://evil.example.net", "POST", "content-type")
        .header("Accept-Language", "en")
        .send()
        .await;
    r.assert_error(403, "4201");
    assert_eq!(r.errmsg(), "Invalid request");
    // An allowed preflight is untouched.
    let r = preflight("https://shop.example.com", "POST", "content-type")
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://shop.example.com")
    );
}
