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

/// An SMS code (seed-compatible). The store keeps the code's wrong-check
/// count, its resend-interval flag and the mobile's daily count beside it,
/// under names it derives from this key, so one atomic step covers them all.
pub fn sms_code(mobile: &Mobile) -> String {
    format!("SMS_{}", mobile.as_str())
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
