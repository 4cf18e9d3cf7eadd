//! Errors: the seed's errno, Retry-After, generic messages in two languages.

use std::time::Duration;

use verify::{Lang, Limit, ParseError, Policy, PolicyError, SendError, StoreError, VerifyError};

fn every_error() -> Vec<VerifyError> {
    vec![
        VerifyError::from(ParseError::Missing("mobile")),
        VerifyError::from(ParseError::InvalidMobile),
        VerifyError::CaptchaMissing,
        VerifyError::CaptchaWrong,
        VerifyError::SmsCodeMissing,
        VerifyError::SmsCodeWrong { attempts_left: 3 },
        VerifyError::RateLimited {
            limit: Limit::SmsDailyCap,
            retry_after: Duration::from_secs(42),
        },
        VerifyError::Store(StoreError::Unavailable(
            "redis://:hunter2@10.0.0.5".to_owned(),
        )),
        VerifyError::Sender(SendError::Connect("gateway.internal:443".to_owned())),
    ]
}

#[test]
fn errno_per_case() {
    let errnos: Vec<_> = every_error().iter().map(VerifyError::errno).collect();
    assert_eq!(
        errnos,
        [
            "4103", "4004", "4002", "4004", "4002", "4004", "4201", "4001", "4301"
        ]
    );
}

#[test]
fn retry_after_only_for_limits() {
    for e in every_error() {
        let want = matches!(e, VerifyError::RateLimited { .. }).then(|| Duration::from_secs(42));
        assert_eq!(e.retry_after(), want, "{e:?}");
    }
}

#[test]
fn messages_are_the_seeds_and_generic() {
    assert_eq!(
        VerifyError::CaptchaMissing.message(Lang::default()),
        "图片验证码已过期"
    );
    assert_eq!(
        VerifyError::CaptchaWrong.message(Lang::Zh),
        "图片验证码错误"
    );
    assert_eq!(
        VerifyError::InvalidMobile.message(Lang::Zh),
        "手机号格式不正确"
    );
    assert_eq!(verify::Answer::SmsSent.text(Lang::Zh), "发送成功");
    for e in every_error() {
        for lang in [Lang::Zh, Lang::En] {
            let msg = e.message(lang);
            assert!(!msg.is_empty());
            for secret in [
                "hunter2", "redis", "gateway", "daily", "Daily", "cap", "4201",
            ] {
                assert!(!msg.contains(secret), "{msg} leaks {secret}");
            }
        }
        assert_ne!(e.message(Lang::Zh), e.message(Lang::En));
    }
}

#[test]
fn policy_validation_names_the_field() {
    assert_eq!(Policy::default().validate(), Ok(()));
    let off = Policy {
        sms_interval: Duration::ZERO,
        sms_daily_cap: 0,
        sms_per_ip_per_hour: 0,
        sms_global_per_hour: 0,
        image_codes_per_ip_per_minute: 0,
        ..Policy::default()
    };
    assert_eq!(off.validate(), Ok(()), "0 disables a rate limit");
    let field = |p: Policy| p.validate().map_err(|e: PolicyError| e.field);
    let d = Policy::default;
    assert_eq!(
        field(Policy {
            captcha_ttl: Duration::ZERO,
            ..d()
        }),
        Err("captcha_ttl_secs")
    );
    assert_eq!(
        field(Policy {
            sms_ttl: Duration::ZERO,
            ..d()
        }),
        Err("sms_ttl_secs")
    );
    assert_eq!(
        field(Policy {
            max_attempts: 0,
            ..d()
        }),
        Err("max_attempts")
    );
    assert_eq!(
        field(Policy {
            sms_interval: Duration::from_micros(10),
            ..d()
        }),
        Err("sms_interval_secs")
    );
    let e = Policy {
        sms_ttl: Duration::ZERO,
        ..d()
    }
    .validate()
    .unwrap_err();
    assert!(e.to_string().contains("sms_ttl"));
}
