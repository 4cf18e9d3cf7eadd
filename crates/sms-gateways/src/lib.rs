#![doc = include_str!("../README.md")]

mod config;
// Shared by the gateways; a build with only some of them uses only part.
#[cfg_attr(
    not(all(
        feature = "aliyun",
        feature = "tencent",
        feature = "yuntongxun",
        feature = "twilio",
        feature = "webhook"
    )),
    allow(dead_code)
)]
mod http;
// Shared by the gateways; a build with only some of them uses only part.
#[cfg_attr(
    not(all(
        feature = "aliyun",
        feature = "tencent",
        feature = "yuntongxun",
        feature = "twilio",
        feature = "webhook"
    )),
    allow(dead_code)
)]
mod secret;
// Shared by the gateways; a build with only some of them uses only part.
#[cfg_attr(
    not(all(
        feature = "aliyun",
        feature = "tencent",
        feature = "yuntongxun",
        feature = "twilio",
        feature = "webhook"
    )),
    allow(dead_code)
)]
mod sign;

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

pub use config::{BuildError, GatewaysConfig, SenderKind, TestNumber};
pub use secret::Secret;
