//! [`Passport`]: the operations.

use std::sync::Arc;
use std::time::Duration;

use captcha_audio::{Lang as AudioLang, Speaker};
use captcha_render::{Captcha, Renderer};
use code_store::{CodeCheck, CodeLimits, EntryKind, Issued, SharedStore, StoreError};
use rand::RngExt;
use subtle::ConstantTimeEq;

use crate::error::{Limit, VerifyError};
use crate::keys;
use crate::policy::Policy;
use crate::sender::{SmsMessage, SmsSender};
use crate::test_numbers::TestNumbers;
use crate::types::{ClientIp, ImageCodeId, Mobile, ParseError, SmsCode};

/// Longest typed captcha text accepted, after trimming (ASCII, so bytes).
const MAX_TYPED_CHARS: usize = 32;
/// Longest raw typed text even trimmed: bounds the work spent on junk.
const MAX_TYPED_BYTES: usize = 256;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(60 * 60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The rules over a store, a renderer and an SMS sender. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Passport {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    store: SharedStore,
    sender: Arc<dyn SmsSender>,
    renderer: Renderer,
    speaker: Speaker,
    policy: Policy,
    test_numbers: TestNumbers,
}

impl Passport {
    /// Builds the rules over their parts.
    ///
    /// `policy` is taken as it is; check it first with [`Policy::validate`]
    /// when it comes from configuration.
    pub fn new(
        store: SharedStore,
        sender: Arc<dyn SmsSender>,
        renderer: Renderer,
        policy: Policy,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                sender,
                renderer,
                speaker: Speaker::default(),
                policy,
                test_numbers: TestNumbers::default(),
            }),
        }
    }

    /// The same rules with `speaker` for audio challenges.
    pub fn with_speaker(self, speaker: Speaker) -> Self {
        let inner = Arc::unwrap_or_clone(self.inner);
        Self {
            inner: Arc::new(Inner { speaker, ..inner }),
        }
    }

    /// The same rules with `test_numbers`: each gets its fixed code and no
    /// SMS (see [`TestNumbers`]).
    pub fn with_test_numbers(self, test_numbers: TestNumbers) -> Self {
        let inner = Arc::unwrap_or_clone(self.inner);
        Self {
            inner: Arc::new(Inner {
                test_numbers,
                ..inner
            }),
        }
    }

    /// The audio alternative to [`issue_captcha`](Self::issue_captcha): a
    /// new 6-digit answer for `id` (replacing any image answer, so the audio
    /// and the image are never two views of one secret), spoken in `lang`
    /// as a WAV. Same per-IP bucket and the same store key as the image;
    /// checked by the same `send_sms_code`.
    pub async fn issue_audio_captcha(
        &self,
        id: &ImageCodeId,
        ip: &ClientIp,
        lang: AudioLang,
    ) -> Result<Vec<u8>, VerifyError> {
        let inner = &*self.inner;
        self.count(
            keys::image_codes_per_ip(ip),
            inner.policy.image_codes_per_ip_per_minute,
            MINUTE,
            Limit::ImageCodesPerIp,
        )
        .await?;
        // Well under a millisecond: made on the calling task, as images are.
        let challenge = inner.speaker.generate(lang, &mut rand::rng());
        inner
            .store
            .put(
                EntryKind::CaptchaAnswer,
                &keys::image_code(id),
                &challenge.digits,
                inner.policy.captcha_ttl,
            )
            .await?;
        Ok(challenge.wav)
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Per-IP limit, render, store the answer under `ImageCode_<id>`.
    ///
    /// Asking again with the same id replaces the earlier answer.
    pub async fn issue_captcha(
        &self,
        id: &ImageCodeId,
        ip: &ClientIp,
    ) -> Result<Captcha, VerifyError> {
        let inner = &*self.inner;
        self.count(
            keys::image_codes_per_ip(ip),
            inner.policy.image_codes_per_ip_per_minute,
            MINUTE,
            Limit::ImageCodesPerIp,
        )
        .await?;
        // Drawing a captcha takes about 65 µs at the defaults; it stays on the
        // calling task, since a hop to the blocking pool costs more than that. The
        // thread-local CSPRNG handle is dropped before the next await.
        let captcha = inner.renderer.generate(&mut rand::rng())?;
        inner
            .store
            .put(
                EntryKind::CaptchaAnswer,
                &keys::image_code(id),
                &captcha.text,
                inner.policy.captcha_ttl,
            )
            .await?;
        Ok(captcha)
    }

    /// Per-IP limit, take the captcha, compare, global hourly cap, then the
    /// per-mobile interval and daily cap, make, store and send a 6-digit
    /// code.
    ///
    /// Any attempt uses the captcha up, right or wrong. When the sender
    /// definitely did not send, everything this call took is given back (the
    /// code, the interval, the daily and global counts), so the user can
    /// retry at once with a new captcha; after a timeout or an ambiguous
    /// answer everything stays, since the SMS may have gone out. A store
    /// error fails closed: nothing is sent.
    pub async fn send_sms_code(
        &self,
        mobile: &Mobile,
        typed: &str,
        id: &ImageCodeId,
        ip: &ClientIp,
    ) -> Result<(), VerifyError> {
        let typed = check_typed(typed)?;
        // Store round trips on the success path, every limit on: per-IP,
        // take, global, issue (four). The per-IP count comes first so a
        // client over its limit does not use a captcha up.
        self.count(
            keys::sms_per_ip(ip),
            self.inner.policy.sms_per_ip_per_hour,
            HOUR,
            Limit::SmsPerIp,
        )
        .await?;
        self.take_and_compare(id, typed).await?;
        // A test number sends nothing, so it takes nothing of the global cap.
        let counted = if self.inner.test_numbers.get(mobile).is_some() {
            GiveBack::NOTHING
        } else {
            self.count_global(mobile).await?
        };
        let message = self.issue_code(mobile, counted).await?;
        self.send(message, counted).await
    }

    /// Takes the captcha answer (any attempt uses it up) and compares.
    async fn take_and_compare(&self, id: &ImageCodeId, typed: &str) -> Result<(), VerifyError> {
        let stored = self.inner.store.take(&keys::image_code(id)).await?;
        let Some(stored) = stored else {
            return Err(VerifyError::CaptchaMissing);
        };
        if !same_text(typed, &stored) {
            return Err(VerifyError::CaptchaWrong);
        }
        Ok(())
    }

    /// Counts one send against the global hourly cap; says what a later
    /// failure must give back.
    async fn count_global(&self, mobile: &Mobile) -> Result<GiveBack, VerifyError> {
        let cap = self.inner.policy.sms_global_per_hour;
        if cap == 0 {
            return Ok(GiveBack::NOTHING);
        }
        let count = self
            .inner
            .store
            .incr(EntryKind::GlobalCounter, keys::SMS_GLOBAL, HOUR)
            .await?;
        if count.value > u64::from(cap) {
            tracing::warn!("global SMS cap reached; sends refused until the hour ends");
            self.give_back(mobile, GiveBack::GLOBAL).await;
            return Err(limited(Limit::SmsGlobal, count.ttl));
        }
        Ok(GiveBack::GLOBAL)
    }

    /// Makes a code and stores it within the per-mobile limits, in one step
    /// of the store; a refusal gives back what `counted` took.
    async fn issue_code(
        &self,
        mobile: &Mobile,
        counted: GiveBack,
    ) -> Result<SmsMessage, VerifyError> {
        let policy = &self.inner.policy;
        let (mut code, message_id) = new_code_and_id();
        if let Some(fixed) = self.inner.test_numbers.get(mobile) {
            code = fixed.clone();
        }
        let limits = CodeLimits {
            interval: policy.sms_interval,
            daily_cap: policy.sms_daily_cap,
            daily_window: DAY,
        };
        let issued = self
            .inner
            .store
            .issue_code(
                &keys::sms_code(mobile),
                code.as_str(),
                policy.sms_ttl,
                limits,
            )
            .await;
        let refused = match issued {
            Ok(Issued::Stored) => {
                return Ok(SmsMessage {
                    mobile: mobile.clone(),
                    code,
                    ttl: policy.sms_ttl,
                    id: message_id,
                });
            }
            // One answer for every per-mobile limit, whatever the time left:
            // a remaining interval or daily window would tell whoever holds
            // one solved captcha when that number last got an SMS.
            Ok(Issued::IntervalHeld { .. }) => {
                limited(Limit::SmsInterval, policy.per_mobile_retry_after())
            }
            Ok(Issued::DailyCapReached { .. }) => {
                limited(Limit::SmsDailyCap, policy.per_mobile_retry_after())
            }
            // Not revoked: whether the script ran is unknown, and revoking a
            // code this call never issued would lift an earlier send's
            // interval. An unsent code is harmless and expires.
            Err(e) => e.into(),
        };
        self.give_back(mobile, counted).await;
        Err(refused)
    }

    /// Hands the code to the sender. Only a send that surely did not happen
    /// gives the limits back: after a timeout the SMS may have arrived, and
    /// giving back would let a slow gateway deliver without any limit.
    async fn send(&self, message: SmsMessage, counted: GiveBack) -> Result<(), VerifyError> {
        if self.inner.test_numbers.get(&message.mobile).is_some() {
            tracing::info!(mobile = %message.mobile.masked(), "test number: fixed code stored, no SMS sent");
            return Ok(());
        }
        let Err(e) = self.inner.sender.send(&message).await else {
            return Ok(());
        };
        if e.definitely_not_sent() {
            let what = GiveBack {
                code: true,
                ..counted
            };
            self.give_back(&message.mobile, what).await;
        }
        Err(e.into())
    }

    /// Gives back what a failed send took, concurrently, best effort: a
    /// failure here is logged and the original error stands.
    async fn give_back(&self, mobile: &Mobile, what: GiveBack) {
        let store = &self.inner.store;
        let code = async {
            if what.code {
                store.revoke_code(&keys::sms_code(mobile)).await?;
            }
            Ok(())
        };
        let global = async {
            if what.global {
                store.decr(keys::SMS_GLOBAL).await?;
            }
            Ok(())
        };
        let (code, global): (Result<(), StoreError>, Result<(), StoreError>) =
            tokio::join!(code, global);
        for error in [code, global].into_iter().filter_map(Result::err) {
            tracing::warn!(mobile = %mobile.masked(), %error, "could not give back an SMS reservation");
        }
    }

    /// Checks a code once; void after `max_attempts` wrong checks.
    ///
    /// Atomic in the store: of many concurrent checks with the right code,
    /// exactly one is accepted.
    pub async fn check_sms_code(&self, mobile: &Mobile, code: &SmsCode) -> Result<(), VerifyError> {
        let inner = &*self.inner;
        let outcome = inner
            .store
            .check_code(
                &keys::sms_code(mobile),
                code.as_str(),
                inner.policy.max_attempts,
            )
            .await?;
        match outcome {
            CodeCheck::Accepted => Ok(()),
            CodeCheck::Rejected { attempts_left } => {
                Err(VerifyError::SmsCodeWrong { attempts_left })
            }
            CodeCheck::Missing => Err(VerifyError::SmsCodeMissing),
        }
    }

    /// `Ok` when the store answers.
    pub async fn ready(&self) -> Result<(), VerifyError> {
        Ok(self.inner.store.ping().await?)
    }

    /// Counts one event against a fixed-window limit; `cap` 0 disables it.
    /// Refused events still count: a client hammering a limit does not
    /// shorten its own wait.
    async fn count(
        &self,
        key: String,
        cap: u32,
        window: Duration,
        limit: Limit,
    ) -> Result<(), VerifyError> {
        if cap == 0 {
            return Ok(());
        }
        let count = self
            .inner
            .store
            .incr(EntryKind::IpCounter, &key, window)
            .await?;
        if count.value > u64::from(cap) {
            return Err(limited(limit, count.ttl));
        }
        Ok(())
    }
}

/// What a failed send gives back to the store.
#[derive(Debug, Clone, Copy)]
struct GiveBack {
    /// The issued code, with its interval and daily count (`revoke_code`).
    code: bool,
    /// One count of the global hourly cap.
    global: bool,
}

impl GiveBack {
    const NOTHING: Self = Self {
        code: false,
        global: false,
    };
    const GLOBAL: Self = Self {
        code: false,
        global: true,
    };
}

/// Checks the typed captcha text before any store call; returns it trimmed.
///
/// Answers are drawn from printable ASCII (the renderer refuses any other
/// alphabet), so anything else cannot be right: it is refused as malformed
/// without using the captcha up.
pub fn check_typed(typed: &str) -> Result<&str, ParseError> {
    if typed.len() > MAX_TYPED_BYTES {
        return Err(ParseError::Malformed("image_code"));
    }
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(ParseError::Missing("image_code"));
    }
    if typed.len() > MAX_TYPED_CHARS || !typed.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ParseError::Malformed("image_code"));
    }
    Ok(typed)
}

/// Trimmed, ASCII case-insensitive, and constant time in the contents (the
/// length of an answer is no secret: the image shows it).
fn same_text(typed: &str, stored: &str) -> bool {
    let typed = typed.trim().to_ascii_lowercase();
    let stored = stored.trim().to_ascii_lowercase();
    typed.as_bytes().ct_eq(stored.as_bytes()).into()
}

/// A uniform 6-digit code (leading zeros kept) and a UUID v4 idempotency key,
/// both from the thread-local CSPRNG (ChaCha, seeded from the OS).
fn new_code_and_id() -> (SmsCode, String) {
    let mut rng = rand::rng();
    // Uniform over the range (rejection sampling inside), not `% 1_000_000`.
    let n: u32 = rng.random_range(0..1_000_000);
    let id = uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .hyphenated()
        .to_string();
    (SmsCode::from_digits(format!("{n:06}")), id)
}

/// A rate-limit error waiting `ttl` (until the window or interval ends), in
/// whole seconds (rounded up, at least 1), as a `Retry-After` header
/// carries it.
fn limited(limit: Limit, ttl: Duration) -> VerifyError {
    let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
    VerifyError::RateLimited {
        limit,
        retry_after: Duration::from_secs(secs.max(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_uniform_per_digit_and_position() {
        const N: usize = 100_000;
        let mut counts = [[0usize; 10]; 6];
        let mut ids = std::collections::HashSet::new();
        for _ in 0..N {
            let (code, id) = new_code_and_id();
            let digits = code.as_str().as_bytes();
            assert_eq!(digits.len(), 6);
            for (position, digit) in digits.iter().enumerate() {
                counts[position][usize::from(digit - b'0')] += 1;
            }
            ids.insert(id);
        }
        // Expected 10,000 per cell, standard deviation about 95: a 5% band
        // is over 5 sigma wide, so an honest generator passes.
        for (position, row) in counts.iter().enumerate() {
            for (digit, &count) in row.iter().enumerate() {
                assert!(
                    (9_500..=10_500).contains(&count),
                    "digit {digit} at position {position}: {count} of {N}"
                );
            }
        }
        // About 10% start with 0: leading zeros are kept, not re-rolled.
        assert!((9_500..=10_500).contains(&counts[0][0]));
        assert_eq!(ids.len(), N, "idempotency keys are unique");
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let secs = |ttl| {
            limited(Limit::SmsInterval, ttl)
                .retry_after()
                .unwrap()
                .as_secs()
        };
        assert_eq!(secs(Duration::from_millis(100)), 1);
        assert_eq!(secs(Duration::ZERO), 1);
        assert_eq!(secs(Duration::from_millis(59_001)), 60);
        assert_eq!(secs(Duration::from_secs(60)), 60);
    }

    #[test]
    fn typed_text_is_checked_before_the_store() {
        assert_eq!(check_typed("  AbC1 "), Ok("AbC1"));
        assert_eq!(check_typed(" \t"), Err(ParseError::Missing("image_code")));
        assert_eq!(
            check_typed(&"x".repeat(33)),
            Err(ParseError::Malformed("image_code"))
        );
        assert_eq!(
            check_typed("AB\0CD"),
            Err(ParseError::Malformed("image_code"))
        );
        assert!(same_text(" abcd ", "ABCD"));
        assert!(!same_text("abce", "ABCD"));
        assert!(!same_text("abc", "ABCD"));
    }
}
