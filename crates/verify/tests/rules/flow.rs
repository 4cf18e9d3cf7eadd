//! The rules, one suite for every store.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use code_store::{CodeLimits, CodeStore, Issued, SmsCodeStore};
use verify::{ClientIp, Limit, SendError, SmsCode, VerifyError, keys};

use crate::support::{Backend, Harness, in_parallel, ip, mobile, new_id, no_limits, nth_mobile};

fn assert_limited(result: Result<(), VerifyError>, want: Limit, max_wait: Duration) {
    match result {
        Err(e @ VerifyError::RateLimited { limit, retry_after }) => {
            assert_eq!(limit, want);
            assert_eq!(e.errno(), "4201");
            assert_eq!(e.retry_after(), Some(retry_after));
            assert!(
                retry_after >= Duration::from_secs(1) && retry_after <= max_wait,
                "retry_after {retry_after:?} not in 1 s..={max_wait:?}"
            );
        }
        other => panic!("expected {want:?} limit, got {other:?}"),
    }
}

pub async fn send_then_check_once(b: Backend) {
    let h = Harness::new(b, "send_then_check_once", no_limits());
    let m = mobile("13812345678");
    h.send(&m, &ip(1)).await.expect("send");
    let sent = h.sender.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].mobile, m);
    assert_eq!(sent[0].ttl, h.passport.policy().sms_ttl);
    assert!(uuid::Uuid::try_parse(&sent[0].id).is_ok(), "id is a uuid");
    let code = h.last_code(&m);
    h.passport
        .check_sms_code(&m, &code)
        .await
        .expect("right code, first time");
    let again = h.passport.check_sms_code(&m, &code).await.unwrap_err();
    assert!(matches!(again, VerifyError::SmsCodeMissing), "{again:?}");
    assert_eq!(again.errno(), "4002");
}

pub async fn typed_text_is_trimmed_and_case_insensitive(b: Backend) {
    let h = Harness::new(b, "typed_text_is_trimmed", no_limits());
    let (id, text) = h.captcha(&ip(1)).await;
    let typed = format!("  {}\t", text.to_ascii_lowercase());
    h.passport
        .send_sms_code(&mobile("13812345678"), &typed, &id, &ip(1))
        .await
        .expect("lower-case, padded answer accepted");
    assert_eq!(h.sender.sent().len(), 1);
}

pub async fn replay_after_success_is_rejected(b: Backend) {
    let h = Harness::new(b, "replay_after_success", no_limits());
    let (id, text) = h.captcha(&ip(1)).await;
    h.passport
        .send_sms_code(&mobile("13812345678"), &text, &id, &ip(1))
        .await
        .expect("first send");
    let replay = h
        .passport
        .send_sms_code(&mobile("13912345678"), &text, &id, &ip(1))
        .await
        .unwrap_err();
    assert!(matches!(replay, VerifyError::CaptchaMissing), "{replay:?}");
    assert_eq!(replay.errno(), "4002");
    assert_eq!(h.sender.sent().len(), 1);
}

pub async fn wrong_then_right_on_one_captcha_is_rejected(b: Backend) {
    let h = Harness::new(b, "wrong_then_right", no_limits());
    let (id, text) = h.captcha(&ip(1)).await;
    let m = mobile("13812345678");
    let wrong = h
        .passport
        .send_sms_code(&m, "zzzz", &id, &ip(1))
        .await
        .unwrap_err();
    assert!(matches!(wrong, VerifyError::CaptchaWrong), "{wrong:?}");
    assert_eq!(wrong.errno(), "4004");
    let right = h
        .passport
        .send_sms_code(&m, &text, &id, &ip(1))
        .await
        .unwrap_err();
    assert!(matches!(right, VerifyError::CaptchaMissing), "{right:?}");
    assert!(h.sender.sent().is_empty());
}

pub async fn never_issued_captcha_is_missing(b: Backend) {
    let h = Harness::new(b, "never_issued", no_limits());
    let e = h
        .passport
        .send_sms_code(&mobile("13812345678"), "ABCD", &new_id(), &ip(1))
        .await
        .unwrap_err();
    assert!(matches!(e, VerifyError::CaptchaMissing), "{e:?}");
}

pub async fn parallel_sends_with_one_captcha_send_one_sms(b: Backend) {
    let h = Arc::new(Harness::new(b, "parallel_sends", no_limits()));
    let (id, text) = h.captcha(&ip(1)).await;
    let results = in_parallel(1_000, |i| {
        let (h, id, text) = (Arc::clone(&h), id.clone(), text.clone());
        async move {
            h.passport
                .send_sms_code(&nth_mobile(i as u32), &text, &id, &ip(1))
                .await
        }
    })
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "exactly one send wins the captcha");
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, VerifyError::CaptchaMissing)),
        "every other send finds the captcha used up"
    );
    assert_eq!(h.sender.sent().len(), 1);
}

pub async fn second_send_within_interval_is_limited(b: Backend) {
    let policy = verify::Policy {
        sms_interval: Duration::from_secs(60),
        ..no_limits()
    };
    let h = Harness::new(b, "interval", policy);
    let m = mobile("13812345678");
    h.send(&m, &ip(1)).await.expect("first send");
    let (id, text) = h.captcha(&ip(1)).await;
    let second = h.passport.send_sms_code(&m, &text, &id, &ip(1)).await;
    assert_limited(second, Limit::SmsInterval, Duration::from_secs(60));
    assert_eq!(h.sender.sent().len(), 1);
    // Another mobile is not held back.
    h.send(&mobile("13912345678"), &ip(1))
        .await
        .expect("other mobile");
    // The refused send did not replace the first code.
    h.passport
        .check_sms_code(&m, &h.last_code(&m))
        .await
        .expect("first code still valid");
}

pub async fn daily_cap(b: Backend) {
    let policy = verify::Policy {
        sms_daily_cap: 3,
        ..no_limits()
    };
    let h = Harness::new(b, "daily_cap", policy);
    let m = mobile("13812345678");
    for _ in 0..3 {
        h.send(&m, &ip(1)).await.expect("under the cap");
    }
    let over = h.send(&m, &ip(1)).await;
    assert_limited(over, Limit::SmsDailyCap, Duration::from_secs(24 * 3600));
    assert_eq!(h.sender.sent().len(), 3);
    // The refused send did not count: the counter still says 3, so a cap
    // of 4 lets exactly one more code through.
    let key = keys::sms_code(&m);
    let ttl = Duration::from_secs(300);
    let four = CodeLimits {
        interval: Duration::ZERO,
        daily_cap: 4,
        daily_window: Duration::from_secs(24 * 3600),
    };
    let store = h.store.as_ref();
    assert_eq!(
        store.issue_code(&key, "000000", ttl, four).await.unwrap(),
        Issued::Stored
    );
    assert!(matches!(
        store.issue_code(&key, "000001", ttl, four).await.unwrap(),
        Issued::DailyCapReached { .. }
    ));
    // Other mobiles have their own cap.
    h.send(&mobile("13912345678"), &ip(1))
        .await
        .expect("other mobile");
}

pub async fn daily_cap_refusal_releases_the_interval(b: Backend) {
    let policy = verify::Policy {
        sms_interval: Duration::from_secs(60),
        sms_daily_cap: 1,
        ..no_limits()
    };
    let h = Harness::new(b, "daily_cap_interval", policy.clone());
    let m = mobile("13812345678");
    // Counted by an instance with the interval off: no interval begun.
    let no_interval = h.passport_with(verify::Policy {
        sms_interval: Duration::ZERO,
        ..policy.clone()
    });
    h.send_via(&no_interval, &m, &ip(1)).await.expect("first");
    assert_limited(
        h.send(&m, &ip(1)).await,
        Limit::SmsDailyCap,
        Duration::from_secs(86_400),
    );
    // The cap refusal left no interval flag of its own behind: with room
    // under a higher cap, the next send goes through.
    let cap_of_2 = h.passport_with(verify::Policy {
        sms_daily_cap: 2,
        ..policy
    });
    h.send_via(&cap_of_2, &m, &ip(1)).await.expect("second");
    // Within the interval, with the cap reached too: the interval answers.
    assert_limited(
        h.send(&m, &ip(1)).await,
        Limit::SmsInterval,
        Duration::from_secs(60),
    );
    assert_eq!(h.sender.sent().len(), 2);
}

pub async fn per_ip_cap(b: Backend) {
    let policy = verify::Policy {
        sms_per_ip_per_hour: 3,
        ..no_limits()
    };
    let h = Harness::new(b, "per_ip_cap", policy);
    for n in 0..3 {
        h.send(&nth_mobile(n), &ip(1)).await.expect("under the cap");
    }
    let (id, text) = h.captcha(&ip(1)).await;
    let over = h
        .passport
        .send_sms_code(&nth_mobile(9), &text, &id, &ip(1))
        .await;
    assert_limited(over, Limit::SmsPerIp, Duration::from_secs(3600));
    // Refused before the captcha was taken: it still works from elsewhere.
    h.passport
        .send_sms_code(&nth_mobile(9), &text, &id, &ip(2))
        .await
        .expect("other address, same captcha");
    assert_eq!(h.sender.sent().len(), 4);
}

pub async fn per_ip_cap_counts_ipv6_by_64(b: Backend) {
    let policy = verify::Policy {
        sms_per_ip_per_hour: 2,
        ..no_limits()
    };
    let h = Harness::new(b, "per_ip_ipv6", policy);
    let v6 = |last: u16, net: u16| {
        ClientIp(IpAddr::V6(Ipv6Addr::new(
            0x2001, 0xdb8, 0, net, 0, 0, 0, last,
        )))
    };
    h.send(&nth_mobile(1), &v6(1, 1)).await.expect("first");
    h.send(&nth_mobile(2), &v6(2, 1))
        .await
        .expect("second, same /64");
    assert_limited(
        h.send(&nth_mobile(3), &v6(3, 1)).await,
        Limit::SmsPerIp,
        Duration::from_secs(3600),
    );
    h.send(&nth_mobile(4), &v6(1, 2))
        .await
        .expect("another /64");
}

pub async fn captcha_images_per_ip_cap(b: Backend) {
    let policy = verify::Policy {
        image_codes_per_ip_per_minute: 2,
        ..no_limits()
    };
    let h = Harness::new(b, "captcha_per_ip", policy);
    h.captcha(&ip(1)).await;
    h.captcha(&ip(1)).await;
    let over = h.passport.issue_captcha(&new_id(), &ip(1)).await.map(drop);
    assert_limited(over, Limit::ImageCodesPerIp, Duration::from_secs(60));
    h.captcha(&ip(2)).await;
}

pub async fn global_cap(b: Backend) {
    let policy = verify::Policy {
        sms_global_per_hour: 2,
        ..no_limits()
    };
    let h = Harness::new(b, "global_cap", policy);
    h.send(&nth_mobile(1), &ip(1)).await.expect("first");
    h.send(&nth_mobile(2), &ip(2)).await.expect("second");
    assert_limited(
        h.send(&nth_mobile(3), &ip(3)).await,
        Limit::SmsGlobal,
        Duration::from_secs(3600),
    );
    assert_eq!(h.sender.sent().len(), 2);
}

pub async fn five_wrong_checks_void_the_code(b: Backend) {
    let h = Harness::new(b, "five_wrong", no_limits());
    let m = mobile("13812345678");
    h.send(&m, &ip(1)).await.expect("send");
    let right = h.last_code(&m);
    let wrong = SmsCode::parse(if right.as_str() == "000000" {
        "111111"
    } else {
        "000000"
    })
    .unwrap();
    for left in (0..5).rev() {
        match h.passport.check_sms_code(&m, &wrong).await {
            Err(e @ VerifyError::SmsCodeWrong { attempts_left }) => {
                assert_eq!(attempts_left, left);
                assert_eq!(e.errno(), "4004");
            }
            other => panic!("expected a wrong code, got {other:?}"),
        }
    }
    let e = h.passport.check_sms_code(&m, &right).await.unwrap_err();
    assert!(matches!(e, VerifyError::SmsCodeMissing), "void: {e:?}");
}

pub async fn a_new_send_replaces_the_code_and_resets_attempts(b: Backend) {
    let h = Harness::new(b, "new_send_replaces", no_limits());
    let m = mobile("13812345678");
    h.send(&m, &ip(1)).await.expect("first send");
    let first = h.last_code(&m);
    let wrong = SmsCode::parse("999999").unwrap();
    for _ in 0..4 {
        let _ = h.passport.check_sms_code(&m, &wrong).await;
    }
    h.send(&m, &ip(1)).await.expect("second send");
    let second = h.last_code(&m);
    if first != second {
        let e = h.passport.check_sms_code(&m, &first).await.unwrap_err();
        assert!(
            matches!(e, VerifyError::SmsCodeWrong { attempts_left: 4 }),
            "{e:?}"
        );
    }
    h.passport
        .check_sms_code(&m, &second)
        .await
        .expect("new code accepted");
}

pub async fn parallel_right_checks_accept_once(b: Backend) {
    let h = Arc::new(Harness::new(b, "parallel_checks", no_limits()));
    let m = mobile("13812345678");
    h.send(&m, &ip(1)).await.expect("send");
    let code = h.last_code(&m);
    let results = in_parallel(1_000, |_| {
        let (h, m, code) = (Arc::clone(&h), m.clone(), code.clone());
        async move { h.passport.check_sms_code(&m, &code).await }
    })
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, VerifyError::SmsCodeMissing))
    );
}

pub async fn sender_failure_gives_everything_back(b: Backend) {
    let policy = verify::Policy {
        sms_interval: Duration::from_secs(60),
        sms_daily_cap: 1,
        sms_global_per_hour: 1,
        ..no_limits()
    };
    let h = Harness::new(b, "sender_failure", policy);
    let m = mobile("13812345678");
    h.sender
        .fail_next(1, SendError::Connect("connection refused".to_owned()));
    let e = h.send(&m, &ip(1)).await.unwrap_err();
    assert!(
        matches!(e, VerifyError::Sender(SendError::Connect(_))),
        "{e:?}"
    );
    assert_eq!(e.errno(), "4301");
    assert_eq!(h.sender.attempts(), 1);
    assert!(h.sender.sent().is_empty());
    // The code that never went out cannot be used.
    let e = h
        .passport
        .check_sms_code(&m, &SmsCode::parse("123456").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(e, VerifyError::SmsCodeMissing), "{e:?}");
    // At once, with a new captcha: no interval, and the daily and global
    // caps of 1 were given back.
    h.send(&m, &ip(1)).await.expect("retry at once");
    assert_eq!(h.sender.sent().len(), 1);
    h.passport
        .check_sms_code(&m, &h.last_code(&m))
        .await
        .expect("retry's code");
}

/// A gateway that may have delivered (timeout, 5xx) keeps every limit: the
/// interval holds and the global count stays, so a late-answering gateway
/// cannot be used to send without limits.
pub async fn sender_maybe_sent_keeps_limits(b: Backend) {
    for (n, error) in [SendError::Timeout, SendError::Status(503)]
        .into_iter()
        .enumerate()
    {
        let policy = verify::Policy {
            sms_interval: Duration::from_secs(60),
            sms_daily_cap: 10,
            sms_global_per_hour: 1,
            ..no_limits()
        };
        let h = Harness::new(b, &format!("sender_maybe_sent_{n}"), policy);
        let m = mobile("13812345678");
        assert!(!error.definitely_not_sent());
        h.sender.fail_next(1, error);
        let e = h.send(&m, &ip(1)).await.unwrap_err();
        assert_eq!(e.errno(), "4301");
        // The global cap of 1 was kept: another mobile is refused.
        let e = h.send(&nth_mobile(3), &ip(1)).await.unwrap_err();
        assert_eq!(e.errno(), "4201");
        assert_eq!(h.sender.sent().len(), 0);
        assert_eq!(h.sender.attempts(), 1);
    }
}

pub async fn store_down_fails_closed(b: Backend) {
    let mut h = Harness::new(b, "store_down", no_limits());
    let m = mobile("13812345678");
    let (id, text) = h.captcha(&ip(1)).await;
    h.take_store_down();
    let e = h
        .passport
        .send_sms_code(&m, &text, &id, &ip(1))
        .await
        .unwrap_err();
    assert!(matches!(e, VerifyError::Store(_)), "{e:?}");
    assert_eq!(e.errno(), "4001");
    assert_eq!(h.sender.attempts(), 0, "nothing sent");
    let e = h
        .passport
        .check_sms_code(&m, &SmsCode::parse("123456").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.errno(), "4001");
    let e = h
        .passport
        .issue_captcha(&new_id(), &ip(1))
        .await
        .unwrap_err();
    assert_eq!(e.errno(), "4001");
    assert_eq!(h.passport.ready().await.unwrap_err().errno(), "4001");
}

pub async fn a_send_is_four_store_calls_at_most(b: Backend) {
    let h = Harness::new(b, "four_calls", verify::Policy::default());
    let (id, text) = h.captcha(&ip(1)).await;
    let before = h.store_calls();
    h.passport
        .send_sms_code(&mobile("13812345678"), &text, &id, &ip(1))
        .await
        .expect("send");
    // Per-IP count, take, global count, issue (interval, daily cap, code).
    assert_eq!(h.store_calls() - before, 4);

    let h = Harness::new(b, "two_calls", no_limits());
    let (id, text) = h.captcha(&ip(1)).await;
    let before = h.store_calls();
    h.passport
        .send_sms_code(&mobile("13812345678"), &text, &id, &ip(1))
        .await
        .expect("send");
    assert_eq!(h.store_calls() - before, 2, "take, issue");
}

pub async fn junk_typed_text_makes_no_store_call(b: Backend) {
    let h = Harness::new(b, "junk_typed", verify::Policy::default());
    let m = mobile("13812345678");
    let id = new_id();
    let huge = "A".repeat(1 << 20);
    for junk in [
        "",
        "   ",
        "\r\n",
        "AB\r\nCD",
        &"A".repeat(33),
        huge.as_str(),
    ] {
        let e = h
            .passport
            .send_sms_code(&m, junk, &id, &ip(1))
            .await
            .unwrap_err();
        assert!(matches!(e, VerifyError::Param(_)), "{junk:.20?}: {e:?}");
        assert_eq!(e.errno(), "4103");
    }
    assert_eq!(h.store_calls(), 0);
}

pub async fn a_test_number_gets_its_fixed_code_and_no_sms(b: Backend) {
    let policy = verify::Policy {
        sms_global_per_hour: 1,
        sms_interval: Duration::from_secs(60),
        ..no_limits()
    };
    let h = Harness::new(b, "test_number", policy.clone());
    let reviewer = mobile("13800000000");
    let mut numbers = verify::TestNumbers::new();
    numbers.insert(reviewer.clone(), SmsCode::parse("246810").unwrap());
    let passport = h.passport_with(policy).with_test_numbers(numbers);
    h.send_via(&passport, &reviewer, &ip(1))
        .await
        .expect("send");
    assert_eq!(h.sender.attempts(), 0, "no gateway call for a test number");
    // The per-mobile limits still hold for it.
    assert_limited(
        h.send_via(&passport, &reviewer, &ip(1)).await,
        Limit::SmsInterval,
        Duration::from_secs(60),
    );
    let wrong = passport
        .check_sms_code(&reviewer, &SmsCode::parse("000000").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(wrong, VerifyError::SmsCodeWrong { .. }),
        "{wrong:?}"
    );
    passport
        .check_sms_code(&reviewer, &SmsCode::parse("246810").unwrap())
        .await
        .expect("the fixed code is accepted");
    // It took nothing of the global cap: a real number still gets its SMS.
    let other = mobile("13812345678");
    h.send_via(&passport, &other, &ip(1)).await.expect("send");
    assert_eq!(h.sender.sent().len(), 1);
    assert_ne!(h.last_code(&other).as_str(), "246810");
}

/// Instantiates each test above once per store.
macro_rules! suite {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Backend::Memory).await;
                }
            )*
        }
        #[cfg(feature = "redis")]
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Backend::Redis).await;
                }
            )*
        }
    };
}

suite!(
    send_then_check_once,
    typed_text_is_trimmed_and_case_insensitive,
    replay_after_success_is_rejected,
    wrong_then_right_on_one_captcha_is_rejected,
    never_issued_captcha_is_missing,
    parallel_sends_with_one_captcha_send_one_sms,
    second_send_within_interval_is_limited,
    daily_cap,
    daily_cap_refusal_releases_the_interval,
    per_ip_cap,
    per_ip_cap_counts_ipv6_by_64,
    captcha_images_per_ip_cap,
    global_cap,
    five_wrong_checks_void_the_code,
    a_new_send_replaces_the_code_and_resets_attempts,
    parallel_right_checks_accept_once,
    sender_failure_gives_everything_back,
    sender_maybe_sent_keeps_limits,
    store_down_fails_closed,
    a_send_is_four_store_calls_at_most,
    junk_typed_text_makes_no_store_call,
    a_test_number_gets_its_fixed_code_and_no_sms,
);

/// Expiry on the memory store, in paused time.
mod memory_expiry {
    use super::*;

    fn policy() -> verify::Policy {
        verify::Policy {
            captcha_ttl: Duration::from_secs(300),
            sms_ttl: Duration::from_secs(300),
            sms_interval: Duration::from_secs(60),
            ..no_limits()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn captcha_expires() {
        let h = Harness::new(Backend::Memory, "captcha_expires", policy());
        let m = mobile("13812345678");
        let (id, text) = h.captcha(&ip(1)).await;
        tokio::time::advance(Duration::from_secs(301)).await;
        let e = h
            .passport
            .send_sms_code(&m, &text, &id, &ip(1))
            .await
            .unwrap_err();
        assert!(matches!(e, VerifyError::CaptchaMissing), "{e:?}");
        let (id, text) = h.captcha(&ip(1)).await;
        tokio::time::advance(Duration::from_secs(299)).await;
        h.passport
            .send_sms_code(&m, &text, &id, &ip(1))
            .await
            .expect("just within the ttl");
    }

    #[tokio::test(start_paused = true)]
    async fn sms_code_expires() {
        let h = Harness::new(Backend::Memory, "sms_code_expires", policy());
        let m = mobile("13812345678");
        h.send(&m, &ip(1)).await.expect("send");
        let code = h.last_code(&m);
        tokio::time::advance(Duration::from_secs(301)).await;
        let e = h.passport.check_sms_code(&m, &code).await.unwrap_err();
        assert!(matches!(e, VerifyError::SmsCodeMissing), "{e:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn interval_ends_and_per_mobile_limits_answer_one_retry_after() {
        let h = Harness::new(Backend::Memory, "interval_ends", policy());
        let m = mobile("13812345678");
        h.send(&m, &ip(1)).await.expect("first");
        tokio::time::advance(Duration::from_secs(45)).await;
        let e = h.send(&m, &ip(1)).await.unwrap_err();
        // The configured interval, not the 15 s left: the answer must not
        // tell when the number last got an SMS.
        assert_eq!(e.retry_after(), Some(Duration::from_secs(60)));
        tokio::time::advance(Duration::from_secs(16)).await;
        h.send(&m, &ip(1)).await.expect("after the interval");
        assert_eq!(h.sender.sent().len(), 2);

        // The daily cap answers the same Retry-After as the interval.
        let capped = verify::Policy {
            sms_daily_cap: 1,
            sms_interval: Duration::from_secs(60),
            ..policy()
        };
        let passport = h.passport_with(capped);
        let other = mobile("13912345678");
        h.send_via(&passport, &other, &ip(2)).await.expect("first");
        tokio::time::advance(Duration::from_secs(61)).await;
        let e = h.send_via(&passport, &other, &ip(2)).await.unwrap_err();
        assert!(
            matches!(
                e,
                VerifyError::RateLimited {
                    limit: verify::Limit::SmsDailyCap,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.retry_after(), Some(Duration::from_secs(60)));
    }
}

/// Expiry on Redis: short real TTLs.
#[cfg(feature = "redis")]
mod redis_expiry {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn captcha_and_code_expire() {
        let policy = verify::Policy {
            captcha_ttl: Duration::from_secs(1),
            sms_ttl: Duration::from_secs(1),
            ..no_limits()
        };
        let h = Harness::new(Backend::Redis, "redis_expiry", policy);
        let m = mobile("13812345678");
        let (old_id, old_text) = h.captcha(&ip(1)).await;
        h.send(&m, &ip(1)).await.expect("send");
        let code = h.last_code(&m);
        // Waiting out a real TTL is the thing under test here.
        tokio::time::sleep(Duration::from_millis(1_300)).await;
        let e = h.passport.check_sms_code(&m, &code).await.unwrap_err();
        assert!(matches!(e, VerifyError::SmsCodeMissing), "{e:?}");
        let e = h
            .passport
            .send_sms_code(&m, &old_text, &old_id, &ip(1))
            .await
            .unwrap_err();
        assert!(matches!(e, VerifyError::CaptchaMissing), "{e:?}");
    }
}

/// Nothing but `LogSender` ever logs a code, an answer or a whole number.
#[tokio::test(flavor = "current_thread")]
async fn logs_hold_no_secrets() {
    let captured = crate::support::Captured::default();
    let _guard = tracing::subscriber::set_default(captured.clone());
    let policy = verify::Policy {
        sms_global_per_hour: 1,
        ..no_limits()
    };
    let h = Harness::new(Backend::Memory, "logs_hold_no_secrets", policy);
    let m = mobile("13812345678");
    let mut secrets = vec![m.as_str().to_owned()];
    let (id, text) = h.captcha(&ip(1)).await;
    secrets.push(text.clone());
    h.sender
        .fail_next(1, SendError::Connect("connection refused".to_owned()));
    assert!(
        h.passport
            .send_sms_code(&m, &text, &id, &ip(1))
            .await
            .is_err()
    );
    let (id, text) = h.captcha(&ip(1)).await;
    secrets.push(text.clone());
    h.passport
        .send_sms_code(&m, &text, &id, &ip(1))
        .await
        .expect("send");
    let code = h.last_code(&m);
    secrets.push(code.as_str().to_owned());
    // The global cap's warning.
    let e = h.send(&nth_mobile(7), &ip(1)).await.unwrap_err();
    assert_eq!(e.errno(), "4201");
    // A give-back that fails after a sender failure is logged, and the
    // sender's error stands.
    h.store.as_ref().take(keys::SMS_GLOBAL).await.unwrap();
    let (id, text) = h.captcha(&ip(1)).await;
    secrets.push(text.clone());
    h.sender.fail_next(1, SendError::Status(400));
    h.fail_store_after(3); // take, global count, store code
    let e = h
        .passport
        .send_sms_code(&m, &text, &id, &ip(1))
        .await
        .unwrap_err();
    assert!(
        matches!(e, VerifyError::Sender(SendError::Status(400))),
        "{e:?}"
    );
    let lines = captured.lines();
    let warnings = captured
        .messages()
        .into_iter()
        .filter(|(level, _)| *level == tracing::Level::WARN)
        .count();
    assert_eq!(
        warnings, 3,
        "the global cap, then two failed give-backs: {lines:#?}"
    );
    for line in &lines {
        for secret in &secrets {
            assert!(!line.contains(secret.as_str()), "{line:?} holds a secret");
        }
    }
}
