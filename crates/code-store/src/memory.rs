//! The bounded in-memory store: the embedded default.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use crate::{CodeCheck, CodeStore, Count, StoreError};

/// Settings of a [`MemoryStore`].
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryConfig {
    /// Most entries held at once (captcha answers give way first when full).
    pub max_entries: usize,
    /// Put in front of every key.
    pub key_prefix: String,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            key_prefix: String::new(),
        }
    }
}

/// A bounded in-memory [`CodeStore`]; cheap to clone, clones share the data.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    _config: MemoryConfig,
}

impl MemoryStore {
    /// Creates a store. Must be called inside a tokio runtime (it spawns the
    /// background purge task, which ends when the last clone is dropped).
    pub fn new(config: MemoryConfig) -> Self {
        Self { _config: config }
    }
}

#[async_trait]
impl CodeStore for MemoryStore {
    async fn put(&self, _key: &str, _value: &str, _ttl: Duration) -> Result<(), StoreError> {
        unimplemented!()
    }
    async fn take(&self, _key: &str) -> Result<Option<String>, StoreError> {
        unimplemented!()
    }
    async fn put_if_absent(
        &self,
        _key: &str,
        _value: &str,
        _ttl: Duration,
    ) -> Result<bool, StoreError> {
        unimplemented!()
    }
    async fn incr(&self, _key: &str, _window: Duration) -> Result<Count, StoreError> {
        unimplemented!()
    }
    async fn decr(&self, _key: &str) -> Result<(), StoreError> {
        unimplemented!()
    }
    async fn delete(&self, _key: &str) -> Result<(), StoreError> {
        unimplemented!()
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn put_code(&self, _key: &str, _code: &str, _ttl: Duration) -> Result<(), StoreError> {
        unimplemented!()
    }
    async fn check_code(
        &self,
        _key: &str,
        _code: &str,
        _max_attempts: u32,
    ) -> Result<CodeCheck, StoreError> {
        unimplemented!()
    }
}
