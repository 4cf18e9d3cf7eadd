//! [`FallbackSender`]: `sms.fallback`, a second gateway for codes the first
//! surely did not send.

use std::sync::Arc;

use async_trait::async_trait;
use verify::{SendError, SmsMessage, SmsSender};

/// Tries `primary`; only when it surely did not send, `fallback`.
#[derive(Debug)]
pub(crate) struct FallbackSender {
    primary: Arc<dyn SmsSender>,
    primary_name: &'static str,
    fallback: Arc<dyn SmsSender>,
}

impl FallbackSender {
    /// `primary_name` labels the log line of a send passed to `fallback`.
    pub(crate) fn new(
        primary: Arc<dyn SmsSender>,
        primary_name: &'static str,
        fallback: Arc<dyn SmsSender>,
    ) -> Self {
        Self {
            primary,
            primary_name,
            fallback,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::message;

    use verify::{RecordingSender, RefusalKind};

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
}
