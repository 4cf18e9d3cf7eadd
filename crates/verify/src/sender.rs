//! SMS senders: the [`SmsSender`] trait, [`LogSender`] for development and
//! [`RecordingSender`] for tests.

use std::time::Duration;

use async_trait::async_trait;

use crate::types::{Mobile, SmsCode};

/// One SMS to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    /// Recipient.
    pub mobile: Mobile,
    /// The code.
    pub code: SmsCode,
    /// How long the code is valid.
    pub ttl: Duration,
    /// Idempotency key (a UUID): a retried request with the same id must not
    /// make the gateway send twice.
    pub id: String,
}

/// Why a send failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// The gateway did not answer in time.
    #[error("sms gateway timed out")]
    Timeout,
    /// The gateway could not be reached.
    #[error("sms gateway unreachable: {0}")]
    Connect(String),
    /// The gateway answered with a non-success HTTP status.
    #[error("sms gateway answered {0}")]
    Status(u16),
    /// Anything else.
    #[error("sms sender failed: {0}")]
    Other(String),
}

/// Delivers SMS codes. Object-safe: shared as `Arc<dyn SmsSender>`.
#[async_trait]
pub trait SmsSender: Send + Sync + std::fmt::Debug {
    /// Sends one message.
    async fn send(&self, message: &SmsMessage) -> Result<(), SendError>;
}

/// Logs each code instead of sending it. For development only.
#[derive(Debug, Clone, Default)]
pub struct LogSender;

#[async_trait]
impl SmsSender for LogSender {
    async fn send(&self, _message: &SmsMessage) -> Result<(), SendError> {
        unimplemented!()
    }
}

/// Keeps every message in memory; can be told to fail. For tests.
#[derive(Debug, Default)]
pub struct RecordingSender {
    _private: (),
}

impl RecordingSender {
    /// Every message sent so far, oldest first.
    pub fn sent(&self) -> Vec<SmsMessage> {
        unimplemented!()
    }
    /// Makes the next `n` sends fail with `error`.
    pub fn fail_next(&self, _n: usize, _error: SendError) {
        unimplemented!()
    }
}

#[async_trait]
impl SmsSender for RecordingSender {
    async fn send(&self, _message: &SmsMessage) -> Result<(), SendError> {
        unimplemented!()
    }
}
