//! put + take throughput of each store: one pair at a time (latency-bound),
//! and 64 pairs at once (what a busy server does).
//!
//! The Redis figures use a private `redis-server` started here, over
//! loopback TCP.

use std::sync::Arc;
use std::time::Duration;

use code_store::{CodeStore, EntryKind, MemoryConfig, MemoryStore};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

const TTL: Duration = Duration::from_secs(300);
const PARALLEL: usize = 64;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

async fn put_take(store: &dyn CodeStore, key: &str) {
    store
        .put(EntryKind::CaptchaAnswer, key, "XK7P", TTL)
        .await
        .expect("put");
    let value = store.take(key).await.expect("take");
    assert_eq!(value.as_deref(), Some("XK7P"));
}

async fn put_take_parallel(store: &Arc<dyn CodeStore>) {
    let mut tasks = JoinSet::new();
    for i in 0..PARALLEL {
        let store = Arc::clone(store);
        tasks.spawn(async move { put_take(store.as_ref(), &format!("ImageCode_{i}")).await });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task");
    }
}

fn bench_store(c: &mut Criterion, name: &str, rt: &Runtime, store: Arc<dyn CodeStore>) {
    let mut group = c.benchmark_group(format!("{name}/put_take"));
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_at_a_time", |b| {
        b.to_async(rt)
            .iter(|| put_take(store.as_ref(), "ImageCode_bench"));
    });
    group.throughput(Throughput::Elements(PARALLEL as u64));
    group.bench_function(format!("{PARALLEL}_at_once"), |b| {
        b.to_async(rt).iter(|| put_take_parallel(&store));
    });
    group.finish();
}

fn memory(c: &mut Criterion) {
    let rt = runtime();
    let store: Arc<dyn CodeStore> = rt.block_on(async {
        Arc::new(MemoryStore::new(MemoryConfig::default())) as Arc<dyn CodeStore>
    });
    bench_store(c, "memory", &rt, store);
}

#[cfg(feature = "redis")]
fn redis(c: &mut Criterion) {
    use code_store::{RedisConfig, RedisStore};

    let server = passport_testkit::RedisServer::start();
    let rt = runtime();
    let store = RedisStore::new(RedisConfig {
        url: server.url(),
        key_prefix: "bench:".to_owned(),
        ..RedisConfig::default()
    })
    .expect("redis store");
    bench_store(c, "redis", &rt, Arc::new(store));
    drop(server);
}

#[cfg(not(feature = "redis"))]
fn redis(_: &mut Criterion) {
    eprintln!("redis benches skipped: build with --features redis");
}

criterion_group!(benches, memory, redis);
criterion_main!(benches);
