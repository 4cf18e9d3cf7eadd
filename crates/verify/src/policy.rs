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
