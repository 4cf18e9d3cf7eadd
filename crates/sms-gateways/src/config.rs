//! [`GatewaysConfig`]: which sender, and the settings of each gateway.

use std::sync::Arc;

use serde::Deserialize;
use verify::{DiscardSender, LogSender, SmsSender};

use crate::fallback::FallbackSender;
use crate::test_number::{TestNumber, test_numbers};

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
        Ok(Arc::new(FallbackSender::new(
            primary,
            self.sender.as_str(),
            self.build_one(fallback)?,
        )))
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

/// `3000`: the default `timeout_ms` of every gateway.
pub(crate) fn default_timeout_ms() -> u64 {
    3_000
}

/// A required plain (non-secret) key: not empty, no control characters
/// (they would end up in a header or a signed string).
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
    fn sender_names_are_lowercase() {
        let c: GatewaysConfig = serde_json::from_str(r#"{"sender": "discard"}"#).unwrap();
        assert_eq!(c.sender, SenderKind::Discard);
        assert_eq!(SenderKind::Yuntongxun.as_str(), "yuntongxun");
        assert!(serde_json::from_str::<GatewaysConfig>(r#"{"sender": "Log"}"#).is_err());
        assert!(serde_json::from_str::<GatewaysConfig>(r#"{"sender": "log", "x": 1}"#).is_err());
    }
}
