//! One module per route.

pub mod fallback;
pub mod health;
pub mod image_code;
pub mod sms_code;
pub mod verify_sms_code;
