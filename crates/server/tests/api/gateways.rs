//! `sms.sender` = each provider gateway, its `endpoint` pointed at the
//! gateways crate's stand-in for that provider (which re-derives every
//! request's signature): the right captcha sends the code through it; a
//! wrong key is the provider's auth refusal, 502/4301, with the code, the
//! interval flag and the daily count given back.

use std::sync::Arc;

use code_store::testing::InstrumentedStore;
use code_store::{CodeCheck, MemoryConfig, MemoryStore, SharedStore, SmsCodeStore};
use passport_server::{Application, Settings};
use sms_gateways::aliyun::AliyunConfig;
use sms_gateways::tencent::TencentConfig;
use sms_gateways::testing::{self, Provider};
use sms_gateways::twilio::TwilioConfig;
use sms_gateways::yuntongxun::YuntongxunConfig;
use sms_gateways::{Secret, SenderKind};

use crate::helpers::{Answers, Request, Response, code_id, test_settings};

const MOBILE: &str = "13800138000";
const KEY: &str = "the-true-provider-key";

struct App {
    port: u16,
    metrics_port: u16,
    store: Arc<InstrumentedStore>,
}

impl App {
    /// The server with `configure` applied, its sender built from the
    /// settings as `Application::build` does.
    async fn spawn(configure: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = test_settings();
        configure(&mut settings);
        let sender = settings.sms.build().expect("the gateway's table is valid");
        let inner: SharedStore = Arc::new(MemoryStore::new(MemoryConfig::default()));
        let store = Arc::new(InstrumentedStore::new(inner));
        let app = Application::build_with(settings, Arc::clone(&store) as SharedStore, sender)
            .await
            .expect("app builds");
        let (port, metrics_port) = (app.port(), app.metrics_port().expect("metrics on"));
        tokio::spawn(app.run_until_stopped());
        Self {
            port,
            metrics_port,
            store,
        }
    }

    /// A captcha for id `n`, answered right, then the SMS request.
    async fn ask(&self, n: u32) -> Response {
        let id = code_id(n);
        let image = Request::new(
            self.port,
            "GET",
            &format!("/passport/image_code?code_id={id}"),
        )
        .send()
        .await;
        assert_eq!(image.status, 200);
        let body = serde_json::json!({
            "mobile": MOBILE, "image_code": self.store.answer(&id), "image_code_id": id,
        });
        Request::new(self.port, "POST", "/passport/sms_code")
            .json(&body)
            .send()
            .await
    }

    async fn stored(&self, code: &str) -> CodeCheck {
        self.store
            .check_code(&format!("SMS_{MOBILE}"), code, 5)
            .await
            .expect("store answers")
    }

    async fn metrics(&self) -> String {
        Request::new(self.metrics_port, "GET", "/metrics")
            .send()
            .await
            .text()
    }
}

/// The right captcha: 200/0, the provider got one message for `to` with
/// the code, and that code is the one stored.
async fn sends_the_code(app: &App, provider: &Provider, to: &str) {
    let r = app.ask(1).await;
    assert_eq!((r.status, r.errno().as_str()), (200, "0"), "{}", r.text());
    let sent = provider.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, to);
    assert_eq!(app.stored(&sent[0].code).await, CodeCheck::Accepted);
}

/// A refusal for a wrong key: 502/4301 and nothing kept. With a daily cap
/// of 1 and the interval on, a second try answers 502 again, not 429: the
/// code, its interval flag and the daily count were given back.
async fn a_wrong_key_is_refused(app: &App, provider: &Provider, gateway: &str) {
    app.ask(1).await.assert_error(502, "4301");
    assert_eq!(app.stored("000000").await, CodeCheck::Missing);
    app.ask(2).await.assert_error(502, "4301");
    assert_eq!(provider.requests().len(), 2, "one request per try");
    assert!(provider.sent().is_empty());
    let metrics = app.metrics().await;
    let line =
        format!("passport_sms_send_failures_total{{gateway=\"{gateway}\",kind=\"auth\"}} 2\n");
    assert!(metrics.contains(&line), "{metrics}");
}

fn refusal_limits(s: &mut Settings) {
    s.limits.sms_daily_cap = 1;
    s.limits.sms_interval = std::time::Duration::from_secs(60);
}

fn aliyun(endpoint: String, secret: &str) -> AliyunConfig {
    serde_json::from_value(serde_json::json!({
        "access_key_id": "LTAItest", "access_key_secret": secret,
        "sign_name": "阿里云短信测试", "template_code": "SMS_154950909", "endpoint": endpoint,
    }))
    .unwrap()
}

fn tencent(endpoint: String, secret: &str) -> TencentConfig {
    serde_json::from_value(serde_json::json!({
        "secret_id": "AKIDtest", "secret_key": secret, "sdk_app_id": "1400006666",
        "sign_name": "腾讯云", "template_id": "1110", "region": "ap-guangzhou",
        "endpoint": endpoint,
    }))
    .unwrap()
}

fn yuntongxun(endpoint: String, token: &str) -> YuntongxunConfig {
    serde_json::from_value(serde_json::json!({
        "account_sid": "8aaf07087f77bf96017f8ab4a1b00a4c", "auth_token": token,
        "app_id": "8aaf07087f77bf96017f8ab4a2b30a53", "template_id": "1", "endpoint": endpoint,
    }))
    .unwrap()
}

fn twilio(endpoint: String, token: &str) -> TwilioConfig {
    TwilioConfig {
        auth_token: Secret::new(token),
        ..serde_json::from_value(serde_json::json!({
            "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "from": "+15005550006",
            "endpoint": endpoint,
        }))
        .unwrap()
    }
}

#[tokio::test]
async fn aliyun_sends_the_code_through_the_provider() {
    let provider = Provider::start(testing::aliyun(&aliyun(String::new(), KEY))).await;
    let app = App::spawn(|s| {
        s.sms.sender = SenderKind::Aliyun;
        s.sms.aliyun = Some(aliyun(provider.endpoint(), KEY));
    })
    .await;
    sends_the_code(&app, &provider, MOBILE).await;
}

#[tokio::test]
async fn aliyun_with_a_wrong_key_is_502_and_gives_everything_back() {
    let provider = Provider::start(testing::aliyun(&aliyun(String::new(), KEY))).await;
    let app = App::spawn(|s| {
        refusal_limits(s);
        s.sms.sender = SenderKind::Aliyun;
        s.sms.aliyun = Some(aliyun(provider.endpoint(), "wrong"));
    })
    .await;
    a_wrong_key_is_refused(&app, &provider, "aliyun").await;
}

#[tokio::test]
async fn tencent_sends_the_code_through_the_provider() {
    let provider = Provider::start(testing::tencent(&tencent(String::new(), KEY))).await;
    let app = App::spawn(|s| {
        s.sms.sender = SenderKind::Tencent;
        s.sms.tencent = Some(tencent(provider.endpoint(), KEY));
    })
    .await;
    sends_the_code(&app, &provider, &format!("+86{MOBILE}")).await;
}

#[tokio::test]
async fn tencent_with_a_wrong_key_is_502_and_gives_everything_back() {
    let provider = Provider::start(testing::tencent(&tencent(String::new(), KEY))).await;
    let app = App::spawn(|s| {
        refusal_limits(s);
        s.sms.sender = SenderKind::Tencent;
        s.sms.tencent = Some(tencent(provider.endpoint(), "wrong"));
    })
    .await;
    a_wrong_key_is_refused(&app, &provider, "tencent").await;
}

#[tokio::test]
async fn yuntongxun_sends_the_code_through_the_provider() {
    let provider = Provider::start(testing::yuntongxun(&yuntongxun(String::new(), KEY))).await;
    let app = App::spawn(|s| {
        s.sms.sender = SenderKind::Yuntongxun;
        s.sms.yuntongxun = Some(yuntongxun(provider.endpoint(), KEY));
    })
    .await;
    sends_the_code(&app, &provider, MOBILE).await;
}

#[tokio::test]
async fn yuntongxun_with_a_wrong_token_is_502_and_gives_everything_back() {
    let provider = Provider::start(testing::yuntongxun(&yuntongxun(String::new(), KEY))).await;
    let app = App::spawn(|s| {
        refusal_limits(s);
        s.sms.sender = SenderKind::Yuntongxun;
        s.sms.yuntongxun = Some(yuntongxun(provider.endpoint(), "wrong"));
    })
    .await;
    a_wrong_key_is_refused(&app, &provider, "yuntongxun").await;
}

#[tokio::test]
async fn twilio_sends_the_code_through_the_provider() {
    let provider = Provider::start(testing::twilio(&twilio(String::new(), KEY))).await;
    let app = App::spawn(|s| {
        s.sms.sender = SenderKind::Twilio;
        s.sms.twilio = Some(twilio(provider.endpoint(), KEY));
    })
    .await;
    sends_the_code(&app, &provider, &format!("+86{MOBILE}")).await;
}

#[tokio::test]
async fn twilio_with_a_wrong_token_is_502_and_gives_everything_back() {
    let provider = Provider::start(testing::twilio(&twilio(String::new(), KEY))).await;
    let app = App::spawn(|s| {
        refusal_limits(s);
        s.sms.sender = SenderKind::Twilio;
        s.sms.twilio = Some(twilio(provider.endpoint(), "wrong"));
    })
    .await;
    a_wrong_key_is_refused(&app, &provider, "twilio").await;
}
