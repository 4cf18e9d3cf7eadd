//! SMS senders: the [`SmsSender`] trait, [`LogSender`] for development,
//! [`DiscardSender`] for load benchmarks, [`RecordingSender`] for tests and,
//! with feature `webhook`, `WebhookSender` for production.

use std::sync::Mutex;
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
///
/// The one place a code is ever logged: at `info`, as
/// `SMS to 138****5678: code 123456 (valid 5 min)`.
#[derive(Debug, Clone, Default)]
pub struct LogSender;

#[async_trait]
impl SmsSender for LogSender {
    async fn send(&self, message: &SmsMessage) -> Result<(), SendError> {
        tracing::info!(
            "SMS to {}: code {} (valid {})",
            message.mobile.masked(),
            message.code.as_str(),
            DisplayTtl(message.ttl),
        );
        Ok(())
    }
}

/// `5 min` for whole minutes, else `90 s`.
struct DisplayTtl(Duration);

impl std::fmt::Display for DisplayTtl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0.as_secs();
        if secs >= 60 && secs.is_multiple_of(60) {
            write!(f, "{} min", secs / 60)
        } else {
            write!(f, "{secs} s")
        }
    }
}

/// Drops every message without any I/O and reports success.
///
/// For load benchmarks only: it measures the rules and the store without a
/// gateway. A service using it sends nothing to anybody.
#[derive(Debug, Clone, Default)]
pub struct DiscardSender;

#[async_trait]
impl SmsSender for DiscardSender {
    async fn send(&self, _message: &SmsMessage) -> Result<(), SendError> {
        Ok(())
    }
}

/// Keeps every message in memory; can be told to fail. For tests.
#[derive(Debug, Default)]
pub struct RecordingSender {
    state: Mutex<Recording>,
}

#[derive(Debug, Default)]
struct Recording {
    sent: Vec<SmsMessage>,
    attempts: usize,
    fail_left: usize,
    fail_with: Option<SendError>,
}

impl RecordingSender {
    /// A sender that records and succeeds.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message sent so far, oldest first (failed sends not included).
    pub fn sent(&self) -> Vec<SmsMessage> {
        self.lock().sent.clone()
    }

    /// Sends attempted so far, failed ones included.
    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }

    /// Makes the next `n` sends fail with `error`.
    pub fn fail_next(&self, n: usize, error: SendError) {
        let mut state = self.lock();
        state.fail_left = n;
        state.fail_with = Some(error);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recording> {
        // A test that panicked while holding the lock leaves plain data
        // behind; the record is still meaningful.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl SmsSender for RecordingSender {
    async fn send(&self, message: &SmsMessage) -> Result<(), SendError> {
        let mut state = self.lock();
        state.attempts += 1;
        if state.fail_left > 0 {
            state.fail_left -= 1;
            if let Some(error) = &state.fail_with {
                return Err(error.clone());
            }
        }
        state.sent.push(message.clone());
        Ok(())
    }
}
