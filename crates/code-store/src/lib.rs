#![doc = include_str!("../README.md")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

mod config;
pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;

mod sms_code;
#[cfg(feature = "test-util")]
pub mod testing;

pub use config::ConfigError;
pub use memory::{MemoryConfig, MemoryStore};
#[cfg(feature = "redis")]
pub use redis::{RedisConfig, RedisMode, RedisStore};
pub use sms_code::{CodeCheck, CodeLimits, Issued, SmsCodeStore};

/// A store shared by every part of the service: the key-value part and the
/// SMS code's atomic steps.
pub type SharedStore = Arc<dyn SmsCodeStore>;

/// Why a store call failed. Callers fail closed on every variant.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend could not be reached, or did not answer within its timeout.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A bounded store is full of entries it may not drop.
    #[error("store full")]
    Full,
    /// The backend answered with an error or with something unexpected.
    #[error("store backend error: {0}")]
    Backend(String),
}

/// The value of a counter after [`CodeStore::incr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// The counter's value after this increment (1 for a new counter).
    pub value: u64,
    /// Time until the counter's window ends and it disappears.
    pub ttl: Duration,
}

/// What kind of entry a write makes. A bounded store budgets each kind on
/// its own, so cheap writes of one kind cannot crowd out another; a shared
/// backend such as Redis may ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A captcha answer: the caller can make a new one, so it may give way.
    CaptchaAnswer,
    /// A per-client-IP counter.
    IpCounter,
    /// Per-mobile state kept beside an SMS code (interval flag, daily count).
    MobileState,
    /// An SMS code.
    SmsCode,
    /// A service-wide counter.
    GlobalCounter,
}

/// A key-value store with expiry: the generic part of the store behind
/// Passport. Small, object-safe, shared as [`SharedStore`] (together with
/// the SMS code's steps, [`SmsCodeStore`]).
///
/// Keys passed in are *unprefixed*; each store puts its configured prefix in
/// front of every key, once. Every write carries a TTL: no key lives forever.
#[async_trait]
pub trait CodeStore: Send + Sync + std::fmt::Debug {
    /// Sets `key` to `value` with expiry `ttl`, replacing any old value.
    async fn put(
        &self,
        kind: EntryKind,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<(), StoreError>;

    /// Reads and deletes `key` in one atomic step (Redis `GETDEL`).
    async fn take(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Increments the counter `key`, creating it at 1 with TTL `window` in the
    /// same atomic step when absent. Never leaves a counter without a TTL.
    async fn incr(&self, kind: EntryKind, key: &str, window: Duration)
    -> Result<Count, StoreError>;

    /// Gives one back to the counter `key` (never below 0). A missing counter
    /// stays missing: this never creates a key.
    async fn decr(&self, key: &str) -> Result<(), StoreError>;

    /// Checks that the backend answers and accepts writes.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Longest TTL either store accepts. Passport's keys live minutes to a day;
/// the bound keeps deadline arithmetic and Redis's `PX` far from overflow.
pub const MAX_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// Both stores refuse a zero expiry (Redis rejects one, and a key that
/// vanishes as it is written would let a caller believe it was stored) and
/// one beyond [`MAX_TTL`].
pub(crate) fn check_ttl(ttl: Duration) -> Result<(), StoreError> {
    if ttl.is_zero() {
        Err(StoreError::Backend("ttl must be positive".to_owned()))
    } else if ttl > MAX_TTL {
        Err(StoreError::Backend("ttl too long".to_owned()))
    } else {
        Ok(())
    }
}
