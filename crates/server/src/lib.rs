#![doc = include_str!("../README.md")]

pub mod cli;
pub mod client_ip;
pub mod configuration;
pub mod healthcheck;
pub mod metrics;
pub mod observe;
pub mod page;
pub mod reply;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use configuration::Settings;
pub use startup::Application;

/// The workspace README's Rust examples, compiled and run as doctests so the
/// front page cannot drift from the crates' real API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct WorkspaceReadme;
