//! [`GatewaysConfig`]: which sender, and the settings of each gateway.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use verify::{DiscardSender, LogSender, SendError, SmsMessage, SmsSender};

/// Why a sender could not be built from its config. Names the config key.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A key has a value that cannot be used.
    #[error("invalid setting `{key}`: {reason}")]
    Invalid {
        /// The full config key (`sms.tencent.sdk_app_id`).
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The chosen sender's cargo feature is not compiled in.
    #[error("`sms.sender = \"{sender}\"` needs this build's feature `{sender}`")]
    FeatureOff {
        /// The sender asked for.
        sender: &'static str,
    },
    /// The HTTP client could not be built (TLS set-up).
    #[error("sms http client: {0}")]
    Client(String),
}

impl BuildError {
    pub(crate) fn invalid(key: &str, reason: &str) -> Self {
        Self::Invalid {
            key: key.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

/// `sms.sender`: which sender delivers the codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SenderKind {
    /// Aliyun SMS (`[sms.aliyun]`, feature `aliyun`).
    Aliyun,
    /// Tencent Cloud SMS (`[sms.tencent]`, feature `tencent`).
    Tencent,
    /// Yuntongxun / 容联云 (`[sms.yuntongxun]`, feature `yuntongxun`).
    Yuntongxun,
    /// Twilio (`[sms.twilio]`, feature `twilio`).
    Twilio,
    /// An HTTP gateway of one's own (`[sms.webhook]`, feature `webhook`).
    Webhook,
    /// Logs the code: development only.
    Log,
    /// Sends nothing: load benchmarks only.
    Discard,
}

impl SenderKind {
    /// The gateway label for logs and metrics
    /// (`passport_sms_send_failures_total{gateway}`), as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aliyun => "aliyun",
            Self::Tencent => "tencent",
            Self::Yuntongxun => "yuntongxun",
            Self::Twilio => "twilio",
            Self::Webhook => "webhook",
            Self::Log => "log",
            Self::Discard => "discard",
        }
    }
}

impl std::fmt::Display for SenderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `[sms]` keys this crate owns: the sender and one table per gateway.
/// Only the chosen gateway's table is read and checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaysConfig {
    /// `sms.sender`.
    pub sender: SenderKind,
    /// `sms.fallback`: a second gateway, used only when `sender` definitely
    /// did not send (refused connection, a documented refusal). Never after
    /// a timeout or a 5xx, which could deliver two codes.
    #[serde(default)]
    pub fallback: Option<SenderKind>,
    /// `sms.test_numbers`: numbers that get a fixed code and never an SMS
    /// (app-store review, QA). Off (empty) by default. The service parses
    /// them with its mobile rule; see [`TestNumber`].
    #[serde(default, deserialize_with = "test_numbers")]
    pub test_numbers: Vec<TestNumber>,
    /// `[sms.aliyun]`.
    #[cfg(feature = "aliyun")]
    #[serde(default)]
    pub aliyun: Option<crate::aliyun::AliyunConfig>,
    /// `[sms.tencent]`.
    #[cfg(feature = "tencent")]
    #[serde(default)]
    pub tencent: Option<crate::tencent::TencentConfig>,
    /// `[sms.yuntongxun]`.
    #[cfg(feature = "yuntongxun")]
    #[serde(default)]
    pub yuntongxun: Option<crate::yuntongxun::YuntongxunConfig>,
    /// `[sms.twilio]`.
    #[cfg(feature = "twilio")]
    #[serde(default)]
    pub twilio: Option<crate::twilio::TwilioConfig>,
    /// `[sms.webhook]`.
    #[cfg(feature = "webhook")]
    #[serde(default)]
    pub webhook: Option<crate::webhook::WebhookConfig>,
}

impl GatewaysConfig {
    /// A config choosing `sender`, with no gateway table.
    pub fn new(sender: SenderKind) -> Self {
        Self {
            sender,
            fallback: None,
            test_numbers: Vec::new(),
            #[cfg(feature = "aliyun")]
            aliyun: None,
            #[cfg(feature = "tencent")]
            tencent: None,
            #[cfg(feature = "yuntongxun")]
            yuntongxun: None,
            #[cfg(feature = "twilio")]
            twilio: None,
            #[cfg(feature = "webhook")]
            webhook: None,
        }
    }

    /// Checks the chosen gateway's table (and the fallback's), reads their
    /// key files and builds the sender (no connection is made). The gateway
    /// label for metrics is `self.sender.as_str()`.
    pub fn build(&self) -> Result<Arc<dyn SmsSender>, BuildError> {
        let primary = self.build_one(self.sender)?;
        let Some(fallback) = self.fallback else {
            return Ok(primary);
        };
        if fallback == self.sender {
            return Err(BuildError::invalid(
                "sms.fallback",
                "must differ from sms.sender",
            ));
        }
        if matches!(fallback, SenderKind::Log | SenderKind::Discard) {
            // Either would report success without delivering anything.
            return Err(BuildError::invalid(
                "sms.fallback",
                "must be a real gateway",
            ));
        }
        Ok(Arc::new(FallbackSender {
            primary,
            primary_name: self.sender.as_str(),
            fallback: self.build_one(fallback)?,
        }))
    }

    fn build_one(&self, kind: SenderKind) -> Result<Arc<dyn SmsSender>, BuildError> {
        #[allow(unused)]
        fn missing(table: &str) -> BuildError {
            BuildError::invalid(table, "this sender needs its table")
        }
        match kind {
            SenderKind::Log => Ok(Arc::new(LogSender)),
            SenderKind::Discard => Ok(Arc::new(DiscardSender)),
            #[cfg(feature = "aliyun")]
            SenderKind::Aliyun => {
                let c = self.aliyun.as_ref().ok_or_else(|| missing("sms.aliyun"))?;
                Ok(Arc::new(crate::aliyun::AliyunSender::new(c)?))
            }
            #[cfg(feature = "tencent")]
            SenderKind::Tencent => {
                let c = self
                    .tencent
                    .as_ref()
                    .ok_or_else(|| missing("sms.tencent"))?;
                Ok(Arc::new(crate::tencent::TencentSender::new(c)?))
            }
            #[cfg(feature = "yuntongxun")]
            SenderKind::Yuntongxun => {
                let c = self
                    .yuntongxun
                    .as_ref()
                    .ok_or_else(|| missing("sms.yuntongxun"))?;
                Ok(Arc::new(crate::yuntongxun::YuntongxunSender::new(c)?))
            }
            #[cfg(feature = "twilio")]
            SenderKind::Twilio => {
                let c = self.twilio.as_ref().ok_or_else(|| missing("sms.twilio"))?;
                Ok(Arc::new(crate::twilio::TwilioSender::new(c)?))
            }
            #[cfg(feature = "webhook")]
            SenderKind::Webhook => {
                let c = self
                    .webhook
                    .as_ref()
                    .ok_or_else(|| missing("sms.webhook"))?;
                Ok(Arc::new(crate::webhook::WebhookSender::new(c)?))
            }
            #[allow(unreachable_patterns)]
            other => Err(BuildError::FeatureOff {
                sender: other.as_str(),
            }),
        }
    }
}

/// One entry of `sms.test_numbers`: in a file a table
/// `{ mobile = "...", code = "..." }` (or the string `"mobile:code"`); from
/// the environment one string of `mobile:code` pairs, comma-separated
/// (`PASSPORT__SMS__TEST_NUMBERS=13800000000:246810,+447700900123:135790`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestNumber {
    /// The number, in any spelling the mobile rule accepts.
    pub mobile: String,
    /// Its fixed code: six digits.
    pub code: String,
}

// The code would let anyone sign in as the number: never shown.
impl std::fmt::Debug for TestNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestNumber")
            .field("mobile", &self.mobile)
            .field("code", &"******")
            .finish()
    }
}

impl std::str::FromStr for TestNumber {
    type Err = String;

    /// `mobile:code`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (mobile, code) = s
            .rsplit_once(':')
            .ok_or_else(|| "a test number is `mobile:code`".to_owned())?;
        Ok(Self {
            mobile: mobile.trim().to_owned(),
            code: code.trim().to_owned(),
        })
    }
}

/// A list of tables or `mobile:code` strings, or one comma-separated
/// string of them (the environment's form).
fn test_numbers<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<TestNumber>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Table(TestNumber),
        Pair(String),
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        Many(Vec<Entry>),
        One(String),
    }
    let pairs = |s: &str| -> Result<Vec<TestNumber>, D::Error> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().map_err(serde::de::Error::custom))
            .collect()
    };
    match List::deserialize(d)? {
        List::One(s) => pairs(&s),
        List::Many(entries) => {
            let mut out = Vec::new();
            for entry in entries {
                match entry {
                    Entry::Table(t) => out.push(t),
                    Entry::Pair(s) => out.extend(pairs(&s)?),
                }
            }
            Ok(out)
        }
    }
}

/// Tries `primary`; only when it surely did not send, `fallback`.
#[derive(Debug)]
struct FallbackSender {
    primary: Arc<dyn SmsSender>,
    primary_name: &'static str,
    fallback: Arc<dyn SmsSender>,
}

#[async_trait]
impl SmsSender for FallbackSender {
    async fn send(&self, message: &SmsMessage) -> Result<(), SendError> {
        match self.primary.send(message).await {
            Err(error) if error.definitely_not_sent() => {
                tracing::warn!(
                    gateway = self.primary_name,
                    kind = error.kind(),
                    %error,
                    "sms gateway did not send; trying the fallback"
                );
                self.fallback.send(message).await
            }
            other => other,
        }
    }
}

/// `3000`: the default `timeout_ms` of every gateway.
pub(crate) fn default_timeout_ms() -> u64 {
    3_000
}

/// A required plain (non-secret) key: not empty, no control characters
/// (they would end up in a header or a signed string).
#[cfg_attr(
    not(any(
        feature = "aliyun",
        feature = "tencent",
        feature = "yuntongxun",
        feature = "twilio"
    )),
    allow(dead_code)
)]
pub(crate) fn required(value: &str, key: &str) -> Result<(), BuildError> {
    if value.trim().is_empty() {
        return Err(BuildError::invalid(key, "required"));
    }
    if value.chars().any(char::is_control) {
        return Err(BuildError::invalid(key, "must not hold control characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use verify::{MobileRule, RecordingSender, RefusalKind, SmsCode};

    fn message() -> SmsMessage {
        SmsMessage {
            mobile: MobileRule::default().parse("13812345678").unwrap(),
            code: SmsCode::parse("042042").unwrap(),
            ttl: std::time::Duration::from_secs(300),
            id: "7d1f3c52-8a4b-4e61-9f0a-2b3c4d5e6f70".to_owned(),
        }
    }

    fn pair() -> (Arc<RecordingSender>, Arc<RecordingSender>, FallbackSender) {
        let (primary, fallback) = (
            Arc::new(RecordingSender::new()),
            Arc::new(RecordingSender::new()),
        );
        let sender = FallbackSender {
            primary: primary.clone(),
            primary_name: "test",
            fallback: fallback.clone(),
        };
        (primary, fallback, sender)
    }

    #[tokio::test]
    async fn the_fallback_sends_only_after_a_definite_non_send() {
        let (primary, fallback, sender) = pair();
        primary.fail_next(
            1,
            SendError::Refused {
                kind: RefusalKind::Account,
                code: "isv.AMOUNT_NOT_ENOUGH".to_owned(),
            },
        );
        sender.send(&message()).await.expect("the fallback sent");
        assert_eq!((primary.attempts(), fallback.sent().len()), (1, 1));

        let (primary, fallback, sender) = pair();
        primary.fail_next(1, SendError::Timeout);
        assert!(matches!(
            sender.send(&message()).await,
            Err(SendError::Timeout)
        ));
        assert_eq!(fallback.attempts(), 0, "a timeout may have delivered");

        let (primary, fallback, sender) = pair();
        sender.send(&message()).await.unwrap();
        assert_eq!((primary.sent().len(), fallback.attempts()), (1, 0));
    }

    #[test]
    fn the_fallback_is_checked() {
        let key = |c: GatewaysConfig| match c.build() {
            Err(BuildError::Invalid { key, .. }) => key,
            other => panic!("{other:?}"),
        };
        let mut c = GatewaysConfig::new(SenderKind::Discard);
        c.fallback = Some(SenderKind::Discard);
        assert_eq!(key(c.clone()), "sms.fallback");
        c.fallback = Some(SenderKind::Log);
        assert_eq!(key(c), "sms.fallback");
    }

    #[cfg(feature = "webhook")]
    #[test]
    fn a_chosen_gateway_needs_its_table() {
        let e = GatewaysConfig::new(SenderKind::Webhook)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("`sms.webhook`"), "{e}");
        let c: GatewaysConfig = serde_json::from_str(
            r#"{"sender": "webhook", "webhook": {"url": "https://gw.example/sms"}}"#,
        )
        .unwrap();
        assert!(c.build().is_ok());
    }

    #[cfg(not(feature = "aliyun"))]
    #[test]
    fn a_gateway_left_out_of_the_build_is_named() {
        let e = GatewaysConfig::new(SenderKind::Aliyun).build().unwrap_err();
        assert!(
            matches!(e, BuildError::FeatureOff { sender: "aliyun" }),
            "{e:?}"
        );
    }

    #[test]
    fn log_and_discard_need_no_table() {
        assert!(GatewaysConfig::new(SenderKind::Log).build().is_ok());
        assert!(GatewaysConfig::new(SenderKind::Discard).build().is_ok());
    }

    #[test]
    fn test_numbers_come_as_tables_or_pairs() {
        let c: GatewaysConfig = serde_json::from_str(
            r#"{"sender": "log", "test_numbers": [
                {"mobile": "13800000000", "code": "246810"}, "+447700900123:135790"]}"#,
        )
        .unwrap();
        let want = [
            TestNumber {
                mobile: "13800000000".to_owned(),
                code: "246810".to_owned(),
            },
            TestNumber {
                mobile: "+447700900123".to_owned(),
                code: "135790".to_owned(),
            },
        ];
        assert_eq!(c.test_numbers, want);
        let c: GatewaysConfig = serde_json::from_str(
            r#"{"sender": "log", "test_numbers": "13800000000:246810, +447700900123:135790"}"#,
        )
        .unwrap();
        assert_eq!(c.test_numbers, want);
        assert!(!format!("{c:?}").contains("246810"));
        let none: GatewaysConfig = serde_json::from_str(r#"{"sender": "log"}"#).unwrap();
        assert!(none.test_numbers.is_empty());
        assert!(
            serde_json::from_str::<GatewaysConfig>(r#"{"sender": "log", "test_numbers": "138"}"#)
                .is_err()
        );
    }

    #[test]
    fn sender_names_are_lowercase() {
        let c: GatewaysConfig = serde_json::from_str(r#"{"sender": "discard"}"#).unwrap();
        assert_eq!(c.sender, SenderKind::Discard);
        assert_eq!(SenderKind::Yuntongxun.as_str(), "yuntongxun");
        assert!(serde_json::from_str::<GatewaysConfig>(r#"{"sender": "Log"}"#).is_err());
        assert!(serde_json::from_str::<GatewaysConfig>(r#"{"sender": "log", "x": 1}"#).is_err());
    }
}
