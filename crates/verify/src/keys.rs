//! Every store key Passport uses, in one place. The store adds its prefix.
//!
//! `ImageCode_<id>` and `SMS_<mobile>` are the seed's names, so a deployment
//! of the seed can share one Redis with Passport while it migrates. The other
//! keys are Passport's own. Every key is written with a TTL.

use crate::types::{ClientIp, ImageCodeId, Mobile};

/// A captcha answer (seed-compatible).
pub fn image_code(id: &ImageCodeId) -> String {
    format!("ImageCode_{}", id.as_str())
}

/// An SMS code (seed-compatible). The store keeps its wrong-check count
/// alongside, under a name of its own.
pub fn sms_code(mobile: &Mobile) -> String {
    format!("SMS_{}", mobile.as_str())
}

/// Set while a mobile may not be sent another code (the interval).
pub fn sms_interval(mobile: &Mobile) -> String {
    format!("SMSInterval_{}", mobile.as_str())
}

/// Codes sent to a mobile in the current 24 h window.
pub fn sms_daily(mobile: &Mobile) -> String {
    format!("SMSDaily_{}", mobile.as_str())
}

/// SMS requests from a client (IPv4 address or IPv6 /64) this hour.
pub fn sms_per_ip(ip: &ClientIp) -> String {
    format!("SMSPerIp_{}", ip.limit_key())
}

/// Captcha images for a client (IPv4 address or IPv6 /64) this minute.
pub fn image_codes_per_ip(ip: &ClientIp) -> String {
    format!("ImageCodePerIp_{}", ip.limit_key())
}

/// SMS sent in all this hour (the circuit breaker against SMS pumping).
pub const SMS_GLOBAL: &str = "SMSGlobal";
