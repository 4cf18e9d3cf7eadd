//! One module per route.

pub(crate) mod fallback;
pub(crate) mod health;
pub(crate) mod image_code;
pub(crate) mod sms_code;
pub(crate) mod verify_sms_code;
