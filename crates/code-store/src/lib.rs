#![doc = include_str!("../README.md")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

mod config;
pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;

pub use config::ConfigError;
pub use memory::{MemoryConfig, MemoryStore};
#[cfg(feature = "redis")]
pub use redis::{RedisConfig, RedisMode, RedisStore};

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

/// Per-mobile limits that [`CodeStore::issue_code`] enforces in the same
/// atomic step as it stores the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeLimits {
    /// No new code while the last one issued is younger than this; zero
    /// turns the interval off.
    pub interval: Duration,
    /// Most codes issued per `daily_window`; 0 turns the cap off.
    pub daily_cap: u32,
    /// The window the daily cap counts in (24 h), from the first code
    /// issued in it.
    pub daily_window: Duration,
}

/// The outcome of [`CodeStore::issue_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issued {
    /// The code is stored (its wrong-check count reset), the interval has
    /// begun and the daily count has gone up by one.
    Stored,
    /// The interval of an earlier code has not ended; nothing changed.
    IntervalHeld {
        /// Time until the interval ends.
        retry_after: Duration,
    },
    /// The daily cap is reached; nothing changed.
    DailyCapReached {
        /// Time until the daily window ends.
        retry_after: Duration,
    },
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

    /// Issues an SMS `code` under `key` within its per-key `limits`, in one
    /// atomic step: if the interval is on and an earlier code's interval has
    /// not ended, [`Issued::IntervalHeld`]; if the cap is on and reached,
    /// [`Issued::DailyCapReached`] (in both cases nothing changes);
    /// otherwise the daily count goes up by one (a new counter is born with
    /// its window), the interval begins, and the code is stored with expiry
    /// `ttl` and its wrong-check count reset.
    ///
    /// The store keeps the interval flag and the daily counter beside the
    /// code, under names derived from `key`. Both built-in stores override
    /// this with one atomic step; the default, for stores that wrap another
    /// and were written before this method, composes the other operations
    /// (correct under concurrency, but several round trips and not one
    /// step). A wrapper should delegate instead.
    async fn issue_code(
        &self,
        key: &str,
        code: &str,
        ttl: Duration,
        limits: CodeLimits,
    ) -> Result<Issued, StoreError> {
        check_ttl(ttl)?;
        let interval_key = companion_key(key, INTERVAL);
        let daily_key = companion_key(key, DAILY);
        let mut interval_taken = false;
        if !limits.interval.is_zero() {
            // The first to count the flag owns the interval; a later count
            // only reads how long it has left.
            let flag = self.incr(&interval_key, limits.interval).await?;
            if flag.value > 1 {
                return Ok(Issued::IntervalHeld {
                    retry_after: flag.ttl,
                });
            }
            interval_taken = true;
        }
        if limits.daily_cap > 0 {
            let count = self.incr(&daily_key, limits.daily_window).await?;
            if count.value > u64::from(limits.daily_cap) {
                self.decr(&daily_key).await?;
                if interval_taken {
                    self.delete(&interval_key).await?;
                }
                return Ok(Issued::DailyCapReached {
                    retry_after: count.ttl,
                });
            }
        }
        self.put_code(key, code, ttl).await?;
        Ok(Issued::Stored)
    }

    /// Takes back a code [`issue_code`](CodeStore::issue_code) stored under
    /// `key` when it could not be sent, in one atomic step: deletes the
    /// code, its wrong-check count and the interval flag, and gives one back
    /// to the daily counter (never below 0; a missing counter stays
    /// missing). So the user may ask again at once.
    ///
    /// The default composes the other operations, as `issue_code`'s does.
    async fn revoke_code(&self, key: &str) -> Result<(), StoreError> {
        self.decr(&companion_key(key, DAILY)).await?;
        self.delete(&companion_key(key, INTERVAL)).await?;
        self.delete(key).await
    }
}

// Suffixes of the keys a store keeps beside an SMS code. The memory store
// keeps the wrong-check count inside the code's own entry, so only the Redis
// store names it.
pub(crate) const INTERVAL: &str = "interval";
pub(crate) const DAILY: &str = "daily";
#[cfg(feature = "redis")]
pub(crate) const TRIES: &str = "tries";

/// The key kept beside the code under `code_key`: `{<code_key>}:<what>`.
///
/// The whole code key is the hash tag, so on Redis Cluster every companion
/// lands in the code's slot and one script may touch them all.
pub(crate) fn companion_key(code_key: &str, what: &str) -> String {
    let mut key = String::with_capacity(code_key.len() + what.len() + 3);
    key.push('{');
    key.push_str(code_key);
    key.push_str("}:");
    key.push_str(what);
    key
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
