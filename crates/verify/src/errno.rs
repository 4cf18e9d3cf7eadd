//! Every answer the service gives, in one place: [`Errno`] (the seed's code
//! and its HTTP status) and [`Answer`] (each case a client can meet, with
//! its errno and its Chinese and English text).
//!
//! A newcomer looking for the rule behind any errno finds it here; the
//! server renders these and nothing else.

use std::fmt;

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

/// The seed's error codes (`response_code.RET`), sent as strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Errno {
    /// "0": success.
    Ok,
    /// "4001" (`DBERR`): the store failed or timed out; nothing sent or accepted.
    DbErr,
    /// "4002" (`NODATA`): captcha or SMS code expired, used, or never issued.
    NoData,
    /// "4004" (`DATAERR`): wrong captcha text, wrong SMS code, mobile not valid.
    DataErr,
    /// "4101" (`SESSIONERR`): the verify endpoint's bearer key missing or wrong.
    SessionErr,
    /// "4103" (`PARAMERR`): a parameter missing or malformed, a bad body.
    ParamErr,
    /// "4201" (`REQERR`): a rate limit, an unknown route or method.
    ReqErr,
    /// "4301" (`THIRDERR`): the SMS sender failed.
    ThirdErr,
    /// "4500" (`SERVERERR`): anything unexpected.
    ServerErr,
}

impl Errno {
    /// Every errno, in the order of the contract's table.
    pub const ALL: [Errno; 9] = [
        Errno::Ok,
        Errno::DbErr,
        Errno::NoData,
        Errno::DataErr,
        Errno::SessionErr,
        Errno::ParamErr,
        Errno::ReqErr,
        Errno::ThirdErr,
        Errno::ServerErr,
    ];

    /// The code as the JSON carries it.
    pub fn code(self) -> &'static str {
        match self {
            Errno::Ok => "0",
            Errno::DbErr => "4001",
            Errno::NoData => "4002",
            Errno::DataErr => "4004",
            Errno::SessionErr => "4101",
            Errno::ParamErr => "4103",
            Errno::ReqErr => "4201",
            Errno::ThirdErr => "4301",
            Errno::ServerErr => "4500",
        }
    }

    /// The HTTP status that tells the class. 4103 may also answer 413 or
    /// 415, and 4201 answers 404 or 405 for routing: [`Answer::status`].
    pub fn status(self) -> u16 {
        match self {
            Errno::Ok => 200,
            Errno::DbErr => 503,
            Errno::NoData | Errno::DataErr | Errno::ParamErr => 400,
            Errno::SessionErr => 401,
            Errno::ReqErr => 429,
            Errno::ThirdErr => 502,
            Errno::ServerErr => 500,
        }
    }

    /// Errors the operator should hear of (logged at `warn`): ours or a
    /// dependency's, not the client's.
    pub fn is_service_fault(self) -> bool {
        matches!(self, Errno::DbErr | Errno::ThirdErr | Errno::ServerErr)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl PartialEq<&str> for Errno {
    fn eq(&self, other: &&str) -> bool {
        self.code() == *other
    }
}

/// Each case a client can meet, with its errno, HTTP status and texts.
///
/// Texts are generic: no limit, key or backend is ever named (the `Display`
/// of the error behind an answer, for logs, does that). Chinese texts are the
/// seed's where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    /// An SMS code was handed to the sender.
    SmsSent,
    /// A backend's check accepted the SMS code.
    CodeAccepted,
    /// A health probe.
    Healthy,
    /// A parameter missing or malformed, a body not JSON.
    Param,
    /// The body is larger than the limit.
    BodyTooLarge,
    /// The body is not `application/json`.
    WrongContentType,
    /// The body did not arrive within the read deadline.
    BodyTimeout,
    /// The mobile number is not valid.
    InvalidMobile,
    /// The captcha expired, was used, or was never issued.
    CaptchaMissing,
    /// The typed captcha text is wrong.
    CaptchaWrong,
    /// The SMS code expired, was used, is void, or was never sent.
    SmsCodeMissing,
    /// The SMS code is wrong.
    SmsCodeWrong,
    /// A rate limit was hit.
    RateLimited,
    /// The store failed or timed out.
    StoreDown,
    /// The SMS sender failed.
    SenderFailed,
    /// The bearer key is missing or wrong.
    Unauthorized,
    /// No such route.
    NotFound,
    /// The route exists, the method does not.
    MethodNotAllowed,
    /// A cross-origin request from an origin that is not allowed.
    OriginRefused,
    /// Anything unexpected.
    Unexpected,
}

impl Answer {
    /// Every case, in the order of the enum.
    pub const ALL: [Answer; 20] = [
        Answer::SmsSent,
        Answer::CodeAccepted,
        Answer::Healthy,
        Answer::Param,
        Answer::BodyTooLarge,
        Answer::WrongContentType,
        Answer::BodyTimeout,
        Answer::InvalidMobile,
        Answer::CaptchaMissing,
        Answer::CaptchaWrong,
        Answer::SmsCodeMissing,
        Answer::SmsCodeWrong,
        Answer::RateLimited,
        Answer::StoreDown,
        Answer::SenderFailed,
        Answer::Unauthorized,
        Answer::NotFound,
        Answer::MethodNotAllowed,
        Answer::OriginRefused,
        Answer::Unexpected,
    ];

    /// The errno this case answers with.
    pub fn errno(self) -> Errno {
        match self {
            Answer::SmsSent | Answer::CodeAccepted | Answer::Healthy => Errno::Ok,
            Answer::StoreDown => Errno::DbErr,
            Answer::CaptchaMissing | Answer::SmsCodeMissing => Errno::NoData,
            Answer::InvalidMobile | Answer::CaptchaWrong | Answer::SmsCodeWrong => Errno::DataErr,
            Answer::Unauthorized => Errno::SessionErr,
            Answer::Param
            | Answer::BodyTooLarge
            | Answer::WrongContentType
            | Answer::BodyTimeout => Errno::ParamErr,
            Answer::RateLimited
            | Answer::NotFound
            | Answer::MethodNotAllowed
            | Answer::OriginRefused => Errno::ReqErr,
            Answer::SenderFailed => Errno::ThirdErr,
            Answer::Unexpected => Errno::ServerErr,
        }
    }

    /// The HTTP status (before `compat.errors_as_200`).
    pub fn status(self) -> u16 {
        match self {
            Answer::BodyTooLarge => 413,
            Answer::WrongContentType => 415,
            Answer::BodyTimeout => 408,
            Answer::NotFound => 404,
            Answer::MethodNotAllowed => 405,
            Answer::OriginRefused => 403,
            other => other.errno().status(),
        }
    }

    /// The `errmsg` in `lang`.
    pub fn text(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            Answer::SmsSent => ("发送成功", "SMS code sent"),
            Answer::CodeAccepted => ("验证成功", "Code accepted"),
            Answer::Healthy => ("正常", "OK"),
            Answer::Param | Answer::BodyTooLarge | Answer::WrongContentType => {
                ("参数错误", "Invalid parameters")
            }
            Answer::BodyTimeout => ("请求超时", "Request timed out"),
            Answer::InvalidMobile => ("手机号格式不正确", "Invalid mobile number"),
            Answer::CaptchaMissing => (
                "图片验证码已过期",
                "Image code expired, please get a new one",
            ),
            Answer::CaptchaWrong => ("图片验证码错误", "Wrong image code"),
            Answer::SmsCodeMissing => (
                "短信验证码已过期",
                "SMS code expired, please request a new one",
            ),
            Answer::SmsCodeWrong => ("短信验证码错误", "Wrong SMS code"),
            Answer::RateLimited => ("请求过于频繁", "Too many requests, try again later"),
            Answer::StoreDown => ("服务暂不可用", "Service temporarily unavailable"),
            Answer::SenderFailed => ("短信发送失败", "Failed to send the SMS"),
            Answer::Unauthorized => ("认证失败", "Authentication required"),
            Answer::NotFound | Answer::MethodNotAllowed | Answer::OriginRefused => {
                ("非法请求", "Invalid request")
            }
            Answer::Unexpected => ("服务器内部错误", "Internal server error"),
        };
        match lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_seeds() {
        let codes: Vec<&str> = Errno::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(
            codes,
            [
                "0", "4001", "4002", "4004", "4101", "4103", "4201", "4301", "4500"
            ]
        );
        assert_eq!(Errno::ReqErr, "4201");
        assert_eq!(Errno::DbErr.to_string(), "4001");
    }

    #[test]
    fn all_lists_every_answer_once() {
        // The match has no wildcard: a new variant fails to compile here
        // until it is given a place, and the place must be its index in ALL.
        fn index(a: Answer) -> usize {
            match a {
                Answer::SmsSent => 0,
                Answer::CodeAccepted => 1,
                Answer::Healthy => 2,
                Answer::Param => 3,
                Answer::BodyTooLarge => 4,
                Answer::WrongContentType => 5,
                Answer::BodyTimeout => 6,
                Answer::InvalidMobile => 7,
                Answer::CaptchaMissing => 8,
                Answer::CaptchaWrong => 9,
                Answer::SmsCodeMissing => 10,
                Answer::SmsCodeWrong => 11,
                Answer::RateLimited => 12,
                Answer::StoreDown => 13,
                Answer::SenderFailed => 14,
                Answer::Unauthorized => 15,
                Answer::NotFound => 16,
                Answer::MethodNotAllowed => 17,
                Answer::OriginRefused => 18,
                Answer::Unexpected => 19,
            }
        }
        for (i, a) in Answer::ALL.iter().enumerate() {
            assert_eq!(index(*a), i, "{a:?}");
        }
    }

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(Answer::RateLimited.status(), 429);
        assert_eq!(Answer::StoreDown.status(), 503);
        assert_eq!(Answer::BodyTooLarge.status(), 413);
        assert_eq!(Answer::WrongContentType.status(), 415);
        assert_eq!(Answer::NotFound.status(), 404);
        assert_eq!(Answer::CaptchaWrong.status(), 400);
        assert_eq!(Answer::SenderFailed.status(), 502);
        assert_eq!(Answer::Unexpected.status(), 500);
    }
}
