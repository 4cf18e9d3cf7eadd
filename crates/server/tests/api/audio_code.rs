//! `GET /passport/audio_code`: the spoken alternative, checked by the same
//! `sms_code` step; bad input answers as `image_code` does.

use crate::helpers::{Answers, Backend, TestApp, code_id};

/// Samples, rate and length of a WAV answer, read by `hound`.
fn read_wav(bytes: &[u8]) -> (u32, u16, u16, f32) {
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("a WAV");
    let spec = reader.spec();
    let secs = reader.duration() as f32 / spec.sample_rate as f32;
    (spec.sample_rate, spec.channels, spec.bits_per_sample, secs)
}

async fn audio_then_sms_uses_the_spoken_answer(backend: Backend) {
    let app = TestApp::spawn_with(backend, |_| {}).await;
    let id = code_id(1);
    // The image first, then the audio for the same id: the audio replaces it.
    assert_eq!(app.image_code(&id).await.status, 200);
    let image_answer = app.store.answer(&id);
    for (n, lang) in ["zh", "en"].into_iter().enumerate() {
        let id = code_id(10 + n as u32);
        let r = app
            .get(&format!("/passport/audio_code?code_id={id}&lang={lang}"))
            .await;
        assert_eq!(r.status, 200, "{lang}");
        assert_eq!(r.header("content-type"), Some("audio/wav"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert!(r.body.len() <= 160 * 1024, "{} bytes", r.body.len());
        let (rate, channels, bits, secs) = read_wav(&r.body);
        assert_eq!((rate, channels, bits), (8_000, 1, 16));
        assert!((4.0..=10.0).contains(&secs), "{secs} s");
    }
    let r = app
        .get(&format!("/passport/audio_code?code_id={id}&lang=en"))
        .await;
    assert_eq!(r.status, 200);
    let spoken = app.store.answer(&id);
    assert_eq!(spoken.len(), 6);
    assert!(spoken.bytes().all(|b| b.is_ascii_digit()), "{spoken}");
    assert_ne!(spoken, image_answer);
    // The image's answer is void; the spoken one sends.
    app.sms_code("13800138000", &image_answer, &id)
        .await
        .assert_error(400, "4004");
    let r = app.get(&format!("/passport/audio_code?code_id={id}")).await;
    assert_eq!(r.status, 200);
    let spoken = app.store.answer(&id);
    assert_eq!(app.sms_code("13800138000", &spoken, &id).await.errno(), "0");
}

#[tokio::test]
async fn audio_then_sms_on_memory() {
    audio_then_sms_uses_the_spoken_answer(Backend::Memory).await;
}

#[tokio::test]
async fn audio_then_sms_on_redis() {
    let redis = passport_testkit::TestRedis::new();
    audio_then_sms_uses_the_spoken_answer(Backend::redis(redis.url(), "audio")).await;
}

#[tokio::test]
async fn bad_input_is_4103_with_no_store_call() {
    let app = TestApp::spawn().await;
    let id = code_id(1);
    for target in [
        "/passport/audio_code".to_owned(),
        "/passport/audio_code?code_id=abc".to_owned(),
        format!("/passport/audio_code?code_id={id}x"),
        format!("/passport/audio_code?code_id={id}&lang=fr"),
        format!("/passport/audio_code?code_id={id}&lang="),
        format!("/passport/audio_code?code_id={id}&lang=ZH%00"),
    ] {
        app.get(&target).await.assert_error(400, "4103");
    }
    assert_eq!(app.store.calls(), 0);
}

#[tokio::test]
async fn audio_shares_the_image_per_ip_bucket() {
    let app = TestApp::spawn_with(Backend::Memory, |s| {
        s.limits.image_codes_per_ip_per_minute = 2;
    })
    .await;
    assert_eq!(app.image_code(&code_id(1)).await.status, 200);
    let r = app
        .get(&format!("/passport/audio_code?code_id={}", code_id(2)))
        .await;
    assert_eq!(r.status, 200);
    app.get(&format!("/passport/audio_code?code_id={}", code_id(3)))
        .await
        .assert_error(429, "4201");
}
