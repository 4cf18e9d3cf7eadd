//! The senders that need no network.

use std::time::Duration;

use crate::support::Captured;
use verify::{
    DiscardSender, LogSender, MobileRule, RecordingSender, SendError, SmsCode, SmsMessage,
    SmsSender,
};

fn message(code: &str) -> SmsMessage {
    SmsMessage {
        mobile: MobileRule::default().parse("13812345678").unwrap(),
        code: SmsCode::parse(code).unwrap(),
        ttl: Duration::from_secs(300),
        id: "5f0c1a2e-0000-4000-8000-000000000001".to_owned(),
    }
}

#[tokio::test]
async fn recording_sender_records_and_fails_on_demand() {
    let s = RecordingSender::new();
    s.send(&message("111111")).await.unwrap();
    s.fail_next(2, SendError::Timeout);
    assert!(matches!(
        s.send(&message("222222")).await,
        Err(SendError::Timeout)
    ));
    assert!(matches!(
        s.send(&message("333333")).await,
        Err(SendError::Timeout)
    ));
    s.send(&message("444444")).await.unwrap();
    let codes: Vec<_> = s
        .sent()
        .iter()
        .map(|m| m.code.as_str().to_owned())
        .collect();
    assert_eq!(codes, ["111111", "444444"]);
    assert_eq!(s.attempts(), 4);
}

#[tokio::test]
async fn log_and_discard_senders_succeed() {
    // Shared as trait objects, as the service holds them.
    let senders: [Box<dyn SmsSender>; 2] = [Box::new(LogSender), Box::new(DiscardSender)];
    for s in senders {
        s.send(&message("123456")).await.unwrap();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn log_sender_logs_masked_mobile_and_code_at_info() {
    let captured = Captured::default();
    let _guard = tracing::subscriber::set_default(captured.clone());
    LogSender.send(&message("012345")).await.unwrap();
    let ninety = SmsMessage {
        ttl: Duration::from_secs(90),
        ..message("999999")
    };
    LogSender.send(&ninety).await.unwrap();
    let events = captured.messages();
    assert_eq!(
        events,
        [
            (
                tracing::Level::INFO,
                "SMS to 138****5678: code 012345 (valid 5 min)".to_owned()
            ),
            (
                tracing::Level::INFO,
                "SMS to 138****5678: code 999999 (valid 90 s)".to_owned()
            ),
        ]
    );
}
