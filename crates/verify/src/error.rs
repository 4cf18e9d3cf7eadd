//! [`VerifyError`]: one variant per case of the contract.

use std::time::Duration;

use crate::sender::SendError;
use crate::types::ParseError;

/// The language of user-facing messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    /// Chinese, the default (the seed's audience).
    #[default]
    Zh,
    /// English.
    En,
}

/// Which rate limit was hit (for logs and metrics; never shown to clients).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Captcha images per client IP per minute.
    ImageCodesPerIp,
    /// SMS requests per client IP per hour.
    SmsPerIp,
    /// One SMS per mobile per interval.
    SmsInterval,
    /// SMS per mobile per 24 h.
    SmsDailyCap,
    /// SMS in all per hour (circuit breaker).
    SmsGlobal,
}

/// Everything that can go wrong in Passport's rules.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A parameter is missing or malformed (errno 4103).
    #[error(transparent)]
    Param(ParseError),
    /// The mobile number is not valid (errno 4004).
    #[error("mobile number not valid")]
    InvalidMobile,
    /// The captcha expired, was used, or was never issued (errno 4002).
    #[error("captcha expired or used")]
    CaptchaMissing,
    /// The typed captcha text is wrong (errno 4004).
    #[error("captcha wrong")]
    CaptchaWrong,
    /// The SMS code expired, was used, is void, or was never sent (errno 4002).
    #[error("sms code expired or used")]
    SmsCodeMissing,
    /// The SMS code is wrong (errno 4004).
    #[error("sms code wrong")]
    SmsCodeWrong {
        /// Wrong checks still allowed before the code is void.
        attempts_left: u32,
    },
    /// A rate limit was hit (errno 4201).
    #[error("rate limited ({limit:?})")]
    RateLimited {
        /// Which limit.
        limit: Limit,
        /// When the client may try again.
        retry_after: Duration,
    },
    /// The store failed or timed out (errno 4001); nothing was sent or accepted.
    #[error("store failed: {0}")]
    Store(#[from] code_store::StoreError),
    /// The SMS sender failed (errno 4301).
    #[error("sms sender failed: {0}")]
    Sender(#[from] SendError),
    /// The captcha could not be rendered (errno 4500).
    #[error("captcha rendering failed: {0}")]
    Render(#[from] captcha_render::RenderError),
}

impl From<ParseError> for VerifyError {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::InvalidMobile => VerifyError::InvalidMobile,
            other => VerifyError::Param(other),
        }
    }
}

impl VerifyError {
    /// The seed's errno: "4001", "4002", "4004", "4103", "4201", "4301", "4500".
    pub fn errno(&self) -> &'static str {
        unimplemented!()
    }
    /// For rate limits: when the client may try again.
    pub fn retry_after(&self) -> Option<Duration> {
        unimplemented!()
    }
    /// The user-facing message, generic (no internals).
    pub fn message(&self, _lang: Lang) -> &'static str {
        unimplemented!()
    }
}
