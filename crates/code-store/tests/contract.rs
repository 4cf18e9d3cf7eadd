//! One contract, every store: the same tests run against the memory store
//! and (with the `redis` feature) the Redis store, each test under its own
//! key prefix.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use code_store::{CodeCheck, CodeStore, MemoryConfig, MemoryStore, StoreError};
use passport_testkit::unique_prefix;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

const MINUTE: Duration = Duration::from_secs(60);

/// A store under test plus whatever must outlive it (a Redis server).
struct Fixture {
    store: Arc<dyn CodeStore>,
    #[cfg(feature = "redis")]
    redis: Option<redis_support::RedisFixture>,
}

fn memory(test: &str) -> Fixture {
    Fixture {
        store: Arc::new(MemoryStore::new(MemoryConfig {
            max_entries: 100_000,
            key_prefix: unique_prefix(test),
        })),
        #[cfg(feature = "redis")]
        redis: None,
    }
}

/// Runs `n` copies of `op` at once (released together by a barrier) and
/// collects their results.
async fn in_parallel<T, F, Fut>(store: &Arc<dyn CodeStore>, n: usize, op: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn CodeStore>, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = JoinSet::new();
    for i in 0..n {
        let barrier = Arc::clone(&barrier);
        let run = op(Arc::clone(store), i);
        tasks.spawn(async move {
            barrier.wait().await;
            run.await
        });
    }
    let mut results = Vec::with_capacity(n);
    while let Some(result) = tasks.join_next().await {
        results.push(result.expect("task panicked"));
    }
    results
}

/// The contract itself: generic over the store, called once per store.
mod contract {
    use super::*;

    pub async fn put_then_take_reads_once(fx: &Fixture) {
        let s = &fx.store;
        s.put("ImageCode_a", "XK7P", MINUTE).await.unwrap();
        assert_eq!(
            s.take("ImageCode_a").await.unwrap().as_deref(),
            Some("XK7P")
        );
        assert_eq!(s.take("ImageCode_a").await.unwrap(), None);
        assert_eq!(s.take("never_written").await.unwrap(), None);
    }

    pub async fn put_replaces(fx: &Fixture) {
        let s = &fx.store;
        s.put("k", "old", MINUTE).await.unwrap();
        s.put("k", "new", MINUTE).await.unwrap();
        assert_eq!(s.take("k").await.unwrap().as_deref(), Some("new"));
    }

    pub async fn values_round_trip_unchanged(fx: &Fixture) {
        let s = &fx.store;
        for value in ["", " spaced ", "图片验证码", "a\nb\0c", "{SMS_1}:tries"] {
            s.put("k", value, MINUTE).await.unwrap();
            assert_eq!(s.take("k").await.unwrap().as_deref(), Some(value));
        }
    }

    pub async fn zero_ttl_is_refused(fx: &Fixture) {
        let s = &fx.store;
        let zero = Duration::ZERO;
        assert!(matches!(
            s.put("k", "v", zero).await,
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            s.put_if_absent("k", "v", zero).await,
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            s.incr("k", zero).await,
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            s.put_code("k", "1", zero).await,
            Err(StoreError::Backend(_))
        ));
        assert_eq!(s.take("k").await.unwrap(), None);
    }

    pub async fn put_if_absent_sets_once(fx: &Fixture) {
        let s = &fx.store;
        assert!(s.put_if_absent("flag", "1", MINUTE).await.unwrap());
        assert!(!s.put_if_absent("flag", "2", MINUTE).await.unwrap());
        assert_eq!(s.take("flag").await.unwrap().as_deref(), Some("1"));
        assert!(s.put_if_absent("flag", "3", MINUTE).await.unwrap());
    }

    pub async fn incr_counts_within_its_window(fx: &Fixture) {
        let s = &fx.store;
        let first = s.incr("n", MINUTE).await.unwrap();
        assert_eq!(first.value, 1);
        assert!(first.ttl <= MINUTE && first.ttl > MINUTE - Duration::from_secs(5));
        let second = s.incr("n", Duration::from_secs(3600)).await.unwrap();
        assert_eq!(second.value, 2);
        // The window is set when the counter is created, never extended.
        assert!(second.ttl <= MINUTE);
        assert_eq!(s.take("n").await.unwrap().as_deref(), Some("2"));
    }

    pub async fn incr_refuses_a_non_counter(fx: &Fixture) {
        let s = &fx.store;
        s.put("text", "abc", MINUTE).await.unwrap();
        assert!(matches!(
            s.incr("text", MINUTE).await,
            Err(StoreError::Backend(_))
        ));
        assert_eq!(s.take("text").await.unwrap().as_deref(), Some("abc"));
    }

    pub async fn decr_gives_back_and_never_creates(fx: &Fixture) {
        let s = &fx.store;
        s.decr("missing").await.unwrap();
        assert_eq!(s.take("missing").await.unwrap(), None);

        s.incr("n", MINUTE).await.unwrap();
        s.incr("n", MINUTE).await.unwrap();
        s.decr("n").await.unwrap();
        assert_eq!(s.incr("n", MINUTE).await.unwrap().value, 2);
        s.decr("n").await.unwrap();
        s.decr("n").await.unwrap();
        s.decr("n").await.unwrap();
        let after = s.incr("n", Duration::from_secs(3600)).await.unwrap();
        assert_eq!(after.value, 1, "never below zero");
        assert!(after.ttl <= MINUTE, "decr keeps the window");
    }

    pub async fn delete_removes_and_tolerates_missing(fx: &Fixture) {
        let s = &fx.store;
        s.put("k", "v", MINUTE).await.unwrap();
        s.delete("k").await.unwrap();
        assert_eq!(s.take("k").await.unwrap(), None);
        s.delete("k").await.unwrap();

        s.put_code("SMS_13812345678", "123456", MINUTE)
            .await
            .unwrap();
        s.delete("SMS_13812345678").await.unwrap();
        assert_eq!(
            s.check_code("SMS_13812345678", "123456", 5).await.unwrap(),
            CodeCheck::Missing
        );
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
        fx.store.put("k", "mine", MINUTE).await.unwrap();
        assert_eq!(other.store.take("k").await.unwrap(), None);
        assert_eq!(fx.store.take("k").await.unwrap().as_deref(), Some("mine"));
    }

    pub async fn parallel_take_yields_one_value(fx: &Fixture) {
        fx.store.put("ImageCode_x", "ABCD", MINUTE).await.unwrap();
        let results = in_parallel(&fx.store, 1_000, |s, _| async move {
            s.take("ImageCode_x").await.unwrap()
        })
        .await;
        let values: Vec<_> = results.into_iter().flatten().collect();
        assert_eq!(values, ["ABCD"]);
    }

    pub async fn parallel_put_if_absent_sets_once(fx: &Fixture) {
        let results = in_parallel(&fx.store, 1_000, |s, i| async move {
            s.put_if_absent("flag", &i.to_string(), MINUTE)
                .await
                .unwrap()
        })
        .await;
        assert_eq!(results.iter().filter(|set| **set).count(), 1);
    }

    pub async fn parallel_incr_counts_every_call(fx: &Fixture) {
        let results = in_parallel(&fx.store, 10_000, |s, _| async move {
            s.incr("n", MINUTE).await.unwrap().value
        })
        .await;
        let seen: BTreeSet<u64> = results.into_iter().collect();
        assert_eq!(seen.len(), 10_000, "every call saw its own value");
        assert_eq!(seen.first(), Some(&1));
        assert_eq!(seen.last(), Some(&10_000));
        assert_eq!(fx.store.incr("n", MINUTE).await.unwrap().value, 10_001);
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

    /// A mixed busy run; each store then checks what it left behind.
    #[cfg(feature = "redis")]
    pub async fn busy_run(fx: &Fixture) {
        in_parallel(&fx.store, 500, |s, i| async move {
            let key = format!("k{}", i % 50);
            match i % 7 {
                0 => s.put(&key, "v", MINUTE).await.map(drop),
                1 => s.take(&key).await.map(drop),
                2 => s.put_if_absent(&key, "v", MINUTE).await.map(drop),
                3 => s.incr(&format!("n{}", i % 50), MINUTE).await.map(drop),
                4 => s.decr(&format!("n{}", i % 50)).await,
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
                put_if_absent_sets_once,
                incr_counts_within_its_window,
                incr_refuses_a_non_counter,
                decr_gives_back_and_never_creates,
                delete_removes_and_tolerates_missing,
                ping_answers,
                code_is_accepted_once,
                wrong_checks_count_down_then_void,
                a_prefix_or_a_longer_code_is_wrong,
                put_code_resets_wrong_checks,
                take_of_a_code_reads_it,
                parallel_take_yields_one_value,
                parallel_put_if_absent_sets_once,
                parallel_incr_counts_every_call,
                parallel_correct_checks_accept_once,
                parallel_wrong_checks_void_after_max,
            );

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn prefixes_keep_stores_apart() {
                let make = $make;
                let a = make("prefixes_a").await;
                let b = make("prefixes_b").await;
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

    fn bounded(max_entries: usize) -> MemoryStore {
        MemoryStore::new(MemoryConfig {
            max_entries,
            key_prefix: unique_prefix("bounded"),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn entries_live_until_their_ttl() {
        let s = memory("expiry").store;
        let ttl = Duration::from_secs(300);
        s.put("ImageCode_a", "ABCD", ttl).await.unwrap();
        assert!(s.put_if_absent("flag", "1", ttl).await.unwrap());
        s.incr("n", ttl).await.unwrap();
        s.put_code("SMS_1", "123456", ttl).await.unwrap();

        tokio::time::advance(ttl - Duration::from_secs(1)).await;
        assert!(!s.put_if_absent("flag", "1", ttl).await.unwrap());
        let count = s.incr("n", ttl).await.unwrap();
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
        s.put("ImageCode_b", "EFGH", Duration::from_secs(1))
            .await
            .unwrap();

        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(s.take("ImageCode_b").await.unwrap(), None);
        assert_eq!(
            s.check_code("SMS_1", "123456", 5).await.unwrap(),
            CodeCheck::Missing
        );
        assert_eq!(s.incr("n", ttl).await.unwrap().value, 1, "a new window");
        assert!(s.put_if_absent("flag", "1", ttl).await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn expired_entries_are_purged_without_reads() {
        let s = bounded(1_000);
        for i in 0..500 {
            s.put(&format!("ImageCode_{i}"), "ABCD", Duration::from_secs(300))
                .await
                .unwrap();
        }
        s.incr("n", Duration::from_secs(600)).await.unwrap();
        assert_eq!(s.len(), 501);
        tokio::time::advance(Duration::from_secs(301)).await;
        tokio::task::yield_now().await;
        assert_eq!(s.len(), 1);
        tokio::time::advance(Duration::from_secs(300)).await;
        tokio::task::yield_now().await;
        assert!(s.is_empty(), "memory back to baseline");
    }

    #[tokio::test]
    async fn full_store_drops_the_oldest_captcha_answers() {
        let s = bounded(10);
        for i in 0..10 {
            s.put(&format!("ImageCode_{i}"), &i.to_string(), MINUTE)
                .await
                .unwrap();
        }
        s.put("ImageCode_new", "n", MINUTE).await.unwrap();
        assert_eq!(s.len(), 10);
        assert_eq!(s.take("ImageCode_0").await.unwrap(), None, "oldest dropped");
        assert_eq!(s.take("ImageCode_1").await.unwrap().as_deref(), Some("1"));
        assert_eq!(s.take("ImageCode_new").await.unwrap().as_deref(), Some("n"));
    }

    #[tokio::test]
    async fn replacing_a_key_needs_no_room() {
        let s = bounded(2);
        s.put_code("SMS_1", "111111", MINUTE).await.unwrap();
        s.incr("n", MINUTE).await.unwrap();
        s.put_code("SMS_1", "222222", MINUTE).await.unwrap();
        s.incr("n", MINUTE).await.unwrap();
        assert_eq!(
            s.check_code("SMS_1", "222222", 5).await.unwrap(),
            CodeCheck::Accepted
        );
    }

    #[tokio::test]
    async fn kept_entries_are_never_dropped_and_a_full_store_refuses() {
        let s = bounded(4);
        s.put("ImageCode_a", "A", MINUTE).await.unwrap();
        s.incr("n", MINUTE).await.unwrap();
        assert!(s.put_if_absent("flag", "1", MINUTE).await.unwrap());
        s.put_code("SMS_1", "123456", MINUTE).await.unwrap();
        // Full: a new kept entry pushes out the captcha answer, never a kept one.
        s.incr("m", MINUTE).await.unwrap();
        assert_eq!(s.take("ImageCode_a").await.unwrap(), None);

        // Only kept entries left: every new write is refused.
        assert!(matches!(
            s.put("ImageCode_b", "B", MINUTE).await,
            Err(StoreError::Full)
        ));
        assert!(matches!(s.incr("o", MINUTE).await, Err(StoreError::Full)));
        assert!(matches!(
            s.put_if_absent("flag2", "1", MINUTE).await,
            Err(StoreError::Full)
        ));
        assert!(matches!(
            s.put_code("SMS_2", "1", MINUTE).await,
            Err(StoreError::Full)
        ));
        // ...and nothing kept was lost to the refused writes.
        assert_eq!(s.incr("n", MINUTE).await.unwrap().value, 2);
        assert_eq!(s.incr("m", MINUTE).await.unwrap().value, 2);
        assert!(!s.put_if_absent("flag", "1", MINUTE).await.unwrap());
        assert_eq!(
            s.check_code("SMS_1", "123456", 5).await.unwrap(),
            CodeCheck::Accepted
        );
        // A freed slot takes writes again.
        s.put("ImageCode_c", "C", MINUTE).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_store_makes_room_from_expired_entries_first() {
        let s = bounded(2);
        s.incr("short", Duration::from_secs(1)).await.unwrap();
        s.put("ImageCode_a", "A", MINUTE).await.unwrap();
        tokio::time::advance(Duration::from_secs(2)).await;
        // The expired counter frees the slot; the live captcha answer stays.
        s.put_code("SMS_1", "1", MINUTE).await.unwrap();
        assert_eq!(s.take("ImageCode_a").await.unwrap().as_deref(), Some("A"));
    }

    #[tokio::test]
    async fn a_flood_of_captchas_cannot_push_out_counters() {
        let s = bounded(100);
        for i in 0..50 {
            s.incr(&format!("ip_{i}"), MINUTE).await.unwrap();
        }
        for i in 0..10_000 {
            s.put(&format!("ImageCode_{i}"), "ABCD", MINUTE)
                .await
                .unwrap();
        }
        assert_eq!(s.len(), 100);
        for i in 0..50 {
            assert_eq!(s.incr(&format!("ip_{i}"), MINUTE).await.unwrap().value, 2);
        }
    }
}

#[cfg(feature = "redis")]
mod redis_support {
    //! Filled in with the Redis half of the suite.
    pub struct RedisFixture;
}
