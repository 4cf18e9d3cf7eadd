#![doc = include_str!("../README.md")]

pub mod cli;
mod client_ip;
pub mod configuration;
mod connections;
mod cors;
mod deadline;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod healthcheck;
pub mod heap;
mod metrics;
mod observe;
mod page;
mod reply;
mod routes;
pub mod startup;
mod state;
pub mod telemetry;

pub use configuration::Settings;
pub use startup::Application;

/// The workspace README's Rust examples, compiled and run as doctests so the
/// front page cannot drift from the crates' real API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct WorkspaceReadme;
