//! Logging: `tracing` events to stderr, text or JSON lines (`log.json`).

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::configuration::LogSettings;

/// Installs the global subscriber; a second call does nothing.
pub fn init(log: &LogSettings) {
    // `Settings::validate` has checked the level already.
    let filter: Targets = log.level.parse().unwrap_or_default();
    let registry = tracing_subscriber::registry().with(filter);
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let _ = if log.json {
        registry.with(fmt.json().flatten_event(true)).try_init()
    } else {
        registry.with(fmt).try_init()
    };
}
