#![doc = include_str!("../README.md")]

pub mod errno;
pub mod error;
pub mod keys;
pub mod policy;
pub mod sender;
pub mod test_numbers;
pub mod types;

mod passport;

pub use errno::{Answer, Errno, Lang};
pub use error::{Limit, VerifyError};
pub use passport::{Passport, check_typed};
pub use policy::{Policy, PolicyError};
pub use sender::{
    DiscardSender, LogSender, RecordingSender, RefusalKind, SendError, SmsMessage, SmsSender,
};
pub use test_numbers::TestNumbers;
pub use types::{ClientIp, ImageCodeId, Mobile, MobileFormat, MobileRule, ParseError, SmsCode};

pub use captcha_render::{Captcha, Renderer};
pub use code_store::{CodeStore, SharedStore, StoreError};
/// The crates a service needs to build a [`Passport`], re-exported so one
/// dependency is enough.
pub use {captcha_audio, captcha_render, code_store};
