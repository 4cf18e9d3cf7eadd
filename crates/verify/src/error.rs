//! [`VerifyError`]: one variant per case of the contract.

use std::time::Duration;

use crate::sender::SendError;
use crate::types::ParseError;

/// The language of user-facing messages (`"zh"` or `"en"` in a config file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
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

impl Limit {
    /// A stable snake_case name, for log fields and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::ImageCodesPerIp => "image_codes_per_ip",
            Limit::SmsPerIp => "sms_per_ip",
            Limit::SmsInterval => "sms_interval",
            Limit::SmsDailyCap => "sms_daily_cap",
            Limit::SmsGlobal => "sms_global",
        }
    }
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
        match self {
            VerifyError::Store(_) => "4001",
            VerifyError::CaptchaMissing | VerifyError::SmsCodeMissing => "4002",
            VerifyError::InvalidMobile
            | VerifyError::CaptchaWrong
            | VerifyError::SmsCodeWrong { .. } => "4004",
            VerifyError::Param(_) => "4103",
            VerifyError::RateLimited { .. } => "4201",
            VerifyError::Sender(_) => "4301",
            VerifyError::Render(_) => "4500",
        }
    }

    /// For rate limits: when the client may try again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            VerifyError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The user-facing message, generic (no internals).
    ///
    /// Chinese texts are the seed's where it has one. No message names a
    /// limit, a key or a backend: the `Display` form (for logs) does that.
    pub fn message(&self, lang: Lang) -> &'static str {
        match (self, lang) {
            (VerifyError::Param(_), Lang::Zh) => "参数错误",
            (VerifyError::Param(_), Lang::En) => "Invalid parameters",
            (VerifyError::InvalidMobile, Lang::Zh) => "手机号格式不正确",
            (VerifyError::InvalidMobile, Lang::En) => "Invalid mobile number",
            (VerifyError::CaptchaMissing, Lang::Zh) => "图片验证码已过期",
            (VerifyError::CaptchaMissing, Lang::En) => "Image code expired, please get a new one",
            (VerifyError::CaptchaWrong, Lang::Zh) => "图片验证码错误",
            (VerifyError::CaptchaWrong, Lang::En) => "Wrong image code",
            (VerifyError::SmsCodeMissing, Lang::Zh) => "短信验证码已过期",
            (VerifyError::SmsCodeMissing, Lang::En) => "SMS code expired, please request a new one",
            (VerifyError::SmsCodeWrong { .. }, Lang::Zh) => "短信验证码错误",
            (VerifyError::SmsCodeWrong { .. }, Lang::En) => "Wrong SMS code",
            (VerifyError::RateLimited { .. }, Lang::Zh) => "请求过于频繁",
            (VerifyError::RateLimited { .. }, Lang::En) => "Too many requests, try again later",
            (VerifyError::Store(_), Lang::Zh) => "服务暂不可用",
            (VerifyError::Store(_), Lang::En) => "Service temporarily unavailable",
            (VerifyError::Sender(_), Lang::Zh) => "短信发送失败",
            (VerifyError::Sender(_), Lang::En) => "Failed to send the SMS",
            (VerifyError::Render(_), Lang::Zh) => "服务器内部错误",
            (VerifyError::Render(_), Lang::En) => "Internal server error",
        }
    }
}

impl Lang {
    /// The message for a successfully sent SMS code (the seed's "发送成功").
    pub fn sms_sent(self) -> &'static str {
        match self {
            Lang::Zh => "发送成功",
            Lang::En => "SMS code sent",
        }
    }
}
