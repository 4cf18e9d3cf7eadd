//! What the rules cost on top of the store: `send_sms_code` on its success
//! path and `check_sms_code` accepting a code, one at a time (latency-bound:
//! each store round trip counts) and 64 at once (what a busy server does).
//!
//! Limits as in the load benchmark: interval and daily cap on, per-IP and
//! global caps off, the discard sender. Captchas and codes are seeded before
//! the clock starts, so rendering is not in the figures. With feature `redis`
//! the same runs against a private `redis-server` over loopback TCP.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use code_store::{CodeLimits, EntryKind, MemoryConfig, MemoryStore, SharedStore};

/// Seeds a code as a send with every limit off would.
const NO_LIMITS: CodeLimits = CodeLimits {
    interval: Duration::ZERO,
    daily_cap: 0,
    daily_window: Duration::from_secs(24 * 60 * 60),
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;
use verify::captcha_render::{Params, Renderer};
use verify::{
    ClientIp, DiscardSender, ImageCodeId, Mobile, MobileRule, Passport, Policy, SmsCode, keys,
};

const PARALLEL: u64 = 64;
const ANSWER: &str = "ACEF";

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn policy() -> Policy {
    Policy {
        sms_per_ip_per_hour: 0,
        sms_global_per_hour: 0,
        ..Policy::default()
    }
}

/// A distinct mobile and captcha id per request, across every run.
fn nth(n: u64) -> (Mobile, ImageCodeId) {
    let mobile = MobileRule::default()
        .parse(&format!("13{:09}", n % 1_000_000_000))
        .expect("mobile");
    let id = ImageCodeId::parse(&format!("00000000-0000-4000-8000-{n:012}")).expect("id");
    (mobile, id)
}

static NEXT: AtomicU64 = AtomicU64::new(0);

fn ip() -> ClientIp {
    ClientIp(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The rules over `store`, with the benchmark's policy and no SMS I/O.
fn passport_over(store: &SharedStore) -> Passport {
    Passport::new(
        Arc::clone(store),
        Arc::new(DiscardSender),
        Renderer::new(Params::default()).expect("renderer"),
        policy(),
    )
}

/// `iters` sends, `parallel` at a time; returns the time the sends took.
async fn sends(store: SharedStore, iters: u64, parallel: u64) -> Duration {
    let passport = passport_over(&store);
    let first = NEXT.fetch_add(iters, Ordering::Relaxed);
    let ttl = Duration::from_secs(300);
    for n in first..first + iters {
        let (_, id) = nth(n);
        store
            .put(
                EntryKind::CaptchaAnswer,
                &keys::image_code(&id),
                ANSWER,
                ttl,
            )
            .await
            .expect("seed");
    }
    let started = Instant::now();
    run(iters, parallel, first, move |n| {
        let passport = passport.clone();
        async move {
            let (mobile, id) = nth(n);
            passport
                .send_sms_code(&mobile, ANSWER, &id, &ip())
                .await
                .expect("send");
        }
    })
    .await;
    started.elapsed()
}

/// `iters` accepted checks, `parallel` at a time.
async fn checks(store: SharedStore, iters: u64, parallel: u64) -> Duration {
    let passport = passport_over(&store);
    let first = NEXT.fetch_add(iters, Ordering::Relaxed);
    let ttl = Duration::from_secs(300);
    for n in first..first + iters {
        let (mobile, _) = nth(n);
        store
            .issue_code(&keys::sms_code(&mobile), "042042", ttl, NO_LIMITS)
            .await
            .expect("seed");
    }
    let code = SmsCode::parse("042042").expect("code");
    let started = Instant::now();
    run(iters, parallel, first, move |n| {
        let (passport, code) = (passport.clone(), code.clone());
        async move {
            let (mobile, _) = nth(n);
            passport
                .check_sms_code(&mobile, &code)
                .await
                .expect("accepted");
        }
    })
    .await;
    started.elapsed()
}

/// Runs `op(first..first + iters)` with at most `parallel` in flight.
async fn run<F, Fut>(iters: u64, parallel: u64, first: u64, op: F)
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if parallel == 1 {
        for n in first..first + iters {
            op(n).await;
        }
        return;
    }
    let mut tasks = JoinSet::new();
    for n in first..first + iters {
        if tasks.len() as u64 >= parallel {
            tasks.join_next().await.expect("task").expect("task");
        }
        tasks.spawn(op(n));
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task");
    }
}

fn bench_rules(c: &mut Criterion, name: &str, rt: &Runtime, store: impl Fn() -> SharedStore) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    for (label, parallel) in [("one_at_a_time", 1), ("64_at_once", PARALLEL)] {
        group.bench_function(format!("send_sms_code/{label}"), |b| {
            b.to_async(rt)
                .iter_custom(|iters| sends(store(), iters, parallel));
        });
        group.bench_function(format!("check_sms_code/{label}"), |b| {
            b.to_async(rt)
                .iter_custom(|iters| checks(store(), iters, parallel));
        });
    }
    group.finish();
}

fn memory(c: &mut Criterion) {
    let rt = runtime();
    // A fresh store per measurement, so seeded entries never pile up.
    let store = || -> SharedStore {
        Arc::new(MemoryStore::new(MemoryConfig {
            max_captcha_answers: 10_000_000,
            max_mobile_entries: 20_000_000,
            max_sms_codes: 10_000_000,
            ..MemoryConfig::default()
        }))
    };
    let _guard = rt.enter();
    bench_rules(c, "memory", &rt, store);
}

#[cfg(feature = "redis")]
fn redis(c: &mut Criterion) {
    let rt = runtime();
    let server = passport_testkit::RedisServer::start();
    let url = server.url();
    let store = move || -> SharedStore {
        Arc::new(
            code_store::RedisStore::new(code_store::RedisConfig {
                url: url.clone(),
                key_prefix: passport_testkit::unique_prefix("bench"),
                ..code_store::RedisConfig::default()
            })
            .expect("redis store"),
        )
    };
    bench_rules(c, "redis", &rt, store);
    drop(server);
}

#[cfg(feature = "redis")]
criterion_group!(benches, memory, redis);
#[cfg(not(feature = "redis"))]
criterion_group!(benches, memory);
criterion_main!(benches);
