//! [`Policy`]: every TTL and limit of the contract.

use std::time::Duration;

/// TTLs and limits. For a rate limit (and only a rate limit) 0 disables it.
///
/// Deserialises from the `[limits]` config table, whose keys are the field
/// names with durations in whole seconds: `captcha_ttl_secs`, `sms_ttl_secs`,
/// `sms_interval_secs`, `sms_daily_cap`, `sms_per_ip_per_hour`,
/// `sms_global_per_hour`, `image_codes_per_ip_per_minute`, `max_attempts`;
/// a missing key takes its default, an unknown one is refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(from = "PolicyTable")]
pub struct Policy {
    /// How long a captcha answer lives (300 s).
    pub captcha_ttl: Duration,
    /// How long an SMS code lives (300 s).
    pub sms_ttl: Duration,
    /// One SMS per mobile per this interval (60 s; zero disables).
    pub sms_interval: Duration,
    /// SMS per mobile per 24 h (10; 0 disables).
    pub sms_daily_cap: u32,
    /// SMS requests per client IP per hour (20; 0 disables).
    pub sms_per_ip_per_hour: u32,
    /// SMS in all per hour, across all mobiles (1,000; 0 disables).
    pub sms_global_per_hour: u32,
    /// Captcha images per client IP per minute (60; 0 disables).
    pub image_codes_per_ip_per_minute: u32,
    /// Wrong checks after which an SMS code is void (5; at least 1).
    pub max_attempts: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            captcha_ttl: Duration::from_secs(300),
            sms_ttl: Duration::from_secs(300),
            sms_interval: Duration::from_secs(60),
            sms_daily_cap: 10,
            sms_per_ip_per_hour: 20,
            sms_global_per_hour: 1_000,
            image_codes_per_ip_per_minute: 60,
            max_attempts: 5,
        }
    }
}

/// The `[limits]` table as written.
#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PolicyTable {
    captcha_ttl_secs: u64,
    sms_ttl_secs: u64,
    sms_interval_secs: u64,
    sms_daily_cap: u32,
    sms_per_ip_per_hour: u32,
    sms_global_per_hour: u32,
    image_codes_per_ip_per_minute: u32,
    max_attempts: u32,
}

impl Default for PolicyTable {
    fn default() -> Self {
        let p = Policy::default();
        Self {
            captcha_ttl_secs: p.captcha_ttl.as_secs(),
            sms_ttl_secs: p.sms_ttl.as_secs(),
            sms_interval_secs: p.sms_interval.as_secs(),
            sms_daily_cap: p.sms_daily_cap,
            sms_per_ip_per_hour: p.sms_per_ip_per_hour,
            sms_global_per_hour: p.sms_global_per_hour,
            image_codes_per_ip_per_minute: p.image_codes_per_ip_per_minute,
            max_attempts: p.max_attempts,
        }
    }
}

impl From<PolicyTable> for Policy {
    fn from(t: PolicyTable) -> Self {
        Self {
            captcha_ttl: Duration::from_secs(t.captcha_ttl_secs),
            sms_ttl: Duration::from_secs(t.sms_ttl_secs),
            sms_interval: Duration::from_secs(t.sms_interval_secs),
            sms_daily_cap: t.sms_daily_cap,
            sms_per_ip_per_hour: t.sms_per_ip_per_hour,
            sms_global_per_hour: t.sms_global_per_hour,
            image_codes_per_ip_per_minute: t.image_codes_per_ip_per_minute,
            max_attempts: t.max_attempts,
        }
    }
}

/// A [`Policy`] value that cannot work; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy value `{field}`: {reason}")]
pub struct PolicyError {
    /// The config key at fault (`sms_ttl_secs`, `max_attempts`, ...).
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Policy {
    /// The `Retry-After` of every per-mobile limit (interval and daily cap
    /// alike): the configured interval, or a minute when it is off. One
    /// value, so that the answer does not tell which limit held or when the
    /// number last got an SMS.
    pub fn per_mobile_retry_after(&self) -> Duration {
        if self.sms_interval.is_zero() {
            Duration::from_secs(60)
        } else {
            self.sms_interval
        }
    }

    /// Checks every value: TTLs from 1 ms to a day, the interval 0 (off) up
    /// to a day, `max_attempts` 1..=100. Zero is allowed for the rate limits
    /// only, where it disables them.
    pub fn validate(&self) -> Result<(), PolicyError> {
        // Stores keep expiry in whole milliseconds at best: anything shorter
        // would round to "no TTL" or to an error there.
        const MIN_TTL: Duration = Duration::from_millis(1);
        const DAY: Duration = Duration::from_secs(24 * 60 * 60);
        let bad = |field, reason| Err(PolicyError { field, reason });
        if !(MIN_TTL..=DAY).contains(&self.captcha_ttl) {
            return bad("captcha_ttl_secs", "must be 1..=86400 s");
        }
        if !(MIN_TTL..=DAY).contains(&self.sms_ttl) {
            return bad("sms_ttl_secs", "must be 1..=86400 s");
        }
        if self.sms_interval > DAY || (!self.sms_interval.is_zero() && self.sms_interval < MIN_TTL)
        {
            return bad("sms_interval_secs", "must be 0 (off) to 86400 s");
        }
        if !(1..=100).contains(&self.max_attempts) {
            return bad("max_attempts", "must be 1..=100");
        }
        Ok(())
    }
}
