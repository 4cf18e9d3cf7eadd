#![doc = include_str!("../README.md")]

pub mod error;
pub mod keys;
pub mod policy;
pub mod sender;
pub mod types;

mod passport;

pub use error::{Lang, Limit, VerifyError};
pub use passport::Passport;
pub use policy::{Policy, PolicyError};
pub use sender::{DiscardSender, LogSender, RecordingSender, SendError, SmsMessage, SmsSender};
pub use types::{ClientIp, ImageCodeId, Mobile, MobileRule, ParseError, SmsCode};

pub use captcha_render::{Captcha, Renderer};
pub use code_store::{CodeStore, SharedStore, StoreError};
