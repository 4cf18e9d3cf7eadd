//! The SMS code's lifecycle, done atomically where the data is: issue a
//! code within its per-mobile limits, check it once, revoke it when it could
//! not be sent.
//!
//! Each step reads and writes the code and the entries kept beside it (the
//! wrong-check count, the interval flag, the daily count) in one step of the
//! store: one Lua script on Redis, one hold of the lock in memory. Composed
//! from the generic [`CodeStore`] calls they would race.

use std::time::Duration;

use async_trait::async_trait;

use crate::{CodeStore, StoreError};

/// The outcome of [`SmsCodeStore::check_code`].
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

/// Per-mobile limits that [`SmsCodeStore::issue_code`] enforces in the same
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

/// The outcome of [`SmsCodeStore::issue_code`].
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

/// The SMS code's atomic steps, on top of the key-value store.
///
/// The store keeps the interval flag and the daily counter beside the code,
/// under names derived from the code's key (see the crate README), so that on
/// Redis Cluster all of them share the code's slot.
#[async_trait]
pub trait SmsCodeStore: CodeStore {
    /// Issues an SMS `code` under `key` within its per-key `limits`, in one
    /// atomic step: if the interval is on and an earlier code's interval has
    /// not ended, [`Issued::IntervalHeld`]; if the cap is on and reached,
    /// [`Issued::DailyCapReached`] (in both cases nothing changes);
    /// otherwise the daily count goes up by one (a new counter is born with
    /// its window), the interval begins, and the code is stored with expiry
    /// `ttl` and its wrong-check count reset. Never dropped to make room.
    async fn issue_code(
        &self,
        key: &str,
        code: &str,
        ttl: Duration,
        limits: CodeLimits,
    ) -> Result<Issued, StoreError>;

    /// Checks `code` against the code stored under `key`, atomically: a match
    /// removes the code (accepted once); a mismatch counts one wrong check and
    /// removes the code once `max_attempts` wrong checks have been counted.
    async fn check_code(
        &self,
        key: &str,
        code: &str,
        max_attempts: u32,
    ) -> Result<CodeCheck, StoreError>;

    /// Takes back a code [`issue_code`](SmsCodeStore::issue_code) stored
    /// under `key` when it surely was not sent, in one atomic step: deletes
    /// the code, its wrong-check count and the interval flag, and gives one
    /// back to the daily counter (never below 0; a missing counter stays
    /// missing). So the user may ask again at once.
    async fn revoke_code(&self, key: &str) -> Result<(), StoreError>;
}

// Suffixes of the keys a store keeps beside an SMS code. The memory store
// keeps the wrong-check count inside the code's own entry, so only the Redis
// store names it.
pub(crate) const INTERVAL: &str = "interval";
pub(crate) const DAILY: &str = "daily";
#[cfg(feature = "redis")]
pub(crate) const TRIES: &str = "tries";

/// The key kept beside the code under `code_key` (already prefixed):
/// `<prefix>{<code_key>}:<what>`.
///
/// The whole prefixed code key is the hash tag, so on Redis Cluster every
/// companion lands in the code's slot and one script may touch them all; the
/// prefix in front keeps every key under it (a Redis ACL of `~<prefix>*`).
pub(crate) fn companion_key(prefix: &str, code_key: &str, what: &str) -> String {
    let mut key = String::with_capacity(prefix.len() + code_key.len() + what.len() + 3);
    key.push_str(prefix);
    key.push('{');
    key.push_str(code_key);
    key.push_str("}:");
    key.push_str(what);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companions_carry_the_prefix_and_the_code_key_as_hash_tag() {
        assert_eq!(
            companion_key("app:", "app:SMS_13812345678", DAILY),
            "app:{app:SMS_13812345678}:daily"
        );
        assert_eq!(
            companion_key("", "SMS_13812345678", INTERVAL),
            "{SMS_13812345678}:interval"
        );
    }
}
