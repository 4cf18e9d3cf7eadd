//! The Redis store beyond one plain server: its settings, TLS (standalone,
//! Cluster and Sentinel), the Cluster's slots, `WAIT`, and failover on a
//! Cluster and behind Sentinels.
//! (The contract suite itself runs on every mode in `contract.rs`.)
#![cfg(feature = "redis")]

use std::time::{Duration, Instant};

use code_store::{
    CodeCheck, CodeLimits, CodeStore, EntryKind, Issued, RedisConfig, RedisMode, RedisStore,
    SmsCodeStore, StoreError,
};
use deadpool_redis::redis;
use passport_testkit::{RedisCluster, RedisSentinel, TlsRedisServer, unique_prefix};

const MINUTE: Duration = Duration::from_secs(60);

fn cluster_config(cluster: &RedisCluster, prefix: &str) -> RedisConfig {
    RedisConfig {
        mode: RedisMode::Cluster,
        nodes: cluster.urls(),
        key_prefix: prefix.to_owned(),
        ..RedisConfig::default()
    }
}

async fn raw(port: u16) -> redis::aio::MultiplexedConnection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Every key under `prefix` on the nodes at `ports`, with its PTTL.
async fn keys_with_ttl(ports: &[u16], prefix: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for &port in ports {
        let mut conn = raw(port).await;
        // A Cluster replica answers reads only after READONLY; a
        // non-Cluster server refuses the command, and needs none.
        let _: Result<(), _> = redis::cmd("READONLY").query_async(&mut conn).await;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("*{prefix}*"))
            .query_async(&mut conn)
            .await
            .unwrap();
        for key in keys {
            let ttl: i64 = redis::cmd("PTTL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap();
            out.push((key, ttl));
        }
    }
    // A replica lists its primary's keys again, with a slightly other TTL.
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

mod settings {
    use super::*;

    fn parse(json: &str) -> Result<RedisConfig, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn nodes_and_sentinels_come_as_a_list_or_one_comma_separated_string() {
        let listed =
            parse(r#"{"mode": "cluster", "nodes": ["redis://a:7000", "redis://b:7001"]}"#).unwrap();
        let joined =
            parse(r#"{"mode": "cluster", "nodes": "redis://a:7000, redis://b:7001"}"#).unwrap();
        assert_eq!(listed, joined);
        assert_eq!(listed.nodes, ["redis://a:7000", "redis://b:7001"]);
        let s = parse(
            r#"{"mode": "sentinel", "sentinels": "redis://s:26379", "sentinel_master": "m"}"#,
        )
        .unwrap();
        assert_eq!(s.sentinels, ["redis://s:26379"]);
        assert_eq!(s.mode, RedisMode::Sentinel);
        assert_eq!(parse("{}").unwrap(), RedisConfig::default());
        assert!(
            parse(r#"{"nodez": []}"#).is_err(),
            "unknown keys are refused"
        );
        assert!(parse(r#"{"mode": "ring"}"#).is_err());
    }

    #[test]
    fn validate_names_the_bad_key() {
        let key = |c: RedisConfig| c.validate().unwrap_err().key;
        let d = RedisConfig::default;
        assert_eq!(
            key(RedisConfig {
                url: "http://x".into(),
                ..d()
            }),
            "url"
        );
        assert_eq!(
            key(RedisConfig {
                pool_size: 0,
                ..d()
            }),
            "pool_size"
        );
        assert_eq!(
            key(RedisConfig {
                command_timeout_ms: 0,
                ..d()
            }),
            "command_timeout_ms"
        );
        let cluster = || RedisConfig {
            mode: RedisMode::Cluster,
            ..d()
        };
        assert_eq!(key(cluster()), "nodes");
        assert_eq!(
            key(RedisConfig {
                nodes: vec!["redis://a:1".into(), "rediss://b:2".into()],
                ..cluster()
            }),
            "nodes"
        );
        // The url is not looked at outside standalone mode.
        assert!(
            RedisConfig {
                url: "junk".into(),
                nodes: vec!["redis://a:1".into()],
                ..cluster()
            }
            .validate()
            .is_ok()
        );
        let sentinel = || RedisConfig {
            mode: RedisMode::Sentinel,
            sentinels: vec!["redis://s:26379".into()],
            ..d()
        };
        assert_eq!(key(sentinel()), "sentinel_master");
        assert_eq!(
            key(RedisConfig {
                sentinels: vec![],
                sentinel_master: "m".into(),
                ..sentinel()
            }),
            "sentinels"
        );
        assert_eq!(
            key(RedisConfig {
                tls_ca_file: Some("/no/such/ca.pem".into()),
                ..d()
            }),
            "tls_ca_file"
        );
        let err = RedisConfig {
            url: "redis://:hunter2@[::1".into(),
            ..d()
        }
        .validate()
        .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn memory_config_validates_too() {
        let bad = code_store::MemoryConfig {
            max_ip_counters: 0,
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().key, "max_ip_counters");
        assert!(code_store::MemoryConfig::default().validate().is_ok());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_the_servers_ca_works_and_with_another_ca_is_refused() {
    let tls = TlsRedisServer::start();
    let store = |ca| {
        RedisStore::new(RedisConfig {
            url: tls.url(),
            tls_ca_file: Some(ca),
            key_prefix: unique_prefix("tls"),
            ..RedisConfig::default()
        })
        .unwrap()
    };
    let good = store(tls.ca_file());
    good.put(EntryKind::CaptchaAnswer, "ImageCode_a", "XK7P", MINUTE)
        .await
        .unwrap();
    assert_eq!(
        good.take("ImageCode_a").await.unwrap().as_deref(),
        Some("XK7P")
    );
    let wrong = store(tls.wrong_ca_file());
    match wrong.ping().await {
        Err(StoreError::Unavailable(_) | StoreError::Backend(_)) => {}
        other => panic!("a server the CA did not sign was trusted: {other:?}"),
    }
    // Plain-text Redis on a TLS port: refused too, not hung.
    let plain = RedisStore::new(RedisConfig {
        url: format!("redis://127.0.0.1:{}", tls.port()),
        ..RedisConfig::default()
    })
    .unwrap();
    assert!(plain.ping().await.is_err());
}

/// The flow a sign-up runs, through `store`: a captcha answer put and
/// taken once, an SMS code issued under an interval and a daily cap, a
/// wrong check, the right one, and the code gone after it.
async fn run_the_flow(store: &RedisStore) {
    store
        .put(EntryKind::CaptchaAnswer, "ImageCode_a", "XK7P", MINUTE)
        .await
        .unwrap();
    assert_eq!(
        store.take("ImageCode_a").await.unwrap().as_deref(),
        Some("XK7P")
    );
    assert_eq!(store.take("ImageCode_a").await.unwrap(), None, "used up");
    let n = store
        .incr(EntryKind::IpCounter, "127.0.0.1", MINUTE)
        .await
        .unwrap();
    assert_eq!(n.value, 1);
    let limits = CodeLimits {
        interval: MINUTE,
        daily_cap: 10,
        daily_window: MINUTE,
    };
    let mobile = "SMS_13800000000";
    assert_eq!(
        store
            .issue_code(mobile, "123456", MINUTE, limits)
            .await
            .unwrap(),
        Issued::Stored
    );
    assert!(matches!(
        store
            .issue_code(mobile, "654321", MINUTE, limits)
            .await
            .unwrap(),
        Issued::IntervalHeld { .. }
    ));
    assert_eq!(
        store.check_code(mobile, "000000", 5).await.unwrap(),
        CodeCheck::Rejected { attempts_left: 4 }
    );
    assert_eq!(
        store.check_code(mobile, "123456", 5).await.unwrap(),
        CodeCheck::Accepted
    );
    assert_eq!(
        store.check_code(mobile, "123456", 5).await.unwrap(),
        CodeCheck::Missing,
        "a code is accepted once"
    );
}

/// Asserts that `store` cannot reach its servers: it fails, within its
/// own bounds, and writes nothing.
async fn assert_refused(store: &RedisStore, what: &str) {
    let started = Instant::now();
    match store.ping().await {
        Err(e @ (StoreError::Unavailable(_) | StoreError::Backend(_))) => {
            println!("{what}: refused: {e}");
        }
        other => panic!("{what}: a server it cannot verify was trusted: {other:?}"),
    }
    assert!(
        store
            .put(
                EntryKind::CaptchaAnswer,
                "ImageCode_refused",
                "XK7P",
                MINUTE
            )
            .await
            .is_err(),
        "{what}: a write went through"
    );
    // Connect and command timeouts of the default settings, twice over,
    // with room for a busy machine.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{what}: refusing took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_cluster_runs_the_flow_with_its_ca_and_refuses_another_ca_or_plain_text() {
    let cluster = RedisCluster::shared_tls();
    let prefix = unique_prefix("tls-cluster");
    let config = |ca| RedisConfig {
        tls_ca_file: Some(ca),
        ..cluster_config(cluster, &prefix)
    };
    assert!(cluster.urls().iter().all(|u| u.starts_with("rediss://")));
    let good = RedisStore::new(config(cluster.ca_file().expect("a CA"))).unwrap();
    run_the_flow(&good).await;

    let wrong = RedisStore::new(config(cluster.wrong_ca_file().expect("a CA"))).unwrap();
    assert_refused(&wrong, "cluster, another CA").await;
    let plain = RedisStore::new(RedisConfig {
        nodes: cluster
            .urls()
            .iter()
            .map(|u| u.replacen("rediss://", "redis://", 1))
            .collect(),
        ..cluster_config(cluster, &prefix)
    })
    .unwrap();
    assert_refused(&plain, "cluster, plain text").await;
    assert_eq!(
        good.take("ImageCode_refused").await.unwrap(),
        None,
        "the refused stores wrote nothing"
    );
}

/// How many connections to the topology's Sentinels last sent a
/// `SENTINEL` command: the clients that asked them for the primary and
/// keep their connection (Sentinels talk to one another with `PING`,
/// `PUBLISH` and `INFO` while their primary is up). Asked over TLS.
async fn connections_that_asked_sentinels(topology: &RedisSentinel) -> usize {
    let ca = std::fs::read(topology.ca_file().expect("a CA")).unwrap();
    let mut total = 0;
    for url in topology.sentinel_urls() {
        let certificates = redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(ca.clone()),
        };
        let mut conn = redis::Client::build_with_tls(url, certificates)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let clients: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(&mut conn)
            .await
            .unwrap();
        total += clients
            .lines()
            .filter(|l| l.split(' ').any(|f| f.starts_with("cmd=sentinel")))
            .count();
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_sentinel_runs_the_flow_and_refuses_a_sentinel_or_a_primary_it_cannot_verify() {
    let topology = RedisSentinel::shared_tls();
    let prefix = unique_prefix("tls-sentinel");
    let config = |ca| RedisConfig {
        mode: RedisMode::Sentinel,
        sentinels: topology.sentinel_urls(),
        sentinel_master: topology.master_name().to_owned(),
        tls_ca_file: Some(ca),
        key_prefix: prefix.clone(),
        ..RedisConfig::default()
    };
    assert!(
        topology
            .sentinel_urls()
            .iter()
            .all(|u| u.starts_with("rediss://"))
    );
    // The Sentinels' and the data nodes' certificates come from two CAs:
    // the file trusts both.
    let good = RedisStore::new(config(topology.ca_file().expect("a CA"))).unwrap();
    run_the_flow(&good).await;

    // Trusting the Sentinels' CA only: they answer (a connection that
    // asked them stays open), and name a primary whose certificate the
    // store cannot verify.
    let before = connections_that_asked_sentinels(topology).await;
    let sentinels_only =
        RedisStore::new(config(topology.sentinel_ca_file().expect("a CA"))).unwrap();
    assert_refused(&sentinels_only, "sentinel, the primary's CA missing").await;
    let asked = connections_that_asked_sentinels(topology).await;
    assert!(
        asked > before,
        "the Sentinels were not asked: {before} -> {asked}"
    );
    // Trusting neither: not even the Sentinels are asked.
    let wrong = RedisStore::new(config(topology.wrong_ca_file().expect("a CA"))).unwrap();
    assert_refused(&wrong, "sentinel, another CA").await;
    assert_eq!(connections_that_asked_sentinels(topology).await, asked);
    assert_eq!(
        good.take("ImageCode_refused").await.unwrap(),
        None,
        "the refused stores wrote nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_of_a_code_lives_in_the_code_keys_slot() {
    let cluster = RedisCluster::shared();
    let prefix = unique_prefix("slots");
    let store = RedisStore::new(cluster_config(cluster, &prefix)).unwrap();
    let limits = CodeLimits {
        interval: MINUTE,
        daily_cap: 10,
        daily_window: MINUTE,
    };
    store
        .issue_code("SMS_13800000000", "123456", MINUTE, limits)
        .await
        .unwrap();
    store
        .check_code("SMS_13800000000", "000000", 5)
        .await
        .unwrap();
    let keys = keys_with_ttl(&cluster.ports(), &prefix).await;
    assert_eq!(keys.len(), 4, "code, tries, interval, daily: {keys:?}");
    let mut conn = raw(cluster.ports()[0]).await;
    let mut slots = Vec::new();
    for (key, ttl) in &keys {
        assert!(*ttl > 0, "{key} has no TTL");
        let slot: i64 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        slots.push(slot);
    }
    slots.dedup();
    assert_eq!(slots.len(), 1, "{keys:?} span slots {slots:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_replicas_is_met_on_the_cluster_and_on_sentinel_and_fails_when_it_cannot_be() {
    let cluster = RedisCluster::shared();
    let one = RedisStore::new(RedisConfig {
        wait_replicas: 1,
        ..cluster_config(cluster, &unique_prefix("wait1"))
    })
    .unwrap();
    for i in 0..50 {
        let key = format!("ImageCode_{i}");
        one.put(EntryKind::CaptchaAnswer, &key, "v", MINUTE)
            .await
            .unwrap();
        assert_eq!(one.take(&key).await.unwrap().as_deref(), Some("v"));
        one.incr(EntryKind::IpCounter, &format!("n{i}"), MINUTE)
            .await
            .unwrap();
    }
    // Each primary has one replica: two acknowledgements never come.
    let two = RedisStore::new(RedisConfig {
        wait_replicas: 2,
        command_timeout_ms: 200,
        ..cluster_config(cluster, &unique_prefix("wait2"))
    })
    .unwrap();
    assert!(matches!(
        two.incr(EntryKind::IpCounter, "n", MINUTE).await,
        Err(StoreError::Unavailable(_))
    ));

    let topology = RedisSentinel::shared();
    let sentinel = RedisStore::new(RedisConfig {
        mode: RedisMode::Sentinel,
        sentinels: topology.sentinel_urls(),
        sentinel_master: topology.master_name().to_owned(),
        wait_replicas: 1,
        key_prefix: unique_prefix("wait-sentinel"),
        ..RedisConfig::default()
    })
    .unwrap();
    sentinel
        .incr(EntryKind::IpCounter, "n", MINUTE)
        .await
        .unwrap();
}

/// What a loop of calls saw while a primary died.
#[derive(Debug)]
struct Outage {
    /// From the kill to the last failed call.
    window: Duration,
    failed: usize,
    succeeded: usize,
}

/// Runs put/take/incr in a loop (each call bounded by the store's
/// timeouts), calling `kill` once the loop is going, until `recovered`
/// holds and 200 calls in a row have succeeded after it.
async fn run_through_failover(
    store: &RedisStore,
    kill: impl FnOnce(),
    mut recovered: impl FnMut() -> bool,
) -> Outage {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut kill = Some(kill);
    let (mut failed, mut succeeded, mut streak) = (0, 0, 0);
    let mut killed_at = None;
    let mut last_failure = None;
    let mut failover_done = false;
    for i in 0u64.. {
        assert!(
            Instant::now() < deadline,
            "no recovery: {failed} failed calls"
        );
        if i == 100 {
            kill.take().expect("kill once")();
            killed_at = Some(Instant::now());
        }
        let key = format!("k{}", i % 64);
        let result = match i % 3 {
            0 => store
                .put(EntryKind::CaptchaAnswer, &key, "v", MINUTE)
                .await
                .map(drop),
            1 => store.take(&key).await.map(drop),
            _ => store
                .incr(EntryKind::IpCounter, &format!("n{}", i % 64), MINUTE)
                .await
                .map(drop),
        };
        match result {
            Ok(()) => {
                succeeded += 1;
                streak += 1;
            }
            Err(StoreError::Unavailable(_)) => {
                failed += 1;
                streak = 0;
                last_failure = Some(Instant::now());
            }
            Err(e) => panic!("a failover must look like unavailability, not {e:?}"),
        }
        if i % 20 == 0 && !failover_done && killed_at.is_some() {
            failover_done = recovered();
        }
        if failover_done && streak >= 200 {
            break;
        }
    }
    let killed_at = killed_at.expect("killed");
    Outage {
        window: last_failure.map_or(Duration::ZERO, |t| t.saturating_duration_since(killed_at)),
        failed,
        succeeded,
    }
}

fn failover_config(prefix: &str) -> RedisConfig {
    RedisConfig {
        connect_timeout_ms: 300,
        wait_timeout_ms: 300,
        command_timeout_ms: 300,
        key_prefix: prefix.to_owned(),
        ..RedisConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_primary_dies_calls_fail_as_unavailable_then_recover_without_a_restart() {
    let mut cluster = RedisCluster::start();
    let prefix = unique_prefix("cluster-failover");
    let store = RedisStore::new(RedisConfig {
        mode: RedisMode::Cluster,
        nodes: cluster.urls(),
        ..failover_config(&prefix)
    })
    .unwrap();
    store.ping().await.unwrap();
    let killed = std::cell::RefCell::new(None);
    let cluster_ref = std::cell::RefCell::new(&mut cluster);
    let outage = run_through_failover(
        &store,
        || *killed.borrow_mut() = Some(cluster_ref.borrow_mut().kill_primary()),
        || {
            let killed = killed.borrow();
            cluster_ref
                .borrow()
                .failover_finished(killed.as_ref().expect("killed"))
        },
    )
    .await;
    println!(
        "cluster failover: unavailable for {:?} after the kill ({} calls failed, {} succeeded)",
        outage.window, outage.failed, outage.succeeded
    );
    let keys = keys_with_ttl(&cluster.ports(), &prefix).await;
    assert!(!keys.is_empty());
    assert!(
        keys.iter().all(|(_, ttl)| *ttl > 0),
        "a key without TTL: {keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sentinel_primary_dies_calls_fail_as_unavailable_then_recover_without_a_restart() {
    let mut topology = RedisSentinel::start();
    let prefix = unique_prefix("sentinel-failover");
    let store = RedisStore::new(RedisConfig {
        mode: RedisMode::Sentinel,
        sentinels: topology.sentinel_urls(),
        sentinel_master: topology.master_name().to_owned(),
        ..failover_config(&prefix)
    })
    .unwrap();
    store.ping().await.unwrap();
    let replica = topology.replica_port();
    let topology_ref = std::cell::RefCell::new(&mut topology);
    let outage = run_through_failover(
        &store,
        || topology_ref.borrow_mut().kill_primary(),
        || topology_ref.borrow().failover_finished(),
    )
    .await;
    println!(
        "sentinel failover: unavailable for {:?} after the kill ({} calls failed, {} succeeded)",
        outage.window, outage.failed, outage.succeeded
    );
    let keys = keys_with_ttl(&[replica], &prefix).await;
    assert!(!keys.is_empty());
    assert!(
        keys.iter().all(|(_, ttl)| *ttl > 0),
        "a key without TTL: {keys:?}"
    );
}

/// The cost of `WAIT`: put + take on the Cluster with `wait_replicas` 0
/// and 1. A measurement, not a check: run with
/// `cargo test -p passport-code-store --features redis --test topologies -- --ignored --nocapture wait_cost`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run on purpose"]
async fn wait_cost() {
    let cluster = RedisCluster::shared();
    for wait_replicas in [0, 1] {
        let store = RedisStore::new(RedisConfig {
            wait_replicas,
            ..cluster_config(cluster, &unique_prefix("wait-cost"))
        })
        .unwrap();
        let n = 5_000u32;
        for i in 0..200 {
            store
                .put(EntryKind::CaptchaAnswer, &format!("w{i}"), "v", MINUTE)
                .await
                .unwrap();
            store.take(&format!("w{i}")).await.unwrap();
        }
        let mut samples = Vec::with_capacity(n as usize);
        for i in 0..n {
            let key = format!("ImageCode_{i}");
            let t = Instant::now();
            store
                .put(EntryKind::CaptchaAnswer, &key, "XK7P", MINUTE)
                .await
                .unwrap();
            store.take(&key).await.unwrap();
            samples.push(t.elapsed());
        }
        samples.sort();
        let mean = samples.iter().sum::<Duration>() / n;
        let p = |q: f64| samples[((f64::from(n) * q) as usize).min(samples.len() - 1)];
        println!(
            "wait_replicas={wait_replicas}: put+take mean {mean:?}, p50 {:?}, p99 {:?} ({n} sequential pairs)",
            p(0.5),
            p(0.99)
        );
    }
}
