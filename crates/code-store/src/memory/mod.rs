//! The bounded in-memory store: the embedded default.
//!
//! A map with a deadline index and a background purge task, in the manner of
//! mini-redis's `db.rs`. A cache crate such as `moka` was the obvious other
//! choice and does not fit: when full it evicts whatever its policy picks,
//! while this store must *refuse* a write rather than drop a counter, an
//! interval flag or an SMS code (dropping a counter would lift a rate limit);
//! and it expires entries on its own clock, which `tokio::time::pause()` does
//! not move, so expiry could not be tested without real sleeps.
//!
//! Each kind of entry has a budget of its own (see `state.rs`), so cheap
//! writes of one kind cannot lock out the others.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::sms_code::{DAILY, INTERVAL, companion_key};
use crate::{
    CodeCheck, CodeLimits, CodeStore, ConfigError, Count, EntryKind, Issued, SmsCodeStore,
    StoreError, check_ttl,
};

mod state;

use state::{Budgets, State, counter, slot};

/// Settings of a [`MemoryStore`]: a budget per kind of entry.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryConfig {
    /// Most captcha answers held; when full, the oldest give way.
    pub max_captcha_answers: usize,
    /// Most per-client-IP counters held; when full, the oldest give way.
    pub max_ip_counters: usize,
    /// Most per-mobile interval flags and daily counts; never dropped.
    pub max_mobile_entries: usize,
    /// Most SMS codes; never dropped.
    pub max_sms_codes: usize,
    /// Most service-wide counters; never dropped.
    pub max_global_counters: usize,
    /// Put in front of every key.
    pub key_prefix: String,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            max_captcha_answers: 100_000,
            max_ip_counters: 100_000,
            max_mobile_entries: 200_000,
            max_sms_codes: 100_000,
            max_global_counters: 64,
            key_prefix: String::new(),
        }
    }
}

impl MemoryConfig {
    /// Every budget must be 1..=100,000,000; the error names the first bad
    /// one by its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let budgets = [
            ("max_captcha_answers", self.max_captcha_answers),
            ("max_ip_counters", self.max_ip_counters),
            ("max_mobile_entries", self.max_mobile_entries),
            ("max_sms_codes", self.max_sms_codes),
            ("max_global_counters", self.max_global_counters),
        ];
        match budgets
            .into_iter()
            .find(|(_, n)| !(1..=100_000_000).contains(n))
        {
            Some((key, _)) => Err(ConfigError::new(key, "must be 1..=100000000")),
            None => Ok(()),
        }
    }

    fn budgets(&self) -> Budgets {
        let mut budgets = [0; state::KINDS];
        budgets[slot(EntryKind::CaptchaAnswer)] = self.max_captcha_answers;
        budgets[slot(EntryKind::IpCounter)] = self.max_ip_counters;
        budgets[slot(EntryKind::MobileState)] = self.max_mobile_entries;
        budgets[slot(EntryKind::SmsCode)] = self.max_sms_codes;
        budgets[slot(EntryKind::GlobalCounter)] = self.max_global_counters;
        budgets
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
            .field("budgets", &self.shared.budgets)
            .field("key_prefix", &self.shared.key_prefix)
            .field("len", &self.shared.lock().len())
            .finish()
    }
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the purge task when an earlier deadline arrives, and when the
    /// store is dropped. Held apart from `Shared` so that the task can wait
    /// on it without keeping the store alive.
    wake_purger: Arc<Notify>,
    budgets: Budgets,
    key_prefix: String,
}

impl MemoryStore {
    /// Creates a store. Must be called inside a tokio runtime (it spawns the
    /// background purge task, which ends when the last clone is dropped).
    ///
    /// Outside a runtime no task is spawned and expired entries are purged
    /// only when a budget runs full; they are invisible either way.
    pub fn new(config: MemoryConfig) -> Self {
        let wake_purger = Arc::new(Notify::new());
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake_purger: Arc::clone(&wake_purger),
            budgets: config.budgets(),
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
        self.shared.lock().len()
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

    /// Sets `key` (unprefixed) to `value`, replacing any old entry, and wakes
    /// the purger when this entry is now the first to expire.
    fn set(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
        kind: EntryKind,
    ) -> Result<(), StoreError> {
        check_ttl(ttl)?;
        let key = self.key(key);
        let earliest = self.shared.lock().insert(
            key,
            value.to_owned(),
            ttl,
            kind,
            &self.shared.budgets,
            Instant::now(),
        )?;
        self.wake_purger_if(earliest);
        Ok(())
    }

    /// Tells the purge task of a new earliest deadline.
    fn wake_purger_if(&self, earliest: bool) {
        if earliest {
            self.shared.wake_purger.notify_one();
        }
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

#[async_trait]
impl CodeStore for MemoryStore {
    async fn put(
        &self,
        kind: EntryKind,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.set(key, value, ttl, kind)
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

    async fn incr(
        &self,
        kind: EntryKind,
        key: &str,
        window: Duration,
    ) -> Result<Count, StoreError> {
        check_ttl(window)?;
        let key = self.key(key);
        let now = Instant::now();
        let earliest = {
            let mut state = self.shared.lock();
            if let Some(entry) = state.live(&key, now) {
                let value = counter(entry)?
                    .checked_add(1)
                    .ok_or_else(|| StoreError::Backend("counter overflow".to_owned()))?;
                entry.value = value.to_string();
                return Ok(Count {
                    value,
                    ttl: entry.expires_at - now,
                });
            }
            state.insert(key, "1".to_owned(), window, kind, &self.shared.budgets, now)?
        };
        self.wake_purger_if(earliest);
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
            entry.value = counter(entry)?.saturating_sub(1).to_string();
        }
        Ok(())
    }

    /// Fails with [`StoreError::Full`] while a kind that is never dropped
    /// has no room left, since its writes fail then: readiness says so.
    async fn ping(&self) -> Result<(), StoreError> {
        let accepts = self
            .shared
            .lock()
            .accepts_writes(&self.shared.budgets, Instant::now());
        if accepts {
            Ok(())
        } else {
            Err(StoreError::Full)
        }
    }
}

/// The keys of one SMS code: the code (prefixed) and its companions.
struct CodeKeys {
    code: String,
    interval: String,
    daily: String,
}

impl MemoryStore {
    fn code_keys(&self, key: &str) -> CodeKeys {
        let prefix = &self.shared.key_prefix;
        let code = self.key(key);
        CodeKeys {
            interval: companion_key(prefix, &code, INTERVAL),
            daily: companion_key(prefix, &code, DAILY),
            code,
        }
    }
}

/// What `issue_code` found before writing: the daily count, if a counter
/// is live, and how many new entries of each kind its writes need.
struct IssuePlan {
    daily: Option<u64>,
    new_mobile_entries: usize,
    new_code: usize,
}

/// Every check of `issue_code` before its first write, so that a refusal
/// changes nothing.
fn plan_issue(
    state: &mut State,
    keys: &CodeKeys,
    limits: &CodeLimits,
    now: Instant,
) -> Result<Result<IssuePlan, Issued>, StoreError> {
    let mut plan = IssuePlan {
        daily: None,
        new_mobile_entries: 0,
        new_code: 0,
    };
    if !limits.interval.is_zero() {
        if let Some(flag) = state.live(&keys.interval, now) {
            return Ok(Err(Issued::IntervalHeld {
                retry_after: flag.expires_at - now,
            }));
        }
        plan.new_mobile_entries += 1;
    }
    if limits.daily_cap > 0 {
        match state.live(&keys.daily, now) {
            Some(entry) => {
                let count = counter(entry)?;
                if count >= u64::from(limits.daily_cap) {
                    return Ok(Err(Issued::DailyCapReached {
                        retry_after: entry.expires_at - now,
                    }));
                }
                plan.daily = Some(count);
            }
            None => plan.new_mobile_entries += 1,
        }
    }
    if state
        .live(&keys.code, now)
        .is_none_or(|old| old.kind != EntryKind::SmsCode)
    {
        plan.new_code = 1;
    }
    Ok(Ok(plan))
}

/// An SMS code and the limits it is issued under.
struct Issue<'a> {
    code: &'a str,
    ttl: Duration,
    limits: CodeLimits,
}

/// The writes of `issue_code` once `plan_issue` let it through; returns
/// whether a new deadline is now the earliest.
fn write_issue(
    state: &mut State,
    keys: CodeKeys,
    issue: &Issue<'_>,
    plan: &IssuePlan,
    budgets: &Budgets,
    now: Instant,
) -> Result<bool, StoreError> {
    let limits = &issue.limits;
    let mut earliest = false;
    if limits.daily_cap > 0 {
        match plan.daily {
            Some(count) => {
                if let Some(entry) = state.live(&keys.daily, now) {
                    entry.value = (count + 1).to_string();
                }
            }
            None => {
                earliest |= state.insert(
                    keys.daily,
                    "1".to_owned(),
                    limits.daily_window,
                    EntryKind::MobileState,
                    budgets,
                    now,
                )?;
            }
        }
    }
    if !limits.interval.is_zero() {
        earliest |= state.insert(
            keys.interval,
            "1".to_owned(),
            limits.interval,
            EntryKind::MobileState,
            budgets,
            now,
        )?;
    }
    // A fresh entry starts with no wrong checks: that is the reset.
    earliest |= state.insert(
        keys.code,
        issue.code.to_owned(),
        issue.ttl,
        EntryKind::SmsCode,
        budgets,
        now,
    )?;
    Ok(earliest)
}

#[async_trait]
impl SmsCodeStore for MemoryStore {
    async fn issue_code(
        &self,
        key: &str,
        code: &str,
        ttl: Duration,
        limits: CodeLimits,
    ) -> Result<Issued, StoreError> {
        check_ttl(ttl)?;
        if !limits.interval.is_zero() {
            check_ttl(limits.interval)?;
        }
        if limits.daily_cap > 0 {
            check_ttl(limits.daily_window)?;
        }
        let keys = self.code_keys(key);
        let budgets = &self.shared.budgets;
        let now = Instant::now();
        let earliest = {
            let mut state = self.shared.lock();
            let plan = match plan_issue(&mut state, &keys, &limits, now)? {
                Ok(plan) => plan,
                Err(refused) => return Ok(refused),
            };
            // Room for every new entry before the first write, so the step
            // cannot run out of room halfway.
            state.make_room(
                EntryKind::MobileState,
                plan.new_mobile_entries,
                budgets,
                now,
            )?;
            state.make_room(EntryKind::SmsCode, plan.new_code, budgets, now)?;
            let issue = Issue { code, ttl, limits };
            write_issue(&mut state, keys, &issue, &plan, budgets, now)?
        };
        self.wake_purger_if(earliest);
        Ok(Issued::Stored)
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

    async fn revoke_code(&self, key: &str) -> Result<(), StoreError> {
        let keys = self.code_keys(key);
        let now = Instant::now();
        let mut state = self.shared.lock();
        // Checked before anything is removed, so an error changes nothing.
        let count = state
            .live(&keys.daily, now)
            .map(|e| counter(e))
            .transpose()?;
        // The wrong-check count lives in the code's entry and goes with it.
        state.remove(&keys.code);
        state.remove(&keys.interval);
        if let Some(count) = count
            && let Some(entry) = state.live(&keys.daily, now)
        {
            entry.value = count.saturating_sub(1).to_string();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(max_each: usize) -> MemoryStore {
        MemoryStore::new(MemoryConfig {
            max_captcha_answers: max_each,
            max_ip_counters: max_each,
            max_mobile_entries: max_each,
            max_sms_codes: max_each,
            max_global_counters: max_each,
            key_prefix: "p:".to_owned(),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn purge_task_empties_the_store_after_the_ttl() {
        let store = store(10);
        store
            .put(EntryKind::CaptchaAnswer, "a", "1", Duration::from_secs(5))
            .await
            .unwrap();
        store
            .incr(EntryKind::IpCounter, "b", Duration::from_secs(10))
            .await
            .unwrap();
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
                .put(
                    EntryKind::CaptchaAnswer,
                    &i.to_string(),
                    "v",
                    Duration::from_secs(5),
                )
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
            .put(
                EntryKind::CaptchaAnswer,
                "late",
                "1",
                Duration::from_secs(100),
            )
            .await
            .unwrap();
        tokio::task::yield_now().await;
        store
            .put(
                EntryKind::CaptchaAnswer,
                "early",
                "1",
                Duration::from_secs(1),
            )
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
            store
                .put(EntryKind::CaptchaAnswer, "a", "1", Duration::from_secs(1))
                .await
                .unwrap();
            assert_eq!(store.take("a").await.unwrap().as_deref(), Some("1"));
        });
    }
}
