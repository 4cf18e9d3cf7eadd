//! The bounded in-memory store: the embedded default.
//!
//! A map with a deadline index and a background purge task, in the manner of
//! mini-redis's `db.rs`. A cache crate such as `moka` was the obvious other
//! choice and does not fit: when full it evicts whatever its policy picks,
//! while this store must *refuse* a write rather than drop a counter, an
//! interval flag or an SMS code (dropping a counter would lift a rate limit);
//! and it expires entries on its own clock, which `tokio::time::pause()` does
//! not move, so expiry could not be tested without real sleeps.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::{
    CodeCheck, CodeLimits, CodeStore, ConfigError, Count, DAILY, INTERVAL, Issued, StoreError,
    check_ttl, companion_key,
};

/// Settings of a [`MemoryStore`].
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryConfig {
    /// Most entries held at once (captcha answers give way first when full).
    pub max_entries: usize,
    /// Put in front of every key.
    pub key_prefix: String,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            key_prefix: String::new(),
        }
    }
}

impl MemoryConfig {
    /// Checks the settings, naming the first bad one by its key.
    ///
    /// # Errors
    /// [`ConfigError`] when `max_entries` is 0 (nothing could be stored).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_entries == 0 {
            return Err(ConfigError::new("max_entries", "must be at least 1"));
        }
        Ok(())
    }
}

/// A bounded in-memory [`CodeStore`]; cheap to clone, clones share the data.
#[derive(Clone)]
pub struct MemoryStore {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("max_entries", &self.shared.max_entries)
            .field("key_prefix", &self.shared.key_prefix)
            .field("len", &self.shared.lock().entries.len())
            .finish()
    }
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the purge task when an earlier deadline arrives, and when the
    /// store is dropped. Held apart from `Shared` so that the task can wait
    /// on it without keeping the store alive.
    wake_purger: Arc<Notify>,
    max_entries: usize,
    key_prefix: String,
}

#[derive(Default)]
struct State {
    // Keys are shared by the map and both indexes: one allocation each.
    entries: HashMap<Arc<str>, Entry>,
    /// Deadline index: the purge task and a full store walk it in order.
    /// The id makes equal deadlines distinct.
    deadlines: BTreeMap<(Instant, u64), Arc<str>>,
    /// Entries written by `put`, oldest first: the ones a full store drops.
    evictable: BTreeMap<u64, Arc<str>>,
    next_id: u64,
}

struct Entry {
    value: String,
    /// Unique per write; orders `evictable` and breaks ties in `deadlines`.
    id: u64,
    expires_at: Instant,
    evictable: bool,
    /// Wrong checks counted against an SMS code (see `put_code`). Kept inside
    /// the code's own entry, so code and count live and die together.
    wrong_checks: u32,
}

/// How a new entry may be treated when the store is full.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Re-creatable by the caller (captcha answers): dropped first when full.
    Evictable,
    /// Counters, flags and codes: never dropped to make room.
    Kept,
}

impl MemoryStore {
    /// Creates a store. Must be called inside a tokio runtime (it spawns the
    /// background purge task, which ends when the last clone is dropped).
    ///
    /// Outside a runtime no task is spawned and expired entries are purged
    /// only when the store runs full; they are invisible either way.
    pub fn new(config: MemoryConfig) -> Self {
        let wake_purger = Arc::new(Notify::new());
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake_purger: Arc::clone(&wake_purger),
            max_entries: config.max_entries,
            key_prefix: config.key_prefix,
        });
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(purge_expired_entries(Arc::downgrade(&shared), wake_purger));
            }
            Err(_) => {
                tracing::warn!("memory store created outside a tokio runtime: no purge task");
            }
        }
        Self { shared }
    }

    /// Number of entries held, expired ones not yet purged included.
    pub fn len(&self) -> usize {
        self.shared.lock().entries.len()
    }

    /// Whether the store holds no entries at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.shared.key_prefix.len() + key.len());
        full.push_str(&self.shared.key_prefix);
        full.push_str(key);
        full
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in
        // a way that breaks later calls worse than refusing them would, and
        // every operation re-checks deadlines, so keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Stores a permit if the task is not waiting right now, so it cannot
        // miss this; it then finds the store gone and ends.
        self.wake_purger.notify_one();
    }
}

/// Most entries the purge task removes under one hold of the lock.
const PURGE_BATCH: usize = 1_024;

/// Removes expired entries as their deadlines pass, so memory returns to its
/// baseline after the TTL even when nobody reads the keys again.
async fn purge_expired_entries(shared: Weak<Shared>, wake: Arc<Notify>) {
    loop {
        let now = Instant::now();
        let next_deadline = {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let mut state = shared.lock();
            state.purge_expired_at_most(now, PURGE_BATCH);
            state.next_deadline()
        };
        if next_deadline.is_some_and(|when| when <= now) {
            // More expired than one batch: let callers have the lock between
            // batches instead of stalling them for a whole sweep.
            tokio::task::yield_now().await;
            continue;
        }
        match next_deadline {
            Some(when) => {
                tokio::select! {
                    () = tokio::time::sleep_until(when) => {}
                    () = wake.notified() => {}
                }
            }
            None => wake.notified().await,
        }
    }
}

impl State {
    /// The live entry under `key`; an expired one is removed on sight.
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        let expired = self.entries.get(key)?.expires_at <= now;
        if expired {
            self.remove(key);
            return None;
        }
        self.entries.get_mut(key)
    }

    fn remove(&mut self, key: &str) -> Option<Entry> {
        let entry = self.entries.remove(key)?;
        self.deadlines.remove(&(entry.expires_at, entry.id));
        if entry.evictable {
            self.evictable.remove(&entry.id);
        }
        Some(entry)
    }

    fn purge_expired(&mut self, now: Instant) {
        self.purge_expired_at_most(now, usize::MAX);
    }

    fn purge_expired_at_most(&mut self, now: Instant, limit: usize) {
        for _ in 0..limit {
            let Some(entry) = self.deadlines.first_entry() else {
                break;
            };
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            if let Some(entry) = self.entries.remove(&*key)
                && entry.evictable
            {
                self.evictable.remove(&entry.id);
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first_key_value().map(|((when, _), _)| *when)
    }

    /// Writes `key`, replacing any entry under it. Returns whether the new
    /// deadline is now the earliest (the purge task must hear of it).
    fn insert(
        &mut self,
        key: String,
        value: String,
        ttl: Duration,
        kind: Kind,
        max_entries: usize,
        now: Instant,
    ) -> Result<bool, StoreError> {
        if self.remove(&key).is_none() {
            self.make_room(max_entries, now)?;
        }
        let key: Arc<str> = key.into();
        let id = self.next_id;
        self.next_id += 1;
        let expires_at = now + ttl;
        let evictable = kind == Kind::Evictable;
        if evictable {
            self.evictable.insert(id, key.clone());
        }
        let earliest = self.next_deadline().is_none_or(|first| expires_at < first);
        self.deadlines.insert((expires_at, id), key.clone());
        self.entries.insert(
            key,
            Entry {
                value,
                id,
                expires_at,
                evictable,
                wrong_checks: 0,
            },
        );
        Ok(earliest)
    }

    /// Frees `needed` slots at once for the new entries of one atomic step,
    /// so that its writes cannot run out of room halfway: expired entries
    /// go first, then the oldest evictable ones; kept entries never.
    fn make_room_for(
        &mut self,
        needed: usize,
        max_entries: usize,
        now: Instant,
    ) -> Result<(), StoreError> {
        if self.entries.len() + needed <= max_entries {
            return Ok(());
        }
        self.purge_expired(now);
        while self.entries.len() + needed > max_entries {
            let Some((_, oldest)) = self.evictable.pop_first() else {
                return Err(StoreError::Full);
            };
            if let Some(entry) = self.entries.remove(&*oldest) {
                self.deadlines.remove(&(entry.expires_at, entry.id));
            }
        }
        Ok(())
    }

    /// Frees one slot for a new entry: expired entries go first, then the
    /// oldest evictable one; entries that must be kept are never dropped.
    fn make_room(&mut self, max_entries: usize, now: Instant) -> Result<(), StoreError> {
        if self.entries.len() < max_entries {
            return Ok(());
        }
        self.purge_expired(now);
        if self.entries.len() < max_entries {
            return Ok(());
        }
        // With nothing evictable left, a new captcha answer is refused like
        // anything else: dropping a kept entry for it is exactly what the
        // bound exists to prevent.
        let Some((_, oldest)) = self.evictable.pop_first() else {
            return Err(StoreError::Full);
        };
        if let Some(entry) = self.entries.remove(&oldest) {
            self.deadlines.remove(&(entry.expires_at, entry.id));
        }
        if self.entries.len() < max_entries {
            Ok(())
        } else {
            // Only when max_entries is 0 or the map already overflowed.
            Err(StoreError::Full)
        }
    }
}

impl MemoryStore {
    /// Sets `key` (unprefixed) to `value`, replacing any old entry, and wakes
    /// the purger when this entry is now the first to expire.
    fn set(&self, key: &str, value: &str, ttl: Duration, kind: Kind) -> Result<(), StoreError> {
        check_ttl(ttl)?;
        let key = self.key(key);
        let earliest = self.shared.lock().insert(
            key,
            value.to_owned(),
            ttl,
            kind,
            self.shared.max_entries,
            Instant::now(),
        )?;
        if earliest {
            self.shared.wake_purger.notify_one();
        }
        Ok(())
    }
}

#[async_trait]
impl CodeStore for MemoryStore {
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError> {
        self.set(key, value, ttl, Kind::Evictable)
    }

    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = self.key(key);
        let now = Instant::now();
        let mut state = self.shared.lock();
        if state.live(&key, now).is_none() {
            return Ok(None);
        }
        Ok(state.remove(&key).map(|entry| entry.value))
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        check_ttl(ttl)?;
        let key = self.key(key);
        let now = Instant::now();
        let earliest = {
            let mut state = self.shared.lock();
            if state.live(&key, now).is_some() {
                return Ok(false);
            }
            state.insert(
                key,
                value.to_owned(),
                ttl,
                Kind::Kept,
                self.shared.max_entries,
                now,
            )?
        };
        if earliest {
            self.shared.wake_purger.notify_one();
        }
        Ok(true)
    }

    async fn incr(&self, key: &str, window: Duration) -> Result<Count, StoreError> {
        check_ttl(window)?;
        let key = self.key(key);
        let now = Instant::now();
        let earliest = {
            let mut state = self.shared.lock();
            if let Some(entry) = state.live(&key, now) {
                let value = entry
                    .value
                    .parse::<u64>()
                    .ok()
                    .and_then(|v| v.checked_add(1))
                    .ok_or_else(|| StoreError::Backend("value is not a counter".to_owned()))?;
                entry.value = value.to_string();
                return Ok(Count {
                    value,
                    ttl: entry.expires_at - now,
                });
            }
            state.insert(
                key,
                "1".to_owned(),
                window,
                Kind::Kept,
                self.shared.max_entries,
                now,
            )?
        };
        if earliest {
            self.shared.wake_purger.notify_one();
        }
        Ok(Count {
            value: 1,
            ttl: window,
        })
    }

    async fn decr(&self, key: &str) -> Result<(), StoreError> {
        let key = self.key(key);
        let now = Instant::now();
        let mut state = self.shared.lock();
        if let Some(entry) = state.live(&key, now) {
            let value = entry
                .value
                .parse::<u64>()
                .map_err(|_| StoreError::Backend("value is not a counter".to_owned()))?;
            entry.value = value.saturating_sub(1).to_string();
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let key = self.key(key);
        self.shared.lock().remove(&key);
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn put_code(&self, key: &str, code: &str, ttl: Duration) -> Result<(), StoreError> {
        // A fresh entry starts with no wrong checks: that is the reset.
        self.set(key, code, ttl, Kind::Kept)
    }

    async fn check_code(
        &self,
        key: &str,
        code: &str,
        max_attempts: u32,
    ) -> Result<CodeCheck, StoreError> {
        let key = self.key(key);
        let now = Instant::now();
        let mut state = self.shared.lock();
        let Some(entry) = state.live(&key, now) else {
            return Ok(CodeCheck::Missing);
        };
        // Constant time, so response timing does not leak how many leading
        // digits were right.
        if bool::from(entry.value.as_bytes().ct_eq(code.as_bytes())) {
            state.remove(&key);
            return Ok(CodeCheck::Accepted);
        }
        entry.wrong_checks = entry.wrong_checks.saturating_add(1);
        let attempts_left = max_attempts.saturating_sub(entry.wrong_checks);
        if attempts_left == 0 {
            state.remove(&key);
        }
        Ok(CodeCheck::Rejected { attempts_left })
    }

    async fn issue_code(
        &self,
        key: &str,
        code: &str,
        ttl: Duration,
        limits: CodeLimits,
    ) -> Result<Issued, StoreError> {
        check_ttl(ttl)?;
        let interval_on = !limits.interval.is_zero();
        let cap_on = limits.daily_cap > 0;
        if interval_on {
            check_ttl(limits.interval)?;
        }
        if cap_on {
            check_ttl(limits.daily_window)?;
        }
        let code_key = self.key(key);
        let interval_key = companion_key(&code_key, INTERVAL);
        let daily_key = companion_key(&code_key, DAILY);
        let max_entries = self.shared.max_entries;
        let now = Instant::now();
        let earliest = {
            let mut state = self.shared.lock();
            // Every check before the first write: a refusal changes nothing.
            let mut needed = 0;
            if interval_on {
                if let Some(flag) = state.live(&interval_key, now) {
                    return Ok(Issued::IntervalHeld {
                        retry_after: flag.expires_at - now,
                    });
                }
                needed += 1;
            }
            let mut daily = None;
            if cap_on {
                match state.live(&daily_key, now) {
                    Some(counter) => {
                        let count = counter.value.parse::<u64>().map_err(|_| {
                            StoreError::Backend("value is not a counter".to_owned())
                        })?;
                        if count >= u64::from(limits.daily_cap) {
                            return Ok(Issued::DailyCapReached {
                                retry_after: counter.expires_at - now,
                            });
                        }
                        daily = Some(count);
                    }
                    None => needed += 1,
                }
            }
            // An old code written by `put` could itself give way while room
            // is made: count it as new then.
            if state.live(&code_key, now).is_none_or(|old| old.evictable) {
                needed += 1;
            }
            state.make_room_for(needed, max_entries, now)?;

            let mut earliest = false;
            if cap_on {
                match daily {
                    Some(count) => {
                        if let Some(counter) = state.live(&daily_key, now) {
                            counter.value = (count + 1).to_string();
                        }
                    }
                    None => {
                        earliest |= state.insert(
                            daily_key,
                            "1".to_owned(),
                            limits.daily_window,
                            Kind::Kept,
                            max_entries,
                            now,
                        )?;
                    }
                }
            }
            if interval_on {
                earliest |= state.insert(
                    interval_key,
                    "1".to_owned(),
                    limits.interval,
                    Kind::Kept,
                    max_entries,
                    now,
                )?;
            }
            // A fresh entry starts with no wrong checks: that is the reset.
            earliest |=
                state.insert(code_key, code.to_owned(), ttl, Kind::Kept, max_entries, now)?;
            earliest
        };
        if earliest {
            self.shared.wake_purger.notify_one();
        }
        Ok(Issued::Stored)
    }

    async fn revoke_code(&self, key: &str) -> Result<(), StoreError> {
        let code_key = self.key(key);
        let interval_key = companion_key(&code_key, INTERVAL);
        let daily_key = companion_key(&code_key, DAILY);
        let now = Instant::now();
        let mut state = self.shared.lock();
        // Checked before anything is removed, so an error changes nothing.
        let count = match state.live(&daily_key, now) {
            Some(counter) => Some(
                counter
                    .value
                    .parse::<u64>()
                    .map_err(|_| StoreError::Backend("value is not a counter".to_owned()))?,
            ),
            None => None,
        };
        // The wrong-check count lives in the code's entry and goes with it.
        state.remove(&code_key);
        state.remove(&interval_key);
        if let Some(count) = count
            && let Some(counter) = state.live(&daily_key, now)
        {
            counter.value = count.saturating_sub(1).to_string();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(max_entries: usize) -> MemoryStore {
        MemoryStore::new(MemoryConfig {
            max_entries,
            key_prefix: "p:".to_owned(),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn purge_task_empties_the_store_after_the_ttl() {
        let store = store(10);
        store.put("a", "1", Duration::from_secs(5)).await.unwrap();
        store.incr("b", Duration::from_secs(10)).await.unwrap();
        assert_eq!(store.len(), 2);
        tokio::time::advance(Duration::from_secs(6)).await;
        // Let the purge task run its turn; it is the only one ready.
        tokio::task::yield_now().await;
        assert_eq!(store.len(), 1);
        tokio::time::advance(Duration::from_secs(5)).await;
        tokio::task::yield_now().await;
        assert!(store.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn purge_task_sweeps_in_batches_until_done() {
        let store = store(10_000);
        let n = PURGE_BATCH * 3 + 7;
        for i in 0..n {
            store
                .put(&i.to_string(), "v", Duration::from_secs(5))
                .await
                .unwrap();
        }
        tokio::time::advance(Duration::from_secs(6)).await;
        // The task yields between batches; give it turns until it is done.
        for _ in 0..=n / PURGE_BATCH {
            tokio::task::yield_now().await;
        }
        assert!(store.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn purge_task_hears_of_an_earlier_deadline() {
        let store = store(10);
        store
            .put("late", "1", Duration::from_secs(100))
            .await
            .unwrap();
        tokio::task::yield_now().await;
        store
            .put("early", "1", Duration::from_secs(1))
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(2)).await;
        tokio::task::yield_now().await;
        assert_eq!(store.len(), 1);
    }

    #[tokio::test]
    async fn purge_task_ends_when_the_store_is_dropped() {
        let store = store(10);
        let weak = Arc::downgrade(&store.shared);
        let wake = Arc::clone(&store.shared.wake_purger);
        drop(store);
        assert!(weak.upgrade().is_none());
        // The task holds the Notify; once it has ended only we do.
        for _ in 0..100 {
            if Arc::strong_count(&wake) == 1 {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("purge task still running after the store was dropped");
    }

    #[test]
    fn works_outside_a_runtime() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let store = store(1);
        runtime.block_on(async {
            store.put("a", "1", Duration::from_secs(1)).await.unwrap();
            assert_eq!(store.take("a").await.unwrap().as_deref(), Some("1"));
        });
    }
}
