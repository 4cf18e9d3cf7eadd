//! One contract, every store: the same tests run against the memory store
//! and (with the `redis` feature) the Redis store, standalone, on a Cluster
//! and behind Sentinels (each of those two also over TLS only), each test
//! under its own key prefix.
// Test binaries: `pub` items in their modules are reachable from the
// test modules only, which is what they are for.
#![allow(unreachable_pub)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use code_store::{
    CodeCheck, CodeLimits, CodeStore, EntryKind, Issued, MemoryConfig, MemoryStore, SharedStore,
    SmsCodeStore, StoreError,
};
use passport_testkit::unique_prefix;

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Interval `interval` seconds (0: off), `cap` codes a day (0: off).
fn limits(interval: u64, cap: u32) -> CodeLimits {
    CodeLimits {
        interval: Duration::from_secs(interval),
        daily_cap: cap,
        daily_window: DAY,
    }
}

/// Stores a code with no limits: what the contract's code tests start from.
#[async_trait::async_trait]
trait PutCode {
    async fn put_code(&self, key: &str, code: &str, ttl: Duration) -> Result<(), StoreError>;
}

#[async_trait::async_trait]
impl<T: SmsCodeStore + ?Sized> PutCode for T {
    async fn put_code(&self, key: &str, code: &str, ttl: Duration) -> Result<(), StoreError> {
        match self.issue_code(key, code, ttl, limits(0, 0)).await? {
            Issued::Stored => Ok(()),
            other => panic!("no limits, yet {other:?}"),
        }
    }
}

/// A store under test plus whatever must outlive it (a Redis server).
struct Fixture {
    store: SharedStore,
    #[cfg(feature = "redis")]
    redis: Option<redis_support::RedisFixture>,
}

impl Fixture {
    /// Another store on the same backend, under its own prefix.
    fn sibling(&self, test: &str) -> Fixture {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            return redis.sibling(test);
        }
        memory(test)
    }
}

fn memory(test: &str) -> Fixture {
    Fixture {
        store: Arc::new(MemoryStore::new(MemoryConfig {
            key_prefix: unique_prefix(test),
            ..MemoryConfig::default()
        })),
        #[cfg(feature = "redis")]
        redis: None,
    }
}

/// Runs `n` copies of `op` on `store` at once (released together by a
/// barrier) and collects their results.
async fn in_parallel<T, F, Fut>(store: &SharedStore, n: usize, op: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(SharedStore, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    passport_testkit::in_parallel(n, |i| op(Arc::clone(store), i)).await
}

/// The contract itself: generic over the store, called once per store.
mod contract {
    use super::*;

    pub async fn put_then_take_reads_once(fx: &Fixture) {
        let s = &fx.store;
        s.put(EntryKind::CaptchaAnswer, "ImageCode_a", "XK7P", MINUTE)
            .await
            .unwrap();
        assert_eq!(
            s.take("ImageCode_a").await.unwrap().as_deref(),
            Some("XK7P")
        );
        assert_eq!(s.take("ImageCode_a").await.unwrap(), None);
        assert_eq!(s.take("never_written").await.unwrap(), None);
    }

    pub async fn put_replaces(fx: &Fixture) {
        let s = &fx.store;
        s.put(EntryKind::CaptchaAnswer, "k", "old", MINUTE)
            .await
            .unwrap();
        s.put(EntryKind::CaptchaAnswer, "k", "new", MINUTE)
            .await
            .unwrap();
        assert_eq!(s.take("k").await.unwrap().as_deref(), Some("new"));
    }

    pub async fn values_round_trip_unchanged(fx: &Fixture) {
        let s = &fx.store;
        for value in ["", " spaced ", "图片验证码", "a\nb\0c", "{SMS_1}:tries"] {
            s.put(EntryKind::CaptchaAnswer, "k", value, MINUTE)
                .await
                .unwrap();
            assert_eq!(s.take("k").await.unwrap().as_deref(), Some(value));
        }
    }

    pub async fn zero_ttl_is_refused(fx: &Fixture) {
        let s = &fx.store;
        let zero = Duration::ZERO;
        assert!(matches!(
            s.put(EntryKind::CaptchaAnswer, "k", "v", zero).await,
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            s.incr(EntryKind::GlobalCounter, "k", zero).await,
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            s.put_code("k", "1", zero).await,
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            s.issue_code("k", "1", zero, limits(0, 0)).await,
            Err(StoreError::Backend(_))
        ));
        let no_window = CodeLimits {
            daily_window: zero,
            ..limits(0, 1)
        };
        assert!(matches!(
            s.issue_code("k", "1", MINUTE, no_window).await,
            Err(StoreError::Backend(_))
        ));
        assert_eq!(s.take("k").await.unwrap(), None);
        // A zero window is fine while the cap it belongs to is off.
        let cap_off = CodeLimits {
            daily_window: zero,
            ..limits(0, 0)
        };
        assert_eq!(
            s.issue_code("k", "1", MINUTE, cap_off).await.unwrap(),
            Issued::Stored
        );
    }

    pub async fn endless_ttl_is_refused(fx: &Fixture) {
        let s = &fx.store;
        let endless = Duration::MAX;
        assert!(matches!(
            s.put(EntryKind::CaptchaAnswer, "k", "v", endless).await,
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            s.incr(EntryKind::GlobalCounter, "k", endless).await,
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            s.put_code("k", "1", endless).await,
            Err(StoreError::Backend(_))
        ));
        let endless_interval = CodeLimits {
            interval: endless,
            ..limits(0, 0)
        };
        assert!(matches!(
            s.issue_code("k", "1", MINUTE, endless_interval).await,
            Err(StoreError::Backend(_))
        ));
        assert_eq!(s.take("k").await.unwrap(), None, "nothing written");
        s.put(EntryKind::CaptchaAnswer, "k", "v", code_store::MAX_TTL)
            .await
            .unwrap();
        assert_eq!(s.take("k").await.unwrap().as_deref(), Some("v"));
    }

    pub async fn incr_counts_within_its_window(fx: &Fixture) {
        let s = &fx.store;
        let first = s.incr(EntryKind::GlobalCounter, "n", MINUTE).await.unwrap();
        assert_eq!(first.value, 1);
        assert!(first.ttl <= MINUTE && first.ttl > MINUTE - Duration::from_secs(5));
        let second = s
            .incr(EntryKind::GlobalCounter, "n", Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(second.value, 2);
        // The window is set when the counter is created, never extended.
        assert!(second.ttl <= MINUTE);
        assert_eq!(s.take("n").await.unwrap().as_deref(), Some("2"));
    }

    pub async fn incr_refuses_a_non_counter(fx: &Fixture) {
        let s = &fx.store;
        s.put(EntryKind::CaptchaAnswer, "text", "abc", MINUTE)
            .await
            .unwrap();
        assert!(matches!(
            s.incr(EntryKind::GlobalCounter, "text", MINUTE).await,
            Err(StoreError::Backend(_))
        ));
        assert_eq!(s.take("text").await.unwrap().as_deref(), Some("abc"));
    }

    pub async fn decr_gives_back_and_never_creates(fx: &Fixture) {
        let s = &fx.store;
        s.decr("missing").await.unwrap();
        assert_eq!(s.take("missing").await.unwrap(), None);

        s.incr(EntryKind::GlobalCounter, "n", MINUTE).await.unwrap();
        s.incr(EntryKind::GlobalCounter, "n", MINUTE).await.unwrap();
        s.decr("n").await.unwrap();
        assert_eq!(
            s.incr(EntryKind::GlobalCounter, "n", MINUTE)
                .await
                .unwrap()
                .value,
            2
        );
        s.decr("n").await.unwrap();
        s.decr("n").await.unwrap();
        s.decr("n").await.unwrap();
        let after = s
            .incr(EntryKind::GlobalCounter, "n", Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(after.value, 1, "never below zero");
        assert!(after.ttl <= MINUTE, "decr keeps the window");
    }

    pub async fn ping_answers(fx: &Fixture) {
        fx.store.ping().await.unwrap();
    }

    pub async fn code_is_accepted_once(fx: &Fixture) {
        let s = &fx.store;
        s.put_code("SMS_13812345678", "012345", MINUTE)
            .await
            .unwrap();
        assert_eq!(
            s.check_code("SMS_13812345678", "012345", 5).await.unwrap(),
            CodeCheck::Accepted
        );
        assert_eq!(
            s.check_code("SMS_13812345678", "012345", 5).await.unwrap(),
            CodeCheck::Missing
        );
        assert_eq!(
            s.check_code("SMS_never", "012345", 5).await.unwrap(),
            CodeCheck::Missing
        );
    }

    pub async fn wrong_checks_count_down_then_void(fx: &Fixture) {
        let s = &fx.store;
        s.put_code("SMS_1", "111111", MINUTE).await.unwrap();
        for left in (0..5).rev() {
            assert_eq!(
                s.check_code("SMS_1", "222222", 5).await.unwrap(),
                CodeCheck::Rejected {
                    attempts_left: left
                }
            );
        }
        // Void: even the right code is gone now.
        assert_eq!(
            s.check_code("SMS_1", "111111", 5).await.unwrap(),
            CodeCheck::Missing
        );
    }

    pub async fn a_prefix_or_a_longer_code_is_wrong(fx: &Fixture) {
        let s = &fx.store;
        s.put_code("SMS_1", "123456", MINUTE).await.unwrap();
        for wrong in ["12345", "1234567", "", "123456 "] {
            assert!(matches!(
                s.check_code("SMS_1", wrong, 10).await.unwrap(),
                CodeCheck::Rejected { .. }
            ));
        }
        assert_eq!(
            s.check_code("SMS_1", "123456", 10).await.unwrap(),
            CodeCheck::Accepted
        );
    }

    pub async fn put_code_resets_wrong_checks(fx: &Fixture) {
        let s = &fx.store;
        s.put_code("SMS_1", "111111", MINUTE).await.unwrap();
        for _ in 0..4 {
            s.check_code("SMS_1", "000000", 5).await.unwrap();
        }
        s.put_code("SMS_1", "333333", MINUTE).await.unwrap();
        assert_eq!(
            s.check_code("SMS_1", "000000", 5).await.unwrap(),
            CodeCheck::Rejected { attempts_left: 4 }
        );
        assert_eq!(
            s.check_code("SMS_1", "333333", 5).await.unwrap(),
            CodeCheck::Accepted
        );
    }

    pub async fn take_of_a_code_reads_it(fx: &Fixture) {
        // Sending failed: the service takes the code back out.
        let s = &fx.store;
        s.put_code("SMS_1", "654321", MINUTE).await.unwrap();
        assert_eq!(s.take("SMS_1").await.unwrap().as_deref(), Some("654321"));
        assert_eq!(
            s.check_code("SMS_1", "654321", 5).await.unwrap(),
            CodeCheck::Missing
        );
    }

    pub async fn prefixes_keep_stores_apart(fx: &Fixture, other: &Fixture) {
        fx.store
            .put(EntryKind::CaptchaAnswer, "k", "mine", MINUTE)
            .await
            .unwrap();
        assert_eq!(other.store.take("k").await.unwrap(), None);
        assert_eq!(fx.store.take("k").await.unwrap().as_deref(), Some("mine"));
    }

    pub async fn parallel_take_yields_one_value(fx: &Fixture) {
        fx.store
            .put(EntryKind::CaptchaAnswer, "ImageCode_x", "ABCD", MINUTE)
            .await
            .unwrap();
        let results = in_parallel(&fx.store, 1_000, |s, _| async move {
            s.take("ImageCode_x").await.unwrap()
        })
        .await;
        let values: Vec<_> = results.into_iter().flatten().collect();
        assert_eq!(values, ["ABCD"]);
    }

    /// Per-IP counters: a bounded store may forget one (memory) or count it
    /// in a bucket it shares (Redis), but one address's own counts add up
    /// within the window set by its first count.
    pub async fn per_ip_counts_within_its_window(fx: &Fixture) {
        let s = &fx.store;
        let key = "SMSPerIp_192.0.2.7";
        let first = s.incr(EntryKind::IpCounter, key, MINUTE).await.unwrap();
        assert_eq!(first.value, 1);
        assert!(first.ttl <= MINUTE && first.ttl > MINUTE - Duration::from_secs(5));
        let second = s
            .incr(EntryKind::IpCounter, key, Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(second.value, 2);
        assert!(second.ttl <= MINUTE, "the window is never extended");
        for zero_or_endless in [Duration::ZERO, Duration::MAX] {
            assert!(matches!(
                s.incr(EntryKind::IpCounter, key, zero_or_endless).await,
                Err(StoreError::Backend(_))
            ));
        }
        let results = in_parallel(s, 500, |s, _| async move {
            s.incr(EntryKind::IpCounter, "SMSPerIp_192.0.2.8", MINUTE)
                .await
                .unwrap()
                .value
        })
        .await;
        let seen: BTreeSet<u64> = results.into_iter().collect();
        assert_eq!(seen.len(), 500, "every call counted");
    }

    pub async fn parallel_incr_counts_every_call(fx: &Fixture) {
        let results = in_parallel(&fx.store, 10_000, |s, _| async move {
            s.incr(EntryKind::GlobalCounter, "n", MINUTE)
                .await
                .unwrap()
                .value
        })
        .await;
        let seen: BTreeSet<u64> = results.into_iter().collect();
        assert_eq!(seen.len(), 10_000, "every call saw its own value");
        assert_eq!(seen.first(), Some(&1));
        assert_eq!(seen.last(), Some(&10_000));
        assert_eq!(
            fx.store
                .incr(EntryKind::GlobalCounter, "n", MINUTE)
                .await
                .unwrap()
                .value,
            10_001
        );
    }

    pub async fn parallel_correct_checks_accept_once(fx: &Fixture) {
        fx.store
            .put_code("SMS_13800000000", "424242", MINUTE)
            .await
            .unwrap();
        let results = in_parallel(&fx.store, 1_000, |s, _| async move {
            s.check_code("SMS_13800000000", "424242", 5).await.unwrap()
        })
        .await;
        let accepted = results
            .iter()
            .filter(|c| **c == CodeCheck::Accepted)
            .count();
        let missing = results.iter().filter(|c| **c == CodeCheck::Missing).count();
        assert_eq!((accepted, missing), (1, 999));
    }

    pub async fn parallel_wrong_checks_void_after_max(fx: &Fixture) {
        fx.store
            .put_code("SMS_13800000000", "424242", MINUTE)
            .await
            .unwrap();
        let results = in_parallel(&fx.store, 100, |s, i| async move {
            s.check_code("SMS_13800000000", &format!("{i:06}"), 5)
                .await
                .unwrap()
        })
        .await;
        let mut left: Vec<u32> = results
            .iter()
            .filter_map(|c| match c {
                CodeCheck::Rejected { attempts_left } => Some(*attempts_left),
                _ => None,
            })
            .collect();
        left.sort_unstable();
        assert_eq!(left, [0, 1, 2, 3, 4], "exactly 5 wrong checks counted");
        assert_eq!(
            results.iter().filter(|c| **c == CodeCheck::Missing).count(),
            95
        );
        assert_eq!(
            fx.store
                .check_code("SMS_13800000000", "424242", 5)
                .await
                .unwrap(),
            CodeCheck::Missing,
            "the code is void"
        );
    }

    pub async fn issued_code_is_checked_like_a_put_one(fx: &Fixture) {
        let s = &fx.store;
        let issued = s
            .issue_code("SMS_1", "012345", MINUTE, limits(60, 10))
            .await
            .unwrap();
        assert_eq!(issued, Issued::Stored);
        assert_eq!(
            s.check_code("SMS_1", "000000", 5).await.unwrap(),
            CodeCheck::Rejected { attempts_left: 4 }
        );
        assert_eq!(
            s.check_code("SMS_1", "012345", 5).await.unwrap(),
            CodeCheck::Accepted
        );
        assert_eq!(
            s.check_code("SMS_1", "012345", 5).await.unwrap(),
            CodeCheck::Missing
        );
    }

    pub async fn interval_holds_and_changes_nothing(fx: &Fixture) {
        let s = &fx.store;
        let l = limits(60, 0);
        assert_eq!(
            s.issue_code("SMS_1", "111111", MINUTE, l).await.unwrap(),
            Issued::Stored
        );
        match s.issue_code("SMS_1", "222222", MINUTE, l).await.unwrap() {
            Issued::IntervalHeld { retry_after } => {
                assert!(retry_after <= MINUTE && retry_after > MINUTE - Duration::from_secs(5));
            }
            other => panic!("expected the interval, got {other:?}"),
        }
        // Other keys have intervals of their own.
        assert_eq!(
            s.issue_code("SMS_2", "333333", MINUTE, l).await.unwrap(),
            Issued::Stored
        );
        // The refused code did not replace the first one.
        assert_eq!(
            s.check_code("SMS_1", "111111", 5).await.unwrap(),
            CodeCheck::Accepted
        );
        // A code used up does not end its interval.
        assert!(matches!(
            s.issue_code("SMS_1", "444444", MINUTE, l).await.unwrap(),
            Issued::IntervalHeld { .. }
        ));
    }

    pub async fn daily_cap_counts_and_a_refusal_changes_nothing(fx: &Fixture) {
        let s = &fx.store;
        let l = limits(0, 3);
        for code in ["111111", "222222", "333333"] {
            assert_eq!(
                s.issue_code("SMS_1", code, MINUTE, l).await.unwrap(),
                Issued::Stored
            );
        }
        for _ in 0..3 {
            match s.issue_code("SMS_1", "444444", MINUTE, l).await.unwrap() {
                Issued::DailyCapReached { retry_after } => {
                    assert!(retry_after <= DAY && retry_after > DAY - Duration::from_secs(5));
                }
                other => panic!("expected the cap, got {other:?}"),
            }
        }
        // Refusals did not count: a cap of 4 lets exactly one more through.
        assert_eq!(
            s.issue_code("SMS_1", "555555", MINUTE, limits(0, 4))
                .await
                .unwrap(),
            Issued::Stored
        );
        assert!(matches!(
            s.issue_code("SMS_1", "666666", MINUTE, limits(0, 4))
                .await
                .unwrap(),
            Issued::DailyCapReached { .. }
        ));
        assert_eq!(
            s.check_code("SMS_1", "555555", 5).await.unwrap(),
            CodeCheck::Accepted
        );
    }

    pub async fn interval_answers_before_the_cap_and_a_cap_refusal_sets_no_interval(fx: &Fixture) {
        let s = &fx.store;
        // One code counted, with no interval begun.
        assert_eq!(
            s.issue_code("SMS_1", "111111", MINUTE, limits(0, 1))
                .await
                .unwrap(),
            Issued::Stored
        );
        assert!(matches!(
            s.issue_code("SMS_1", "222222", MINUTE, limits(60, 1))
                .await
                .unwrap(),
            Issued::DailyCapReached { .. }
        ));
        // That refusal began no interval: a higher cap lets a code through.
        assert_eq!(
            s.issue_code("SMS_1", "333333", MINUTE, limits(60, 2))
                .await
                .unwrap(),
            Issued::Stored
        );
        // Now both the interval and the cap refuse: the interval answers.
        assert!(matches!(
            s.issue_code("SMS_1", "444444", MINUTE, limits(60, 2))
                .await
                .unwrap(),
            Issued::IntervalHeld { .. }
        ));
    }

    pub async fn issue_code_resets_wrong_checks(fx: &Fixture) {
        let s = &fx.store;
        s.put_code("SMS_1", "111111", MINUTE).await.unwrap();
        for _ in 0..4 {
            s.check_code("SMS_1", "000000", 5).await.unwrap();
        }
        s.issue_code("SMS_1", "333333", MINUTE, limits(0, 0))
            .await
            .unwrap();
        assert_eq!(
            s.check_code("SMS_1", "000000", 5).await.unwrap(),
            CodeCheck::Rejected { attempts_left: 4 }
        );
    }

    pub async fn revoke_takes_the_code_interval_and_count_back(fx: &Fixture) {
        let s = &fx.store;
        let l = limits(60, 1);
        assert_eq!(
            s.issue_code("SMS_1", "111111", MINUTE, l).await.unwrap(),
            Issued::Stored
        );
        s.check_code("SMS_1", "000000", 5).await.unwrap();
        s.revoke_code("SMS_1").await.unwrap();
        assert_eq!(
            s.check_code("SMS_1", "111111", 5).await.unwrap(),
            CodeCheck::Missing
        );
        // No interval, and the cap of 1 has room again.
        assert_eq!(
            s.issue_code("SMS_1", "222222", MINUTE, l).await.unwrap(),
            Issued::Stored
        );
        // Fresh wrong-check count.
        assert_eq!(
            s.check_code("SMS_1", "000000", 5).await.unwrap(),
            CodeCheck::Rejected { attempts_left: 4 }
        );
    }

    pub async fn revoke_never_goes_below_zero(fx: &Fixture) {
        let s = &fx.store;
        s.revoke_code("SMS_never").await.unwrap();
        let l = limits(0, 1);
        s.issue_code("SMS_1", "111111", MINUTE, l).await.unwrap();
        s.revoke_code("SMS_1").await.unwrap();
        s.revoke_code("SMS_1").await.unwrap();
        // Count 0, not -1: the cap of 1 lets exactly one code through.
        assert_eq!(
            s.issue_code("SMS_1", "222222", MINUTE, l).await.unwrap(),
            Issued::Stored
        );
        assert!(matches!(
            s.issue_code("SMS_1", "333333", MINUTE, l).await.unwrap(),
            Issued::DailyCapReached { .. }
        ));
    }

    pub async fn parallel_issues_within_an_interval_store_one(fx: &Fixture) {
        let results = in_parallel(&fx.store, 1_000, |s, i| async move {
            let code = format!("{i:06}");
            let issued = s
                .issue_code("SMS_13800000000", &code, MINUTE, limits(60, 10))
                .await
                .unwrap();
            (code, issued)
        })
        .await;
        let stored: Vec<_> = results
            .iter()
            .filter(|(_, issued)| *issued == Issued::Stored)
            .collect();
        assert_eq!(stored.len(), 1, "one code wins the interval");
        assert!(
            results
                .iter()
                .all(|(_, i)| matches!(i, Issued::Stored | Issued::IntervalHeld { .. }))
        );
        assert_eq!(
            fx.store
                .check_code("SMS_13800000000", &stored[0].0, 5)
                .await
                .unwrap(),
            CodeCheck::Accepted,
            "the winner's code is the one stored"
        );
    }

    pub async fn parallel_issues_stop_at_the_cap(fx: &Fixture) {
        let results = in_parallel(&fx.store, 500, |s, i| async move {
            s.issue_code("SMS_13800000000", &format!("{i:06}"), MINUTE, limits(0, 10))
                .await
                .unwrap()
        })
        .await;
        let stored = results.iter().filter(|i| **i == Issued::Stored).count();
        let capped = results
            .iter()
            .filter(|i| matches!(i, Issued::DailyCapReached { .. }))
            .count();
        assert_eq!((stored, capped), (10, 490));
    }

    pub async fn parallel_issue_and_revoke_count_back_to_zero(fx: &Fixture) {
        in_parallel(&fx.store, 500, |s, i| async move {
            let issued = s
                .issue_code(
                    "SMS_13800000000",
                    &format!("{i:06}"),
                    MINUTE,
                    limits(0, 1_000),
                )
                .await
                .unwrap();
            assert_eq!(issued, Issued::Stored);
            s.revoke_code("SMS_13800000000").await.unwrap();
        })
        .await;
        // Every count given back: the cap of 1 lets exactly one through.
        let s = &fx.store;
        let l = limits(0, 1);
        assert_eq!(
            s.issue_code("SMS_13800000000", "1", MINUTE, l)
                .await
                .unwrap(),
            Issued::Stored
        );
        assert!(matches!(
            s.issue_code("SMS_13800000000", "2", MINUTE, l)
                .await
                .unwrap(),
            Issued::DailyCapReached { .. }
        ));
    }

    /// A mixed busy run; each store then checks what it left behind.
    #[cfg(feature = "redis")]
    pub async fn busy_run(fx: &Fixture) {
        in_parallel(&fx.store, 500, |s, i| async move {
            let key = format!("k{}", i % 50);
            match i % 7 {
                0 => s
                    .put(EntryKind::CaptchaAnswer, &key, "v", MINUTE)
                    .await
                    .map(drop),
                1 => s.take(&key).await.map(drop),
                2 => s
                    .incr(EntryKind::MobileState, &format!("f{}", i % 50), MINUTE)
                    .await
                    .map(drop),
                3 if i % 2 == 0 => s
                    .incr(EntryKind::GlobalCounter, &format!("n{}", i % 50), MINUTE)
                    .await
                    .map(drop),
                3 => s
                    .issue_code(&format!("SMS_{}", i % 50), "123456", MINUTE, limits(1, 3))
                    .await
                    .map(drop),
                4 if i % 2 == 0 => s.decr(&format!("n{}", i % 50)).await,
                4 => s.revoke_code(&format!("SMS_{}", i % 50)).await,
                5 => {
                    s.put_code(&format!("SMS_{}", i % 50), "123456", MINUTE)
                        .await
                }
                _ => s
                    .check_code(&format!("SMS_{}", i % 50), "000000", 3)
                    .await
                    .map(drop),
            }
            .unwrap();
        })
        .await;
    }
}

/// Declares one `#[tokio::test]` per contract test for a store.
macro_rules! contract_tests {
    ($store:ident, $make:expr) => {
        mod $store {
            use super::*;

            contract_tests!(@each $make;
                put_then_take_reads_once,
                put_replaces,
                values_round_trip_unchanged,
                zero_ttl_is_refused,
                endless_ttl_is_refused,
                incr_counts_within_its_window,
                incr_refuses_a_non_counter,
                decr_gives_back_and_never_creates,
                ping_answers,
                code_is_accepted_once,
                wrong_checks_count_down_then_void,
                a_prefix_or_a_longer_code_is_wrong,
                put_code_resets_wrong_checks,
                take_of_a_code_reads_it,
                parallel_take_yields_one_value,
                parallel_incr_counts_every_call,
                per_ip_counts_within_its_window,
                parallel_correct_checks_accept_once,
                parallel_wrong_checks_void_after_max,
                issued_code_is_checked_like_a_put_one,
                interval_holds_and_changes_nothing,
                daily_cap_counts_and_a_refusal_changes_nothing,
                interval_answers_before_the_cap_and_a_cap_refusal_sets_no_interval,
                issue_code_resets_wrong_checks,
                revoke_takes_the_code_interval_and_count_back,
                revoke_never_goes_below_zero,
                parallel_issues_within_an_interval_store_one,
                parallel_issues_stop_at_the_cap,
                parallel_issue_and_revoke_count_back_to_zero,
            );

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn prefixes_keep_stores_apart() {
                let a = ($make)("prefixes_a").await;
                let b = a.sibling("prefixes_b");
                contract::prefixes_keep_stores_apart(&a, &b).await;
            }
        }
    };
    (@each $make:expr; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                let fx = ($make)(stringify!($test)).await;
                contract::$test(&fx).await;
            }
        )*
    };
}

async fn make_memory(test: &str) -> Fixture {
    memory(test)
}

contract_tests!(memory_store, make_memory);

/// What only the memory store promises: expiry on tokio time, and a bound.
mod memory_only {
    use super::*;

    /// Every kind's budget `n`.
    fn bounded(n: usize) -> MemoryStore {
        budgets([n; 5])
    }

    /// Budgets for captcha answers, per-IP counters, per-mobile entries,
    /// SMS codes and global counters.
    fn budgets([captcha, ip, mobile, codes, global]: [usize; 5]) -> MemoryStore {
        MemoryStore::new(MemoryConfig {
            max_captcha_answers: captcha,
            max_ip_counters: ip,
            max_mobile_entries: mobile,
            max_sms_codes: codes,
            max_global_counters: global,
            key_prefix: unique_prefix("bounded"),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn entries_live_until_their_ttl() {
        let s = memory("expiry").store;
        let ttl = Duration::from_secs(300);
        s.put(EntryKind::CaptchaAnswer, "ImageCode_a", "ABCD", ttl)
            .await
            .unwrap();
        assert_eq!(
            s.incr(EntryKind::MobileState, "flag", ttl)
                .await
                .unwrap()
                .value,
            1
        );
        s.incr(EntryKind::IpCounter, "n", ttl).await.unwrap();
        s.put_code("SMS_1", "123456", ttl).await.unwrap();

        tokio::time::advance(ttl - Duration::from_secs(1)).await;
        assert!(
            s.incr(EntryKind::MobileState, "flag", ttl)
                .await
                .unwrap()
                .value
                > 1
        );
        let count = s.incr(EntryKind::IpCounter, "n", ttl).await.unwrap();
        assert_eq!(count.value, 2);
        assert_eq!(count.ttl, Duration::from_secs(1));
        assert_eq!(
            s.check_code("SMS_1", "000000", 5).await.unwrap(),
            CodeCheck::Rejected { attempts_left: 4 }
        );
        assert_eq!(
            s.take("ImageCode_a").await.unwrap().as_deref(),
            Some("ABCD")
        );
        s.put(
            EntryKind::CaptchaAnswer,
            "ImageCode_b",
            "EFGH",
            Duration::from_secs(1),
        )
        .await
        .unwrap();

        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(s.take("ImageCode_b").await.unwrap(), None);
        assert_eq!(
            s.check_code("SMS_1", "123456", 5).await.unwrap(),
            CodeCheck::Missing
        );
        assert_eq!(
            s.incr(EntryKind::IpCounter, "n", ttl).await.unwrap().value,
            1,
            "a new window"
        );
        assert_eq!(
            s.incr(EntryKind::MobileState, "flag", ttl)
                .await
                .unwrap()
                .value,
            1
        );
    }

    #[tokio::test(start_paused = true)]
    async fn expired_entries_are_purged_without_reads() {
        let s = bounded(1_000);
        for i in 0..500 {
            s.put(
                EntryKind::CaptchaAnswer,
                &format!("ImageCode_{i}"),
                "ABCD",
                Duration::from_secs(300),
            )
            .await
            .unwrap();
        }
        s.incr(EntryKind::IpCounter, "n", Duration::from_secs(600))
            .await
            .unwrap();
        assert_eq!(s.len(), 501);
        tokio::time::advance(Duration::from_secs(301)).await;
        tokio::task::yield_now().await;
        assert_eq!(s.len(), 1);
        tokio::time::advance(Duration::from_secs(300)).await;
        tokio::task::yield_now().await;
        assert!(s.is_empty(), "memory back to baseline");
    }

    #[tokio::test(start_paused = true)]
    async fn interval_and_daily_window_end_on_tokio_time() {
        let s = memory("issue_expiry").store;
        let l = limits(60, 1);
        assert_eq!(
            s.issue_code("SMS_1", "111111", MINUTE, l).await.unwrap(),
            Issued::Stored
        );
        tokio::time::advance(Duration::from_secs(45)).await;
        assert_eq!(
            s.issue_code("SMS_1", "222222", MINUTE, l).await.unwrap(),
            Issued::IntervalHeld {
                retry_after: Duration::from_secs(15)
            }
        );
        tokio::time::advance(Duration::from_secs(16)).await;
        assert_eq!(
            s.issue_code("SMS_1", "333333", MINUTE, l).await.unwrap(),
            Issued::DailyCapReached {
                retry_after: DAY - Duration::from_secs(61)
            }
        );
        tokio::time::advance(DAY - Duration::from_secs(61)).await;
        assert_eq!(
            s.issue_code("SMS_1", "444444", MINUTE, l).await.unwrap(),
            Issued::Stored,
            "a new window"
        );
    }

    #[tokio::test]
    async fn issue_code_makes_room_for_all_its_entries_or_writes_none() {
        // Interval flag and daily counter (per-mobile), and the code.
        let s = budgets([10, 10, 2, 1, 10]);
        assert_eq!(
            s.issue_code("SMS_1", "111111", MINUTE, limits(60, 5))
                .await
                .unwrap(),
            Issued::Stored
        );
        assert_eq!(s.len(), 3);
        // No room for a second mobile: refused, and nothing of it is
        // written (no interval begun, no count taken).
        assert!(matches!(
            s.issue_code("SMS_2", "222222", MINUTE, limits(60, 5)).await,
            Err(StoreError::Full)
        ));
        assert_eq!(s.len(), 3);
        assert!(s.ping().await.is_err(), "not ready while writes fail");
        // Replacing the same mobile's entries needs no room.
        let s = budgets([10, 10, 1, 1, 10]);
        s.issue_code("SMS_1", "111111", MINUTE, limits(0, 5))
            .await
            .unwrap();
        assert_eq!(
            s.issue_code("SMS_1", "222222", MINUTE, limits(0, 5))
                .await
                .unwrap(),
            Issued::Stored
        );
    }

    #[tokio::test]
    async fn issue_and_revoke_refuse_a_counter_that_is_not_one() {
        // Only a foreign writer could put text there: refuse, change nothing.
        let s = MemoryStore::new(MemoryConfig::default());
        s.put_code("SMS_1", "111111", MINUTE).await.unwrap();
        s.put(EntryKind::CaptchaAnswer, "{SMS_1}:daily", "abc", MINUTE)
            .await
            .unwrap();
        assert!(matches!(
            s.issue_code("SMS_1", "222222", MINUTE, limits(0, 3)).await,
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            s.revoke_code("SMS_1").await,
            Err(StoreError::Backend(_))
        ));
        assert_eq!(
            s.check_code("SMS_1", "111111", 5).await.unwrap(),
            CodeCheck::Accepted
        );
    }

    #[tokio::test]
    async fn full_store_drops_the_oldest_captcha_answers() {
        let s = bounded(10);
        for i in 0..10 {
            s.put(
                EntryKind::CaptchaAnswer,
                &format!("ImageCode_{i}"),
                &i.to_string(),
                MINUTE,
            )
            .await
            .unwrap();
        }
        s.put(EntryKind::CaptchaAnswer, "ImageCode_new", "n", MINUTE)
            .await
            .unwrap();
        assert_eq!(s.len(), 10);
        assert_eq!(s.take("ImageCode_0").await.unwrap(), None, "oldest dropped");
        assert_eq!(s.take("ImageCode_1").await.unwrap().as_deref(), Some("1"));
        assert_eq!(s.take("ImageCode_new").await.unwrap().as_deref(), Some("n"));
    }

    #[tokio::test]
    async fn replacing_a_key_needs_no_room() {
        let s = bounded(2);
        s.put_code("SMS_1", "111111", MINUTE).await.unwrap();
        s.incr(EntryKind::IpCounter, "n", MINUTE).await.unwrap();
        s.put_code("SMS_1", "222222", MINUTE).await.unwrap();
        s.incr(EntryKind::IpCounter, "n", MINUTE).await.unwrap();
        assert_eq!(
            s.check_code("SMS_1", "222222", 5).await.unwrap(),
            CodeCheck::Accepted
        );
    }

    #[tokio::test]
    async fn each_kind_has_its_own_budget_and_kept_kinds_refuse() {
        let s = bounded(1);
        s.put(EntryKind::CaptchaAnswer, "ImageCode_a", "A", MINUTE)
            .await
            .unwrap();
        s.incr(EntryKind::IpCounter, "n", MINUTE).await.unwrap();
        s.incr(EntryKind::MobileState, "flag", MINUTE)
            .await
            .unwrap();
        s.incr(EntryKind::GlobalCounter, "g", MINUTE).await.unwrap();
        s.put_code("SMS_1", "123456", MINUTE).await.unwrap();
        assert!(s.ping().await.is_err(), "kept kinds are full");
        // A kind that gives way drops its own oldest, nothing of another kind.
        s.incr(EntryKind::IpCounter, "m", MINUTE).await.unwrap();
        assert_eq!(
            s.incr(EntryKind::IpCounter, "n", MINUTE)
                .await
                .unwrap()
                .value,
            1,
            "the oldest per-IP counter gave way, and only it"
        );
        assert_eq!(s.take("ImageCode_a").await.unwrap().as_deref(), Some("A"));
        s.put(EntryKind::CaptchaAnswer, "ImageCode_b", "B", MINUTE)
            .await
            .unwrap();
        // Kinds that are never dropped refuse instead...
        assert!(matches!(
            s.incr(EntryKind::MobileState, "flag2", MINUTE).await,
            Err(StoreError::Full)
        ));
        assert!(matches!(
            s.incr(EntryKind::GlobalCounter, "g2", MINUTE).await,
            Err(StoreError::Full)
        ));
        assert!(matches!(
            s.put_code("SMS_2", "1", MINUTE).await,
            Err(StoreError::Full)
        ));
        // ...and nothing kept was lost to the refused writes.
        assert_eq!(
            s.incr(EntryKind::MobileState, "flag", MINUTE)
                .await
                .unwrap()
                .value,
            2
        );
        assert_eq!(
            s.incr(EntryKind::GlobalCounter, "g", MINUTE)
                .await
                .unwrap()
                .value,
            2
        );
        assert_eq!(
            s.check_code("SMS_1", "123456", 5).await.unwrap(),
            CodeCheck::Accepted
        );
        // A freed slot takes writes again.
        s.put_code("SMS_3", "3", MINUTE).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_store_makes_room_from_expired_entries_first() {
        let s = bounded(1);
        s.put_code("SMS_1", "1", Duration::from_secs(1))
            .await
            .unwrap();
        s.put(EntryKind::CaptchaAnswer, "ImageCode_a", "A", MINUTE)
            .await
            .unwrap();
        assert!(s.ping().await.is_err());
        tokio::time::advance(Duration::from_secs(2)).await;
        // The expired code frees its slot; the live captcha answer stays.
        s.ping().await.expect("room again once the code expired");
        s.put_code("SMS_2", "2", MINUTE).await.unwrap();
        assert_eq!(s.take("ImageCode_a").await.unwrap().as_deref(), Some("A"));
    }

    /// The flood that locked the store: per-IP counters from 100,500
    /// addresses. The oldest counters give way; per-mobile state, codes and
    /// captcha answers keep their room, and the store stays ready.
    #[tokio::test]
    async fn a_flood_of_per_ip_counters_leaves_the_rest_serving() {
        let s = MemoryStore::new(MemoryConfig {
            key_prefix: unique_prefix("ip_flood"),
            ..MemoryConfig::default()
        });
        s.issue_code("SMS_1", "111111", MINUTE, limits(60, 10))
            .await
            .unwrap();
        for i in 0..100_500u32 {
            s.incr(EntryKind::IpCounter, &format!("SMSPerIp_{i}"), MINUTE)
                .await
                .unwrap();
        }
        s.ping().await.expect("still ready");
        s.put(EntryKind::CaptchaAnswer, "ImageCode_x", "ABCD", MINUTE)
            .await
            .unwrap();
        assert!(
            matches!(
                s.issue_code("SMS_1", "222222", MINUTE, limits(60, 10))
                    .await
                    .unwrap(),
                Issued::IntervalHeld { .. }
            ),
            "the interval flag survived the flood"
        );
        assert_eq!(
            s.issue_code("SMS_2", "222222", MINUTE, limits(60, 10))
                .await
                .unwrap(),
            Issued::Stored
        );
        // The newest counters are still counted.
        assert_eq!(
            s.incr(EntryKind::IpCounter, "SMSPerIp_100499", MINUTE)
                .await
                .unwrap()
                .value,
            2
        );
    }

    #[tokio::test]
    async fn a_flood_of_captchas_cannot_push_out_counters() {
        let s = bounded(100);
        for i in 0..50 {
            s.incr(EntryKind::IpCounter, &format!("ip_{i}"), MINUTE)
                .await
                .unwrap();
        }
        for i in 0..10_000 {
            s.put(
                EntryKind::CaptchaAnswer,
                &format!("ImageCode_{i}"),
                "ABCD",
                MINUTE,
            )
            .await
            .unwrap();
        }
        assert_eq!(s.len(), 150, "100 answers, every counter");
        for i in 0..50 {
            assert_eq!(
                s.incr(EntryKind::IpCounter, &format!("ip_{i}"), MINUTE)
                    .await
                    .unwrap()
                    .value,
                2
            );
        }
    }
}

#[cfg(feature = "redis")]
mod redis_support {
    use super::*;
    use code_store::{RedisConfig, RedisStore};
    use deadpool_redis::redis;
    use passport_testkit::TestRedis;

    /// The Redis a test runs against, and the test's prefix for looking at
    /// what the store wrote.
    pub struct RedisFixture {
        pub url: String,
        pub prefix: String,
        /// The settings siblings are made from (mode, nodes, timeouts).
        pub base: RedisConfig,
        _redis: Option<TestRedis>,
    }

    impl RedisFixture {
        pub async fn raw(&self) -> redis::aio::MultiplexedConnection {
            let client = match &self.base.tls_ca_file {
                Some(ca) => redis::Client::build_with_tls(
                    self.url.as_str(),
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(std::fs::read(ca).unwrap()),
                    },
                ),
                None => redis::Client::open(self.url.as_str()),
            };
            client
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap()
        }

        /// Every key this test's store wrote, with its TTL in milliseconds.
        pub async fn keys_with_ttl(&self) -> Vec<(String, i64)> {
            let mut conn = self.raw().await;
            let mut keys: Vec<String> = Vec::new();
            let mut cursor = 0u64;
            loop {
                let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(format!("*{}*", self.prefix))
                    .arg("COUNT")
                    .arg(1_000)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                keys.extend(batch);
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            let mut out = Vec::new();
            for key in keys {
                let ttl: i64 = redis::cmd("PTTL")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                out.push((key, ttl));
            }
            out.sort();
            out
        }
    }

    impl RedisFixture {
        /// [`keys_with_ttl`](Self::keys_with_ttl) less the per-IP buckets'
        /// secret, which lives 30 days and is renewed while the store runs.
        pub async fn expiring_keys(&self) -> Vec<(String, i64)> {
            let mut keys = self.keys_with_ttl().await;
            keys.retain(|(key, _)| !key.ends_with("IpCounterSecret"));
            keys
        }

        /// A second store on this test's Redis, under its own prefix.
        pub fn sibling(&self, test: &str) -> Fixture {
            let store = RedisStore::new(RedisConfig {
                key_prefix: unique_prefix(test),
                ..self.base.clone()
            })
            .unwrap();
            Fixture {
                store: Arc::new(store),
                redis: None,
            }
        }
    }

    /// Generous waits: the concurrency tests queue thousands of calls on
    /// one pool, on a machine that may be busy building.
    pub fn config(url: &str, prefix: &str) -> RedisConfig {
        RedisConfig {
            url: url.to_owned(),
            pool_size: 8,
            connect_timeout_ms: 2_000,
            wait_timeout_ms: 30_000,
            command_timeout_ms: 5_000,
            key_prefix: prefix.to_owned(),
            ..RedisConfig::default()
        }
    }

    pub async fn make_redis(test: &str) -> Fixture {
        let redis = TestRedis::new();
        let prefix = unique_prefix(test);
        let base = config(redis.url(), &prefix);
        let store = RedisStore::new(base.clone()).unwrap();
        Fixture {
            store: Arc::new(store),
            redis: Some(RedisFixture {
                url: redis.url().to_owned(),
                prefix,
                base,
                _redis: Some(redis),
            }),
        }
    }

    /// A store on the Cluster shared by this test binary.
    pub async fn make_cluster(test: &str) -> Fixture {
        let cluster = passport_testkit::RedisCluster::shared();
        let prefix = unique_prefix(test);
        let base = RedisConfig {
            mode: code_store::RedisMode::Cluster,
            nodes: cluster.urls(),
            ..config("", &prefix)
        };
        fixture_on(base, cluster.urls()[0].clone())
    }

    /// A store on the Sentinel topology shared by this test binary.
    pub async fn make_sentinel(test: &str) -> Fixture {
        let topology = passport_testkit::RedisSentinel::shared();
        let prefix = unique_prefix(test);
        let base = RedisConfig {
            mode: code_store::RedisMode::Sentinel,
            sentinels: topology.sentinel_urls(),
            sentinel_master: topology.master_name().to_owned(),
            ..config("", &prefix)
        };
        let primary = format!("redis://127.0.0.1:{}", topology.primary_port());
        fixture_on(base, primary)
    }

    /// A store on the TLS Cluster shared by this test binary: `rediss://`
    /// seeds and the Cluster's own CA.
    pub async fn make_tls_cluster(test: &str) -> Fixture {
        let cluster = passport_testkit::RedisCluster::shared_tls();
        let prefix = unique_prefix(test);
        let base = RedisConfig {
            mode: code_store::RedisMode::Cluster,
            nodes: cluster.urls(),
            tls_ca_file: cluster.ca_file(),
            ..config("", &prefix)
        };
        fixture_on(base, cluster.urls()[0].clone())
    }

    /// A store on the TLS Sentinel topology shared by this test binary:
    /// `rediss://` Sentinels, a TLS primary, and a CA file trusting both.
    pub async fn make_tls_sentinel(test: &str) -> Fixture {
        let topology = passport_testkit::RedisSentinel::shared_tls();
        let prefix = unique_prefix(test);
        let base = RedisConfig {
            mode: code_store::RedisMode::Sentinel,
            sentinels: topology.sentinel_urls(),
            sentinel_master: topology.master_name().to_owned(),
            tls_ca_file: topology.ca_file(),
            ..config("", &prefix)
        };
        let primary = format!("rediss://127.0.0.1:{}", topology.primary_port());
        fixture_on(base, primary)
    }

    fn fixture_on(base: RedisConfig, url: String) -> Fixture {
        let store = RedisStore::new(base.clone()).unwrap();
        Fixture {
            store: Arc::new(store),
            redis: Some(RedisFixture {
                url,
                prefix: base.key_prefix.clone(),
                base,
                _redis: None,
            }),
        }
    }
}

#[cfg(feature = "redis")]
use redis_support::{make_cluster, make_redis, make_sentinel, make_tls_cluster, make_tls_sentinel};

#[cfg(feature = "redis")]
contract_tests!(redis_store, make_redis);

#[cfg(feature = "redis")]
contract_tests!(redis_cluster, make_cluster);

#[cfg(feature = "redis")]
contract_tests!(redis_sentinel, make_sentinel);

#[cfg(feature = "redis")]
contract_tests!(redis_tls_cluster, make_tls_cluster);

#[cfg(feature = "redis")]
contract_tests!(redis_tls_sentinel, make_tls_sentinel);

/// What only the Redis store promises: real expiry, a TTL on every key, the
/// key layout, and recovery from a stopped server.
#[cfg(feature = "redis")]
mod redis_only {
    use std::time::Instant;

    use super::*;
    use code_store::{RedisConfig, RedisStore};
    use deadpool_redis::redis;
    use passport_testkit::RedisServer;

    fn redis_of(fx: &Fixture) -> &redis_support::RedisFixture {
        fx.redis.as_ref().expect("a Redis fixture")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn entries_live_until_their_ttl() {
        let fx = make_redis("expiry").await;
        let (s, r) = (&fx.store, redis_of(&fx));
        let ttl = Duration::from_secs(2);
        let written = Instant::now();
        s.put(EntryKind::CaptchaAnswer, "ImageCode_a", "ABCD", ttl)
            .await
            .unwrap();
        assert_eq!(
            s.incr(EntryKind::MobileState, "flag", ttl)
                .await
                .unwrap()
                .value,
            1
        );
        s.incr(EntryKind::IpCounter, "n", ttl).await.unwrap();
        s.put_code("SMS_1", "123456", ttl).await.unwrap();
        assert_eq!(
            s.check_code("SMS_1", "000000", 5).await.unwrap(),
            CodeCheck::Rejected { attempts_left: 4 }
        );
        let keys = r.expiring_keys().await;
        assert_eq!(keys.len(), 5, "{keys:?}");

        // Real time is what expires a Redis key: wait until TTL - 1 s.
        tokio::time::sleep_until((written + ttl - Duration::from_secs(1)).into()).await;
        let keys = r.expiring_keys().await;
        assert_eq!(keys.len(), 5, "all present at TTL - 1 s: {keys:?}");
        assert!(keys.iter().all(|(_, ttl)| *ttl > 0), "{keys:?}");

        // Gone by TTL + 1 s: poll rather than guess when Redis drops them.
        let deadline = written + ttl + Duration::from_secs(1);
        while !r.expiring_keys().await.is_empty() {
            assert!(Instant::now() < deadline, "keys outlived their TTL");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(written.elapsed() >= ttl - Duration::from_millis(50));
        assert_eq!(
            s.check_code("SMS_1", "123456", 5).await.unwrap(),
            CodeCheck::Missing
        );
        assert_eq!(
            s.incr(EntryKind::IpCounter, "n", ttl).await.unwrap().value,
            1,
            "a new window"
        );
    }

    /// A flood from many addresses makes at most one key per 100 buckets,
    /// each under the prefix and with a TTL; and two instances on one Redis
    /// count an address in the same bucket (they share the secret).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn per_ip_counters_stay_in_their_buckets() {
        let fx = make_redis("ip_buckets").await;
        let r = redis_of(&fx);
        let config = RedisConfig {
            ip_counter_buckets: 1_000,
            ..r.base.clone()
        };
        let one = Arc::new(RedisStore::new(config.clone()).unwrap());
        let results = in_parallel(
            &(Arc::clone(&one) as SharedStore),
            5_000,
            |s, i| async move {
                s.incr(
                    EntryKind::IpCounter,
                    &format!("SMSPerIp_10.1.{}.{}", i / 250, i % 250),
                    MINUTE,
                )
                .await
                .unwrap()
                .value
            },
        )
        .await;
        assert!(results.iter().all(|&v| v >= 1));
        let keys = r.keys_with_ttl().await;
        assert!(
            keys.iter()
                .all(|(k, ttl)| k.starts_with(&r.prefix) && *ttl > 0),
            "{keys:?}"
        );
        let groups = keys
            .iter()
            .filter(|(k, _)| k.contains("SMSPerIp_g"))
            .count();
        assert_eq!(groups, 10, "1,000 buckets in groups of 100: {keys:?}");
        assert_eq!(keys.len(), 11, "the groups and the secret: {keys:?}");

        let two = RedisStore::new(config).unwrap();
        let key = "SMSPerIp_203.0.113.9";
        let before = one
            .incr(EntryKind::IpCounter, key, MINUTE)
            .await
            .unwrap()
            .value;
        let after = two
            .incr(EntryKind::IpCounter, key, MINUTE)
            .await
            .unwrap()
            .value;
        assert_eq!(
            after,
            before + 1,
            "the second instance counts in the same bucket"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn after_a_busy_run_every_key_has_a_ttl() {
        let fx = make_redis("busy").await;
        contract::busy_run(&fx).await;
        let keys = redis_of(&fx).keys_with_ttl().await;
        assert!(!keys.is_empty(), "the run wrote keys");
        let without: Vec<_> = keys.iter().filter(|(_, ttl)| *ttl < 0).collect();
        assert!(without.is_empty(), "keys without a TTL: {without:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wrong_checks_live_in_a_tagged_key_beside_the_code() {
        let fx = make_redis("layout").await;
        let (s, r) = (&fx.store, redis_of(&fx));
        s.put_code("SMS_13812345678", "123456", MINUTE)
            .await
            .unwrap();
        s.check_code("SMS_13812345678", "000000", 5).await.unwrap();
        let keys = r.keys_with_ttl().await;
        let code_key = format!("{}SMS_13812345678", r.prefix);
        let tries_key = format!("{}{{{code_key}}}:tries", r.prefix);
        let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
        let mut expected = vec![code_key.as_str(), tries_key.as_str()];
        expected.sort_unstable();
        assert_eq!(names, expected);
        let ttl_of = |name: &str| keys.iter().find(|(k, _)| k == name).unwrap().1;
        let (code_ttl, tries_ttl) = (ttl_of(&code_key), ttl_of(&tries_key));
        // The same deadline; Redis may round the two a millisecond apart.
        assert!(tries_ttl > 0 && tries_ttl <= code_ttl + 10, "{keys:?}");

        let mut conn = r.raw().await;
        let tries: String = redis::cmd("GET")
            .arg(&tries_key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(tries, "1");
        s.check_code("SMS_13812345678", "123456", 5).await.unwrap();
        assert!(r.keys_with_ttl().await.is_empty(), "accepting removes both");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn interval_and_daily_count_live_in_tagged_keys_beside_the_code() {
        let fx = make_redis("issue_layout").await;
        let (s, r) = (&fx.store, redis_of(&fx));
        s.revoke_code("SMS_13812345678").await.unwrap();
        assert!(r.keys_with_ttl().await.is_empty(), "revoke creates nothing");

        s.issue_code("SMS_13812345678", "123456", MINUTE, limits(30, 10))
            .await
            .unwrap();
        s.check_code("SMS_13812345678", "000000", 5).await.unwrap();
        let code_key = format!("{}SMS_13812345678", r.prefix);
        let tagged = |what: &str| format!("{}{{{code_key}}}:{what}", r.prefix);
        let keys = r.keys_with_ttl().await;
        let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
        let mut expected = vec![
            code_key.clone(),
            tagged("tries"),
            tagged("interval"),
            tagged("daily"),
        ];
        expected.sort();
        assert_eq!(names, expected);
        let ttl_of = |name: &str| keys.iter().find(|(k, _)| k == name).unwrap().1;
        let ms = |d: Duration| d.as_millis() as i64;
        let near = |ttl: i64, want: Duration| ttl <= ms(want) && ttl > ms(want) - 5_000;
        assert!(near(ttl_of(&code_key), MINUTE), "{keys:?}");
        assert!(near(ttl_of(&tagged("interval")), Duration::from_secs(30)));
        assert!(near(ttl_of(&tagged("daily")), DAY), "{keys:?}");

        let mut conn = r.raw().await;
        let get = |key: String| {
            let mut conn = conn.clone();
            async move {
                redis::cmd("GET")
                    .arg(key)
                    .query_async::<Option<String>>(&mut conn)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(get(tagged("daily")).await.as_deref(), Some("1"));

        // Revoked: only the counter stays, given back, in its window.
        s.revoke_code("SMS_13812345678").await.unwrap();
        let keys = r.keys_with_ttl().await;
        assert_eq!(keys.len(), 1, "{keys:?}");
        assert_eq!(keys[0].0, tagged("daily"));
        assert!(near(keys[0].1, DAY));
        assert_eq!(get(tagged("daily")).await.as_deref(), Some("0"));

        // Text where the counter should be: refused, nothing changed.
        redis::cmd("SET")
            .arg(tagged("daily"))
            .arg("abc")
            .arg("EX")
            .arg(60)
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
        s.put_code("SMS_13812345678", "654321", MINUTE)
            .await
            .unwrap();
        assert!(matches!(
            s.issue_code("SMS_13812345678", "1", MINUTE, limits(0, 3))
                .await,
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            s.revoke_code("SMS_13812345678").await,
            Err(StoreError::Backend(_))
        ));
        assert_eq!(
            s.check_code("SMS_13812345678", "654321", 5).await.unwrap(),
            CodeCheck::Accepted
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flag_or_counter_left_without_a_ttl_gets_one() {
        let fx = make_redis("issue_repair").await;
        let (s, r) = (&fx.store, redis_of(&fx));
        let code_key = format!("{}SMS_1", r.prefix);
        let mut conn = r.raw().await;
        for (what, value) in [("interval", "1"), ("daily", "5")] {
            redis::cmd("SET")
                .arg(format!("{}{{{code_key}}}:{what}", r.prefix))
                .arg(value)
                .query_async::<()>(&mut conn)
                .await
                .unwrap();
        }
        assert_eq!(
            s.issue_code("SMS_1", "1", MINUTE, limits(30, 5))
                .await
                .unwrap(),
            Issued::IntervalHeld {
                retry_after: Duration::from_secs(30)
            }
        );
        assert_eq!(
            s.issue_code("SMS_1", "1", MINUTE, limits(0, 5))
                .await
                .unwrap(),
            Issued::DailyCapReached { retry_after: DAY }
        );
        let keys = r.keys_with_ttl().await;
        assert!(keys.iter().all(|(_, ttl)| *ttl > 0), "{keys:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_what_the_seed_app_wrote() {
        let fx = make_redis("seed").await;
        let (s, r) = (&fx.store, redis_of(&fx));
        let mut conn = r.raw().await;
        // What the Flask seed does: setex("ImageCode_" + id, 300, text).
        redis::cmd("SETEX")
            .arg(format!("{}ImageCode_1f0e", r.prefix))
            .arg(300)
            .arg("WXYZ")
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            s.take("ImageCode_1f0e").await.unwrap().as_deref(),
            Some("WXYZ")
        );
        redis::cmd("SETEX")
            .arg(format!("{}SMS_13812345678", r.prefix))
            .arg(300)
            .arg("000123")
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            s.check_code("SMS_13812345678", "000123", 5).await.unwrap(),
            CodeCheck::Accepted
        );
    }

    /// Calls of `command` Redis has counted so far, from INFO commandstats
    /// (commands a script runs count too, under their own names).
    async fn calls_of(r: &redis_support::RedisFixture, command: &str) -> u64 {
        let mut conn = r.raw().await;
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut conn)
            .await
            .unwrap();
        let prefix = format!("cmdstat_{command}:calls=");
        info.lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn taking_a_pooled_connection_sends_nothing() {
        let fx = make_redis("one_command").await;
        let (s, r) = (&fx.store, redis_of(&fx));
        let round = || async {
            s.put(EntryKind::CaptchaAnswer, "ImageCode_a", "ABCD", MINUTE)
                .await
                .unwrap();
            s.take("ImageCode_a").await.unwrap();
            s.incr(EntryKind::IpCounter, "n", MINUTE).await.unwrap();
            s.decr("n").await.unwrap();
            s.put_code("SMS_1", "123456", MINUTE).await.unwrap();
            s.check_code("SMS_1", "000000", 5).await.unwrap();
            s.issue_code("SMS_2", "123456", MINUTE, limits(60, 1_000))
                .await
                .unwrap();
            s.revoke_code("SMS_2").await.unwrap();
            s.ping().await.unwrap();
        };
        // Opening the connection and loading the scripts happen once.
        round().await;
        let counted = || async {
            (
                calls_of(r, "ping").await,
                calls_of(r, "unwatch").await,
                calls_of(r, "evalsha").await,
                calls_of(r, "getdel").await,
            )
        };
        let before = counted().await;
        for _ in 0..10 {
            round().await;
        }
        let after = counted().await;
        let delta = (
            after.0 - before.0,
            after.1 - before.1,
            after.2 - before.2,
            after.3 - before.3,
        );
        // One PING per ping(), none per checkout; one EVALSHA per script call.
        assert_eq!(delta, (10, 0, 60, 10));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_restart_between_calls_costs_at_most_one_failed_call() {
        let mut server = RedisServer::start();
        let store = RedisStore::new(fault_config(server.url())).unwrap();
        store
            .put(EntryKind::CaptchaAnswer, "ImageCode_a", "A", MINUTE)
            .await
            .unwrap();
        // Down and up again with no call in between: the pooled connection
        // is dead but not yet marked.
        server.restart();
        let first = store
            .put(EntryKind::CaptchaAnswer, "ImageCode_b", "B", MINUTE)
            .await;
        assert!(
            matches!(first, Ok(()) | Err(StoreError::Unavailable(_))),
            "{first:?}"
        );
        store
            .put(EntryKind::CaptchaAnswer, "ImageCode_b", "B", MINUTE)
            .await
            .unwrap();
        assert_eq!(
            store.take("ImageCode_b").await.unwrap().as_deref(),
            Some("B")
        );
    }

    fn fault_config(url: String) -> RedisConfig {
        RedisConfig {
            url,
            pool_size: 4,
            connect_timeout_ms: 300,
            wait_timeout_ms: 300,
            command_timeout_ms: 300,
            key_prefix: unique_prefix("faults"),
            ..RedisConfig::default()
        }
    }

    /// Configured timeouts plus slack for a busy machine: far below any
    /// hang, which is what the limit guards against.
    const FAIL_WITHIN: Duration = Duration::from_secs(2);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stopped_redis_fails_fast_and_a_restart_recovers() {
        let mut server = RedisServer::start();
        let store = RedisStore::new(fault_config(server.url())).unwrap();
        store
            .put(EntryKind::CaptchaAnswer, "ImageCode_a", "A", MINUTE)
            .await
            .unwrap();

        server.stop();
        for _ in 0..3 {
            let started = Instant::now();
            let result = store
                .put(EntryKind::CaptchaAnswer, "ImageCode_a", "A", MINUTE)
                .await;
            assert!(
                matches!(result, Err(StoreError::Unavailable(_))),
                "{result:?}"
            );
            assert!(started.elapsed() < FAIL_WITHIN, "{:?}", started.elapsed());
        }
        let started = Instant::now();
        assert!(matches!(
            store.ping().await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(started.elapsed() < FAIL_WITHIN);

        server.restart();
        // The same store, no rebuild: the first calls after the restart work.
        store.ping().await.unwrap();
        store
            .put(EntryKind::CaptchaAnswer, "ImageCode_b", "B", MINUTE)
            .await
            .unwrap();
        assert_eq!(
            store.take("ImageCode_b").await.unwrap().as_deref(),
            Some("B")
        );
        // Scripts were lost with the data; EVALSHA falls back to loading them.
        assert_eq!(
            store
                .incr(EntryKind::IpCounter, "n", MINUTE)
                .await
                .unwrap()
                .value,
            1
        );
        store.put_code("SMS_1", "123456", MINUTE).await.unwrap();
        assert_eq!(
            store.check_code("SMS_1", "123456", 5).await.unwrap(),
            CodeCheck::Accepted
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_paused_redis_times_out_then_recovers() {
        let server = RedisServer::start();
        let store: SharedStore = Arc::new(
            RedisStore::new(RedisConfig {
                pool_size: 8,
                ..fault_config(server.url())
            })
            .unwrap(),
        );
        // Fill the pool: every idle connection is one more that deadpool
        // would try to recycle, each up to its own timeout.
        in_parallel(&store, 64, |s, i| async move {
            s.put(EntryKind::CaptchaAnswer, &format!("k{i}"), "v", MINUTE)
                .await
                .unwrap();
        })
        .await;
        store
            .put(EntryKind::CaptchaAnswer, "k", "v", MINUTE)
            .await
            .unwrap();

        let mut conn = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        // Redis holds every client's commands until the pause ends: a hang
        // on a connection that is already open.
        let pause = Duration::from_millis(5_000);
        redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(pause.as_millis() as u64)
            .arg("ALL")
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
        let paused = Instant::now();
        let result = store.take("k").await;
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{result:?}"
        );
        let waited = paused.elapsed();
        assert!(waited >= Duration::from_millis(300), "{waited:?}");
        // Connection (300 + 300 + 300 ms) and command (300 ms) bounds, plus
        // slack for a busy machine; well short of the pause.
        assert!(
            waited < FAIL_WITHIN,
            "failed by its own timeouts: {waited:?}"
        );

        tokio::time::sleep_until((paused + pause).into()).await;
        // The store answers again. (A fresh key: the timed-out GETDEL of "k"
        // may still run once the pause ends.)
        store
            .put(EntryKind::CaptchaAnswer, "k2", "w", MINUTE)
            .await
            .unwrap();
        assert_eq!(store.take("k2").await.unwrap().as_deref(), Some("w"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_that_never_answers_times_out() {
        // Accepts connections and reads nothing: a hung server.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let store = RedisStore::new(fault_config(format!("redis://127.0.0.1:{port}"))).unwrap();
        let started = Instant::now();
        let result = store.put(EntryKind::CaptchaAnswer, "k", "v", MINUTE).await;
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{result:?}"
        );
        assert!(started.elapsed() < FAIL_WITHIN, "{:?}", started.elapsed());
        hold.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn errors_never_show_the_password() {
        let mut server = RedisServer::start();
        let url = format!("redis://user:hunter2@127.0.0.1:{}", server.port());
        let store = RedisStore::new(fault_config(url)).unwrap();
        // The server has no such user: authentication fails.
        let refused = store.ping().await.unwrap_err();
        server.stop();
        let unreachable = store.ping().await.unwrap_err();
        for err in [refused, unreachable] {
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        assert!(!format!("{store:?}").contains("hunter2"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_only_replica_is_unavailable_not_broken() {
        let server = RedisServer::start();
        let mut conn = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        // A replica of a master that is not there: up, but refuses writes.
        redis::cmd("REPLICAOF")
            .arg("127.0.0.1")
            .arg(passport_testkit::free_port())
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
        let store = RedisStore::new(fault_config(server.url())).unwrap();
        store.ping().await.unwrap();
        let result = store.put(EntryKind::CaptchaAnswer, "k", "v", MINUTE).await;
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn construction_needs_no_server() {
        let port = passport_testkit::free_port();
        let store = RedisStore::new(fault_config(format!("redis://127.0.0.1:{port}")));
        let store = store.expect("built without connecting");
        assert!(matches!(
            store.ping().await,
            Err(StoreError::Unavailable(_))
        ));
    }
}
