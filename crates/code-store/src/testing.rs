//! Test support (feature `test-util`): [`InstrumentedStore`], the one store
//! double every suite of the workspace uses.
//!
//! It wraps a real store rather than imitating one, so the behaviour under
//! test is always a real store's; it only counts, remembers and fails.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::{
    CodeCheck, CodeLimits, CodeStore, Count, EntryKind, Issued, SharedStore, SmsCodeStore,
    StoreError,
};

/// A real store with instruments: counts every call, remembers the last
/// value `put` under each key (so a test can read a captcha answer), fails
/// every call while taken down, and fails every call from the N-th on.
#[derive(Debug)]
pub struct InstrumentedStore {
    inner: SharedStore,
    calls: AtomicUsize,
    down: AtomicBool,
    /// Calls numbered from this one on fail (`usize::MAX`: none).
    fail_from: AtomicUsize,
    puts: Mutex<HashMap<String, String>>,
}

impl InstrumentedStore {
    /// Wraps `inner`.
    pub fn new(inner: SharedStore) -> Self {
        Self {
            inner,
            calls: AtomicUsize::new(0),
            down: AtomicBool::new(false),
            fail_from: AtomicUsize::new(usize::MAX),
            puts: Mutex::new(HashMap::new()),
        }
    }

    /// Calls made so far, of any method, failed ones included.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// While `down`, every call fails with [`StoreError::Unavailable`].
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Lets the next `n` calls through; every call after them fails.
    pub fn fail_after(&self, n: usize) {
        self.fail_from.store(self.calls() + n, Ordering::SeqCst);
    }

    /// The value last `put` under `key` (unprefixed), if any.
    pub fn last_put(&self, key: &str) -> Option<String> {
        self.lock_puts().get(key).cloned()
    }

    fn enter(&self) -> Result<(), StoreError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) || call >= self.fail_from.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("taken down by the test".to_owned()));
        }
        Ok(())
    }

    fn lock_puts(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // A test that panicked while holding the lock leaves plain data.
        self.puts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl CodeStore for InstrumentedStore {
    async fn put(
        &self,
        kind: EntryKind,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.enter()?;
        self.inner.put(kind, key, value, ttl).await?;
        self.lock_puts().insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.enter()?;
        self.inner.take(key).await
    }

    async fn incr(
        &self,
        kind: EntryKind,
        key: &str,
        window: Duration,
    ) -> Result<Count, StoreError> {
        self.enter()?;
        self.inner.incr(kind, key, window).await
    }

    async fn decr(&self, key: &str) -> Result<(), StoreError> {
        self.enter()?;
        self.inner.decr(key).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.enter()?;
        self.inner.ping().await
    }
}

#[async_trait]
impl SmsCodeStore for InstrumentedStore {
    async fn issue_code(
        &self,
        key: &str,
        code: &str,
        ttl: Duration,
        limits: CodeLimits,
    ) -> Result<Issued, StoreError> {
        self.enter()?;
        self.inner.issue_code(key, code, ttl, limits).await
    }

    async fn check_code(
        &self,
        key: &str,
        code: &str,
        max_attempts: u32,
    ) -> Result<CodeCheck, StoreError> {
        self.enter()?;
        self.inner.check_code(key, code, max_attempts).await
    }

    async fn revoke_code(&self, key: &str) -> Result<(), StoreError> {
        self.enter()?;
        self.inner.revoke_code(key).await
    }
}
