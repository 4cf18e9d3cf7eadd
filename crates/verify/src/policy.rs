//! [`Policy`]: every TTL and limit of the contract.

use std::time::Duration;

/// TTLs and limits. For a rate limit (and only a rate limit) 0 disables it.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A [`Policy`] value that cannot work; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy value `{field}`: {reason}")]
pub struct PolicyError {
    /// The field of [`Policy`] at fault (`sms_ttl`, `max_attempts`, ...).
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

    /// Checks every value: TTLs must be positive (at least 1 ms) and `max_attempts` at least
    /// 1. Zero is allowed for the rate limits only, where it disables them.
    pub fn validate(&self) -> Result<(), PolicyError> {
        // Stores keep expiry in whole milliseconds at best: anything shorter
        // would round to "no TTL" or to an error there.
        const MIN_TTL: Duration = Duration::from_millis(1);
        let bad = |field, reason| Err(PolicyError { field, reason });
        if self.captcha_ttl < MIN_TTL {
            return bad("captcha_ttl", "must be at least 1 ms");
        }
        if self.sms_ttl < MIN_TTL {
            return bad("sms_ttl", "must be at least 1 ms");
        }
        if !self.sms_interval.is_zero() && self.sms_interval < MIN_TTL {
            return bad("sms_interval", "must be 0 (off) or at least 1 ms");
        }
        if self.max_attempts == 0 {
            return bad("max_attempts", "must be at least 1");
        }
        Ok(())
    }
}
