//! [`VerifyError`]: one variant per case of the contract.

use std::time::Duration;

use crate::errno::{Answer, Errno, Lang};
use crate::sender::SendError;
use crate::types::ParseError;

/// Which rate limit was hit (for logs; never shown to clients).
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
    /// The case the client is told of (errno, status, texts).
    pub fn answer(&self) -> Answer {
        match self {
            VerifyError::Param(_) => Answer::Param,
            VerifyError::InvalidMobile => Answer::InvalidMobile,
            VerifyError::CaptchaMissing => Answer::CaptchaMissing,
            VerifyError::CaptchaWrong => Answer::CaptchaWrong,
            VerifyError::SmsCodeMissing => Answer::SmsCodeMissing,
            VerifyError::SmsCodeWrong { .. } => Answer::SmsCodeWrong,
            VerifyError::RateLimited { .. } => Answer::RateLimited,
            VerifyError::Store(_) => Answer::StoreDown,
            VerifyError::Sender(_) => Answer::SenderFailed,
            VerifyError::Render(_) => Answer::Unexpected,
        }
    }

    /// The seed's errno.
    pub fn errno(&self) -> Errno {
        self.answer().errno()
    }

    /// For rate limits: when the client may try again (whole seconds, at
    /// least one).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            VerifyError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The user-facing message, generic (no internals).
    pub fn message(&self, lang: Lang) -> &'static str {
        self.answer().text(lang)
    }
}
