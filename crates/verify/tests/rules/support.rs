//! The test harness: a Passport over an instrumented store (counts its
//! calls, can be taken down) and a recording sender.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use captcha_render::{Params, Renderer};
use code_store::testing::InstrumentedStore;
use code_store::{MemoryConfig, MemoryStore, SharedStore};
use passport_testkit::unique_prefix;
use verify::{ClientIp, ImageCodeId, Mobile, MobileRule, Passport, Policy, RecordingSender};

/// Which store a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    #[cfg(feature = "redis")]
    Redis,
}

/// A Passport under test and its parts.
#[derive(Debug)]
pub struct Harness {
    pub passport: Passport,
    pub sender: Arc<RecordingSender>,
    pub store: Arc<InstrumentedStore>,
    backend: Backend,
    #[cfg(feature = "redis")]
    redis: Option<passport_testkit::RedisServer>,
}

/// Every rate limit off: tests turn on the one they look at.
pub fn no_limits() -> Policy {
    Policy {
        sms_interval: Duration::ZERO,
        sms_daily_cap: 0,
        sms_per_ip_per_hour: 0,
        sms_global_per_hour: 0,
        image_codes_per_ip_per_minute: 0,
        ..Policy::default()
    }
}

impl Harness {
    pub fn new(backend: Backend, test: &str, policy: Policy) -> Self {
        policy.validate().expect("test policy is valid");
        let prefix = unique_prefix(test);
        #[cfg(feature = "redis")]
        let mut redis = None;
        let inner: SharedStore = match backend {
            Backend::Memory => Arc::new(MemoryStore::new(MemoryConfig {
                key_prefix: prefix,
                ..MemoryConfig::default()
            })),
            #[cfg(feature = "redis")]
            Backend::Redis => {
                // A private server per test, so a test may stop it.
                let server = passport_testkit::RedisServer::start();
                let store = code_store::RedisStore::new(code_store::RedisConfig {
                    url: server.url(),
                    key_prefix: prefix,
                    ..code_store::RedisConfig::default()
                })
                .expect("redis store");
                redis = Some(server);
                Arc::new(store)
            }
        };
        let store = Arc::new(InstrumentedStore::new(inner));
        let sender = Arc::new(RecordingSender::new());
        let renderer = Renderer::new(Params::default()).expect("default captcha params");
        let passport = Passport::new(store.clone(), sender.clone(), renderer, policy);
        Self {
            passport,
            sender,
            store,
            backend,
            #[cfg(feature = "redis")]
            redis,
        }
    }

    /// Another Passport over the same store and sender, with `policy`: what
    /// a second instance of the service, configured differently, would be.
    pub fn passport_with(&self, policy: Policy) -> Passport {
        policy.validate().expect("test policy is valid");
        let renderer = Renderer::new(Params::default()).expect("default captcha params");
        Passport::new(self.store.clone(), self.sender.clone(), renderer, policy)
    }

    /// Issues a captcha, solves it and sends a code through `passport`.
    pub async fn send_via(
        &self,
        passport: &Passport,
        mobile: &Mobile,
        ip: &ClientIp,
    ) -> Result<(), verify::VerifyError> {
        let (id, text) = self.captcha(ip).await;
        passport.send_sms_code(mobile, &text, &id, ip).await
    }

    /// Store calls made so far.
    pub fn store_calls(&self) -> usize {
        self.store.calls()
    }

    /// Makes every later store call fail: a stopped redis-server for Redis,
    /// a store that refuses every call for memory.
    pub fn take_store_down(&mut self) {
        match self.backend {
            Backend::Memory => self.store.set_down(true),
            #[cfg(feature = "redis")]
            Backend::Redis => self.redis.as_mut().expect("own redis").stop(),
        }
    }

    /// Lets the next `n` store calls through and fails every later one.
    pub fn fail_store_after(&self, n: usize) {
        self.store.fail_after(n);
    }

    /// Issues a captcha for a fresh id and returns the id and its answer.
    pub async fn captcha(&self, ip: &ClientIp) -> (ImageCodeId, String) {
        let id = new_id();
        let captcha = self
            .passport
            .issue_captcha(&id, ip)
            .await
            .expect("issue captcha");
        (id, captcha.text)
    }

    /// Issues a captcha, solves it and sends a code; returns the result.
    pub async fn send(&self, mobile: &Mobile, ip: &ClientIp) -> Result<(), verify::VerifyError> {
        let (id, text) = self.captcha(ip).await;
        self.passport.send_sms_code(mobile, &text, &id, ip).await
    }

    /// The code last sent to `mobile`.
    pub fn last_code(&self, mobile: &Mobile) -> verify::SmsCode {
        self.sender
            .sent()
            .into_iter()
            .rev()
            .find(|m| &m.mobile == mobile)
            .expect("a code was sent to this mobile")
            .code
    }
}

pub fn new_id() -> ImageCodeId {
    let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    ImageCodeId::parse(&uuid.to_string()).expect("a uuid parses")
}

pub fn mobile(raw: &str) -> Mobile {
    MobileRule::default().parse(raw).expect("a valid mobile")
}

/// `13800000000 + n`: distinct valid mobiles.
pub fn nth_mobile(n: u32) -> Mobile {
    mobile(&format!("1380{n:07}"))
}

pub fn ip(last: u8) -> ClientIp {
    ClientIp(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
}

pub use passport_testkit::in_parallel;

/// Collects every event: just enough of a tracing subscriber to see what
/// the crate logs.
#[derive(Debug, Default, Clone)]
pub struct Captured(Arc<std::sync::Mutex<Vec<(tracing::Level, String, String)>>>);

impl Captured {
    /// (level, message) of each event.
    pub fn messages(&self) -> Vec<(tracing::Level, String)> {
        let events = self.0.lock().unwrap();
        events.iter().map(|(l, m, _)| (*l, m.clone())).collect()
    }

    /// Each event's message and fields, as one line.
    pub fn lines(&self) -> Vec<String> {
        let events = self.0.lock().unwrap();
        events.iter().map(|(_, m, f)| format!("{m} {f}")).collect()
    }
}

impl tracing::Subscriber for Captured {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        #[derive(Default)]
        struct Fields {
            message: String,
            rest: String,
        }
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.message = format!("{value:?}");
                } else {
                    self.rest.push_str(&format!("{}={value:?} ", field.name()));
                }
            }
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.0
            .lock()
            .unwrap()
            .push((*event.metadata().level(), fields.message, fields.rest));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
