//! The error a store's configuration check gives.

/// A store setting that cannot work, named by its config key (`url`,
/// `nodes`, `pool_size`, ...) so a service can say which one to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid store setting `{key}`: {reason}")]
pub struct ConfigError {
    /// The setting's key inside the store's section (`nodes`, not `store.redis.nodes`).
    pub key: &'static str,
    /// Why it cannot work; never repeats a URL (it may hold a password).
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(key: &'static str, reason: impl Into<String>) -> Self {
        Self {
            key,
            reason: reason.into(),
        }
    }
}
