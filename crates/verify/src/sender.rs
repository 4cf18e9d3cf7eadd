//! SMS senders: the [`SmsSender`] trait, [`LogSender`] for development,
//! [`DiscardSender`] for load benchmarks, [`RecordingSender`] for tests;
//! real gateways in `passport-sms-gateways`.

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

/// Why a send failed, and whether the SMS may still have gone out.
///
/// What the rules give back depends on [`SendError::definitely_not_sent`]:
/// only a send that surely did not happen returns the per-mobile limits, so
/// a gateway that delivers but answers late cannot be used to get around
/// them.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// The gateway did not answer in time. It may have sent.
    #[error("sms gateway timed out")]
    Timeout,
    /// No byte of the request reached the gateway (DNS, refused connection,
    /// TLS handshake). Not sent.
    #[error("sms gateway unreachable: {0}")]
    Connect(String),
    /// The gateway answered with a non-success HTTP status. A 4xx is a
    /// documented refusal (not sent); a 5xx or anything else may have been
    /// accepted.
    #[error("sms gateway answered {0}")]
    Status(u16),
    /// The provider answered with one of its documented error codes: the
    /// message was not accepted.
    #[error("sms gateway refused ({kind}): provider code {code}")]
    Refused {
        /// What the provider's code means to us.
        kind: RefusalKind,
        /// The provider's own code, for the log and the metric label.
        code: String,
    },
    /// The request could not be built; nothing was sent.
    #[error("sms request not built: {0}")]
    NotSent(String),
    /// Anything else, such as an answer that could not be read. It may have
    /// sent.
    #[error("sms sender failed: {0}")]
    Other(String),
}

/// What a provider's documented error code means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The number is not valid or not reachable.
    BadNumber,
    /// The credentials or the signature were refused.
    Auth,
    /// The account is frozen, out of credit or not allowed to send.
    Account,
    /// The provider throttled the number, the template or the account.
    Throttled,
    /// The sign name, template or its parameters were refused.
    Template,
    /// Another documented refusal.
    Rejected,
}

impl RefusalKind {
    /// The label used in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadNumber => "bad_number",
            Self::Auth => "auth",
            Self::Account => "account",
            Self::Throttled => "throttled",
            Self::Template => "template",
            Self::Rejected => "rejected",
        }
    }
}

impl std::fmt::Display for RefusalKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl SendError {
    /// True only when the SMS surely was not sent: no byte of the request
    /// reached the gateway, or the gateway refused it in a documented way.
    /// A timeout, a 5xx or an unreadable answer may hide a delivered SMS.
    pub fn definitely_not_sent(&self) -> bool {
        match self {
            Self::Connect(_) | Self::Refused { .. } | Self::NotSent(_) => true,
            Self::Status(status) => (400..500).contains(status),
            Self::Timeout | Self::Other(_) => false,
        }
    }

    /// A short label for the metric `passport_sms_send_failures_total{kind}`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect(_) => "connect",
            Self::Status(_) => "status",
            Self::Refused { kind, .. } => kind.as_str(),
            Self::NotSent(_) => "not_sent",
            Self::Other(_) => "other",
        }
    }
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
