//! Scaling out: two server instances on one Redis Cluster, and on one
//! Sentinel-watched primary, serve one flow between them; and a Cluster
//! failover under load answers 503/4001 (never 500), recovers without a
//! restart, and with `store.redis.wait_replicas = 1` brings no used captcha
//! back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use code_store::{RedisConfig, RedisMode, RedisStore, SharedStore};
use passport_server::Settings;
use passport_server::configuration::Secret;
use passport_testkit::{RedisCluster, RedisSentinel, unique_prefix};
use serde_json::json;

use crate::helpers::{Answers, TestApp, code_id, test_settings};

const KEY: &str = "scale-out-key-0123456789abcdef";

fn settings() -> Settings {
    let mut s = test_settings();
    s.verify_api.key = Secret::new(KEY);
    s.limits.image_codes_per_ip_per_minute = 100_000;
    s.limits.sms_per_ip_per_hour = 100_000;
    s.limits.sms_global_per_hour = 100_000;
    s
}

fn store(config: RedisConfig) -> SharedStore {
    Arc::new(RedisStore::new(config).expect("redis store"))
}

fn cluster_config(cluster: &RedisCluster, test: &str) -> RedisConfig {
    RedisConfig {
        mode: RedisMode::Cluster,
        nodes: cluster.urls(),
        key_prefix: unique_prefix(test),
        ..RedisConfig::default()
    }
}

/// A flow started on `a` and finished on `b`; each instance sees the other's
/// writes: the captcha is used once, the interval holds across both, the
/// code is accepted once whichever instance checks it.
async fn one_flow_across(a: &TestApp, b: &TestApp, mobile: &str, id_base: u32) {
    let id = code_id(id_base);
    assert_eq!(a.image_code(&id).await.status, 200);
    let answer = a.store.answer(&id);
    let r = b.sms_code(mobile, &answer, &id).await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"), "{}", r.text());
    // The captcha is used on both.
    a.sms_code("13900139000", &answer, &id)
        .await
        .assert_error(400, "4002");
    // B's interval flag holds on A.
    a.captcha_then_sms(mobile, &code_id(id_base + 1))
        .await
        .assert_error(429, "4201");
    // The code B sent is accepted once, on A; then it is gone on B.
    let code = b.last_code(mobile);
    let check = |app: &TestApp| {
        app.request("POST", "/passport/sms_code/verify")
            .header("Authorization", &format!("Bearer {KEY}"))
            .json(&json!({"mobile": mobile, "sms_code": code}))
            .send()
    };
    let r = check(a).await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"));
    check(b).await.assert_error(400, "4002");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_cluster() {
    let shared = store(cluster_config(RedisCluster::shared(), "two-on-cluster"));
    let a = TestApp::spawn_on(Arc::clone(&shared), settings()).await;
    let b = TestApp::spawn_on(shared, settings()).await;
    assert_eq!(a.get("/readyz").await.status, 200);
    // Mobiles whose keys land on different shards.
    for (i, mobile) in ["13800138001", "13800138002", "13800138003"]
        .iter()
        .enumerate()
    {
        one_flow_across(&a, &b, mobile, 10 * i as u32).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_sentinel_primary() {
    let topology = RedisSentinel::shared();
    let shared = store(RedisConfig {
        mode: RedisMode::Sentinel,
        sentinels: topology.sentinel_urls(),
        sentinel_master: topology.master_name().to_owned(),
        key_prefix: unique_prefix("two-on-sentinel"),
        ..RedisConfig::default()
    });
    let a = TestApp::spawn_on(Arc::clone(&shared), settings()).await;
    let b = TestApp::spawn_on(shared, settings()).await;
    one_flow_across(&a, &b, "13800138004", 100).await;
}

/// What a Cluster failover under load did.
struct Failover {
    /// (status, errno) → count, of flows made while it ran.
    during: std::collections::BTreeMap<(u16, String), u32>,
    /// Used captchas whose answer key is back on the new primary.
    lost_takes: u32,
    /// Of those used captchas, replayed: how many sent an SMS again.
    sent_again: u32,
    /// (status, errno) of a new flow on each instance after it.
    after: Vec<(u16, String)>,
}

/// 30 captchas used, one primary killed, flows on both instances until the
/// failover is over, then the used captchas replayed.
async fn failover(wait_replicas: u32, test: &str) -> Failover {
    // One failover at a time: each starts six nodes of its own, and the
    // machine running the suite is small.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut cluster = RedisCluster::start();
    let config = RedisConfig {
        wait_replicas,
        // WAIT may take this long for its acknowledgement on a busy machine.
        command_timeout_ms: 2_000,
        ..cluster_config(&cluster, test)
    };
    let prefix = config.key_prefix.clone();
    let shared = store(config);
    let a = TestApp::spawn_on(Arc::clone(&shared), settings()).await;
    let b = TestApp::spawn_on(shared, settings()).await;

    let mut used = Vec::new();
    for i in 0..30u32 {
        let id = code_id(1_000 + i);
        let r = a.captcha_then_sms(&format!("1380000{i:04}"), &id).await;
        assert_eq!(r.status, 200, "{}", r.text());
        used.push((id.clone(), a.store.answer(&id)));
    }

    // The primary of the global counter's slot: every SMS step touches it,
    // so the flows cannot miss the outage.
    let global = format!("{prefix}{}", verify::keys::SMS_GLOBAL);
    let out = std::process::Command::new("redis-cli")
        .args([
            "-p",
            &cluster.ports()[0].to_string(),
            "cluster",
            "keyslot",
            &global,
        ])
        .output()
        .expect("redis-cli runs");
    let slot: u16 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a slot");
    let killed = cluster.kill_primary_of_slot(slot);
    let cluster = Arc::new(cluster);
    let done = Arc::new(AtomicBool::new(false));
    let waiter = {
        let (cluster, done, killed) = (Arc::clone(&cluster), Arc::clone(&done), killed.clone());
        tokio::task::spawn_blocking(move || {
            cluster.wait_failover(&killed);
            done.store(true, Ordering::SeqCst);
        })
    };
    let mut during = std::collections::BTreeMap::new();
    let mut n = 0u32;
    while !done.load(Ordering::SeqCst) {
        let app = if n.is_multiple_of(2) { &a } else { &b };
        let r = flow(
            app,
            &format!("1390000{:04}", n % 10_000),
            &code_id(10_000 + n),
        )
        .await;
        *during.entry((r.status, r.errno())).or_default() += 1;
        n += 1;
    }
    waiter.await.unwrap();

    let mut after = Vec::new();
    for (i, app) in [&a, &b].into_iter().enumerate() {
        let r = flow(app, &format!("1370000{i:04}"), &code_id(90_000 + i as u32)).await;
        after.push((r.status, r.errno()));
    }

    let port = cluster.ports()[if cluster.ports()[0] == killed.port {
        1
    } else {
        0
    }];
    let mut lost_takes = 0;
    for (id, _) in &used {
        let out = std::process::Command::new("redis-cli")
            .args(["-c", "-p", &port.to_string(), "EXISTS"])
            .arg(format!("{prefix}ImageCode_{id}"))
            .output()
            .expect("redis-cli runs");
        if String::from_utf8_lossy(&out.stdout).trim() == "1" {
            lost_takes += 1;
        }
    }
    let mut sent_again = 0;
    for (i, (id, answer)) in used.iter().enumerate() {
        let r = b.sms_code(&format!("1360000{i:04}"), answer, id).await;
        if r.status == 200 {
            sent_again += 1;
        }
    }
    println!(
        "wait_replicas={wait_replicas}: during the failover {during:?}; after it {after:?}; \
         {lost_takes} takes lost, {sent_again} of 30 used captchas sent again"
    );
    Failover {
        during,
        lost_takes,
        sent_again,
        after,
    }
}

/// A captcha for `id`, answered right for `mobile`: the image's answer when
/// it was refused, else the SMS step's.
async fn flow(app: &TestApp, mobile: &str, id: &str) -> crate::helpers::Response {
    let image = app.image_code(id).await;
    if image.status != 200 {
        return image;
    }
    app.sms_code(mobile, &app.store.answer(id), id).await
}

/// Every answer during a failover is one the contract has for it.
fn only_contract_answers(f: &Failover) {
    for ((status, errno), count) in &f.during {
        assert!(
            matches!(
                (status, errno.as_str()),
                (200, "0") | (503, "4001") | (400, "4002")
            ),
            "{count} answers {status}/{errno} during the failover"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_failover_is_503_for_a_while_then_recovers_without_a_restart() {
    let f = failover(0, "failover-0").await;
    only_contract_answers(&f);
    assert!(
        f.during.contains_key(&(503, "4001".to_owned())),
        "the kill was never seen"
    );
    assert_eq!(f.after, [(200, "0".to_owned()), (200, "0".to_owned())]);
    // A used captcha comes back only where its take was lost.
    assert!(f.sent_again <= f.lost_takes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_wait_replicas_no_used_captcha_comes_back_and_a_shard_without_replicas_fails_closed() {
    let f = failover(1, "failover-1").await;
    only_contract_answers(&f);
    assert_eq!((f.lost_takes, f.sent_again), (0, 0));
    // The promoted replica has no replica of its own: WAIT 1 cannot be met
    // there, so its shard refuses until one is added (never sends unguarded).
    for (status, errno) in &f.after {
        assert!(
            matches!((status, errno.as_str()), (200, "0") | (503, "4001")),
            "{status}/{errno}"
        );
    }
}
