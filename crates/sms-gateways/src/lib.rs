#![doc = include_str!("../README.md")]
// `http`, `secret` and `sign` serve every gateway, and a build with only some
// gateways uses only part of them. The full build (`--all-features`, what CI
// lints) keeps the dead-code check.
#![cfg_attr(
    not(all(
        feature = "aliyun",
        feature = "tencent",
        feature = "yuntongxun",
        feature = "twilio",
        feature = "webhook"
    )),
    allow(dead_code)
)]

mod config;
mod fallback;
mod http;
mod secret;
mod sign;
mod test_number;

#[cfg(feature = "aliyun")]
pub mod aliyun;
#[cfg(feature = "tencent")]
pub mod tencent;
#[cfg(feature = "twilio")]
pub mod twilio;
#[cfg(feature = "webhook")]
pub mod webhook;
#[cfg(feature = "yuntongxun")]
pub mod yuntongxun;

#[cfg(any(test, feature = "test-util"))]
pub mod testing;

pub use config::{BuildError, GatewaysConfig, SenderKind};
pub use secret::Secret;
pub use test_number::TestNumber;
