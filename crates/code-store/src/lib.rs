#![doc = include_str!("../README.md")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;

pub use memory::{MemoryConfig, MemoryStore};
#[cfg(feature = "redis")]
pub use redis::{RedisConfig, RedisStore};

/// A store shared by every part of the service.
pub type SharedStore = Arc<dyn CodeStore>;

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

/// The outcome of [`CodeStore::check_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// The code matched; it has been removed and cannot be used again.
    Accepted,
    /// The code did not match. `attempts_left` more wrong checks are allowed;
    /// at 0 the code has been removed (void).
    Rejected {
        /// Wrong checks still allowed before the code is void.
        attempts_left: u32,
    },
    /// No code: never stored, expired, already used, or void.
    Missing,
}

/// The store behind Passport: small, object-safe, shared as [`SharedStore`].
///
/// Keys passed in are *unprefixed*; each store puts its configured prefix in
/// front of every key, once. Every write carries a TTL: no key lives forever.
#[async_trait]
pub trait CodeStore: Send + Sync + std::fmt::Debug {
    /// Sets `key` to `value` with expiry `ttl`, replacing any old value.
    ///
    /// Values written by `put` are ones the caller can re-create (captcha
    /// answers): a bounded store drops the oldest of them first when full.
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError>;

    /// Reads and deletes `key` in one atomic step (Redis `GETDEL`).
    async fn take(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Sets `key` only when absent (Redis `SET NX EX`); `true` when it was set.
    async fn put_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// Increments the counter `key`, creating it at 1 with TTL `window` in the
    /// same atomic step when absent. Never leaves a counter without a TTL.
    async fn incr(&self, key: &str, window: Duration) -> Result<Count, StoreError>;

    /// Gives one back to the counter `key` (never below 0). A missing counter
    /// stays missing: this never creates a key.
    async fn decr(&self, key: &str) -> Result<(), StoreError>;

    /// Deletes `key`; deleting a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// Checks that the backend answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores an SMS `code` under `key` with expiry `ttl` and resets its count
    /// of wrong checks, in one atomic step. Never dropped to make room.
    async fn put_code(&self, key: &str, code: &str, ttl: Duration) -> Result<(), StoreError>;

    /// Checks `code` against the code stored under `key`, atomically: a match
    /// removes the code (accepted once); a mismatch counts one wrong check and
    /// removes the code once `max_attempts` wrong checks have been counted.
    async fn check_code(
        &self,
        key: &str,
        code: &str,
        max_attempts: u32,
    ) -> Result<CodeCheck, StoreError>;
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
