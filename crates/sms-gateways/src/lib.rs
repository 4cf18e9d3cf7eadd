#![doc = include_str!("../README.md")]

mod config;
mod http;
mod secret;
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

#[cfg(test)]
mod loopback;

pub use config::{BuildError, GatewaysConfig, SenderKind};
pub use secret::Secret;
