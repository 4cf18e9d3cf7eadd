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

/// Redis has no per-kind budgets, so per-IP counters are counted in a
/// bounded set of buckets. The flood (100,000+ addresses, each one
/// `POST /passport/sms_code` with a made-up captcha) against a Redis with a
/// small `maxmemory` and `noeviction` (the policy the README asks for): a
/// counter per address would need about 10 MB and fail every write once
/// the 4 MB were full. Per-mobile state written before and during the flood
/// must all be there afterwards, `image_code` and `sms_code` must never
/// answer 503, and honest clients must not be limited by the flood.
///
/// The bulk of the flood calls the store's per-IP count directly (what the
/// route does first, with the same keys); 2,000 of it go the whole HTTP way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_flood_leaves_a_small_redis_serving_and_every_per_mobile_entry_kept() {
    use std::net::{IpAddr, Ipv6Addr};
    use std::time::{Duration, Instant};

    use code_store::EntryKind;
    use verify::{ClientIp, keys};

    const MAXMEMORY: u64 = 4 * 1024 * 1024;
    const FLOOD_DIRECT: u32 = 100_000;
    const FLOOD_HTTP: u32 = 2_000;
    const MOBILES_BEFORE: u32 = 100;
    const MOBILES_DURING: u32 = 50;
    const HONEST: u32 = 200;
    const HOUR: Duration = Duration::from_secs(3600);

    let started = Instant::now();
    let redis = RedisServer::start_with(&[
        "--maxmemory",
        &MAXMEMORY.to_string(),
        "--maxmemory-policy",
        "noeviction",
    ]);
    let prefix = passport_testkit::unique_prefix("ip-flood");
    let store = shared_redis_store(&redis.url(), &prefix);
    let mut settings = test_settings();
    settings.server.trusted_proxies = vec!["127.0.0.1".to_owned()];
    let app = TestApp::spawn_on(Arc::clone(&store), settings).await;
    let info = |field: &str| -> u64 {
        let text = redis.command(&["INFO", "all"]).expect("INFO");
        text.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .unwrap_or_else(|| panic!("no {field} in INFO"))
            .trim()
            .parse()
            .unwrap()
    };
    // Attackers and honest clients, each its own IPv6 /64 (flood) or address.
    let attacker = |n: u32| {
        IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            (n >> 16) as u16,
            n as u16,
            0,
            0,
            0,
            1,
        ))
    };
    let honest = |n: u32| format!("198.51.{}.{}", n / 250, n % 250 + 1);
    let mobile = |n: u32| format!("138{n:08}");

    // One honest send from its own address: writes the code, the interval
    // flag and the daily count of `mobile(n)`.
    let send = |n: u32| {
        let app = &app;
        async move {
            let id = code_id(n);
            let from = honest(10_000 + n);
            let image = app
                .request("GET", &format!("/passport/image_code?code_id={id}"))
                .header("X-Forwarded-For", &from)
                .send()
                .await;
            assert_eq!(image.status, 200, "{}", image.text());
            let answer = app.store.answer(&id);
            let r = app
                .request("POST", "/passport/sms_code")
                .header("X-Forwarded-For", &from)
                .json(&serde_json::json!({
                    "mobile": mobile(n), "image_code": answer, "image_code_id": id,
                }))
                .send()
                .await;
            assert_eq!((r.status, r.errno().as_str()), (200, "0"), "send {n}");
        }
    };
    // One honest client's first request: a made-up captcha is 400/4002; a
    // 429 means its bucket was already full of the flood's counts.
    let first_request = |n: u32| {
        let app = &app;
        async move {
            let from = honest(n);
            let image = app
                .request(
                    "GET",
                    &format!("/passport/image_code?code_id={}", code_id(500_000 + n)),
                )
                .header("X-Forwarded-For", &from)
                .send()
                .await;
            assert_ne!(image.status, 503, "image_code failed: {}", image.text());
            let r = app
                .request("POST", "/passport/sms_code")
                .header("X-Forwarded-For", &from)
                .json(&serde_json::json!({
                    "mobile": "13900139000", "image_code": "ABCD",
                    "image_code_id": code_id(600_000 + n),
                }))
                .send()
                .await;
            assert_ne!(r.status, 503, "sms_code failed: {}", r.text());
            u32::from(image.status == 429 || r.status == 429)
        }
    };

    for n in 0..MOBILES_BEFORE {
        send(n).await;
    }
    let memory_before = info("used_memory");

    // The bulk of the flood, straight at the store, while the HTTP part,
    // more honest sends and honest clients go through the app.
    let mut bulk = tokio::task::JoinSet::new();
    const TASKS: u32 = 32;
    for t in 0..TASKS {
        let store = Arc::clone(&store);
        bulk.spawn(async move {
            for n in (t..FLOOD_DIRECT).step_by(TASKS as usize) {
                let key = keys::sms_per_ip(&ClientIp::from(attacker(n)));
                store
                    .incr(EntryKind::IpCounter, &key, HOUR)
                    .await
                    .unwrap_or_else(|e| panic!("flood count {n}: {e}"));
            }
        });
    }
    let mut wrongly_limited = 0;
    for n in 0..FLOOD_HTTP {
        let r = app
            .request("POST", "/passport/sms_code")
            .header("X-Forwarded-For", &attacker(FLOOD_DIRECT + n).to_string())
            .json(&serde_json::json!({
                "mobile": "13900139000", "image_code": "ABCD",
                "image_code_id": code_id(1_000_000 + n),
            }))
            .send()
            .await;
        r.assert_error(400, "4002");
        if n % (FLOOD_HTTP / MOBILES_DURING) == 0 {
            send(MOBILES_BEFORE + n / (FLOOD_HTTP / MOBILES_DURING)).await;
        }
        if n % (FLOOD_HTTP / (HONEST / 2)) == 0 {
            wrongly_limited += first_request(n / (FLOOD_HTTP / (HONEST / 2))).await;
        }
    }
    let flood_still_running = !bulk.is_empty();
    while let Some(done) = bulk.join_next().await {
        done.expect("a flood task panicked");
    }
    for n in HONEST / 2..HONEST {
        wrongly_limited += first_request(n).await;
    }

    // Every per-mobile entry written before and during the flood is there.
    let mut lost = 0;
    for n in 0..MOBILES_BEFORE + MOBILES_DURING {
        let code_key = format!("{prefix}SMS_{}", mobile(n));
        for key in [
            code_key.clone(),
            format!("{prefix}{{{code_key}}}:interval"),
            format!("{prefix}{{{code_key}}}:daily"),
        ] {
            if redis.command(&["EXISTS", &key]).as_deref() != Some(":1") {
                lost += 1;
                eprintln!("lost {key}");
            }
        }
    }
    let evicted = info("evicted_keys");
    let memory_after = info("used_memory");
    let keys_after = redis.command(&["DBSIZE"]).expect("DBSIZE");
    eprintln!(
        "per-IP flood on Redis: {} addresses ({FLOOD_HTTP} over HTTP) in {:.1?}, \
         maxmemory {MAXMEMORY}, noeviction; used_memory {memory_before} -> {memory_after} B, \
         keys {keys_after}, evicted {evicted}; per-mobile entries lost {lost} of {}; \
         honest clients wrongly limited {wrongly_limited} of {HONEST}; \
         HTTP part done while the bulk ran: {flood_still_running}",
        FLOOD_DIRECT + FLOOD_HTTP,
        started.elapsed(),
        (MOBILES_BEFORE + MOBILES_DURING) * 3,
    );
    assert_eq!(lost, 0, "per-mobile entries lost");
    assert_eq!(evicted, 0);
    assert!(memory_after < MAXMEMORY, "{memory_after} B");
    assert_eq!(wrongly_limited, 0, "honest clients limited by the flood");
    // The interval flags still hold over HTTP, and the codes check.
    for n in (0..MOBILES_BEFORE + MOBILES_DURING).step_by(10) {
        let id = code_id(700_000 + n);
        let from = honest(20_000 + n);
        let image = app
            .request("GET", &format!("/passport/image_code?code_id={id}"))
            .header("X-Forwarded-For", &from)
            .send()
            .await;
        assert_eq!(image.status, 200);
        app.request("POST", "/passport/sms_code")
            .header("X-Forwarded-For", &from)
            .json(&serde_json::json!({
                "mobile": mobile(n), "image_code": app.store.answer(&id), "image_code_id": id,
            }))
            .send()
            .await
            .assert_error(429, "4201");
    }
    for n in 0..MOBILES_BEFORE + MOBILES_DURING {
        let check = store
            .check_code(&format!("SMS_{}", mobile(n)), &app.last_code(&mobile(n)), 5)
            .await
            .unwrap();
        assert_eq!(
            check,
            code_store::CodeCheck::Accepted,
            "code of {}",
            mobile(n)
        );
    }
}
