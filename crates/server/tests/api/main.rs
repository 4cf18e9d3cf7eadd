//! The HTTP contract, end to end: the app on a free port, spoken to over TCP.
// Test binaries: `pub` items in their modules are reachable from the
// test modules only, which is what they are for.
#![allow(unreachable_pub)]

mod audio_code;
mod client_ip;
mod config;
mod contract;
mod gateways;
mod hardening;
mod helpers;
mod image_code;
mod openapi;
mod redis;
mod routing;
mod scale_out;
mod shutdown;
mod sms_code;
mod verify_endpoint;
mod webhook;
