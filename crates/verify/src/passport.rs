//! [`Passport`]: the operations.

use std::sync::Arc;

use captcha_render::{Captcha, Renderer};
use code_store::SharedStore;

use crate::error::VerifyError;
use crate::policy::Policy;
use crate::sender::SmsSender;
use crate::types::{ClientIp, ImageCodeId, Mobile, SmsCode};

/// The rules over a store, a renderer and an SMS sender. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Passport {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: SharedStore,
    sender: Arc<dyn SmsSender>,
    renderer: Renderer,
    policy: Policy,
}

impl Passport {
    /// Builds the rules over their parts.
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
                policy,
            }),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Per-IP limit, render, store the answer under `ImageCode_<id>`.
    pub async fn issue_captcha(
        &self,
        _id: &ImageCodeId,
        _ip: &ClientIp,
    ) -> Result<Captcha, VerifyError> {
        let _ = (&self.inner.store, &self.inner.sender, &self.inner.renderer);
        unimplemented!()
    }

    /// Per-IP limit, take the captcha, compare, per-mobile limits, make,
    /// store and send a 6-digit code.
    pub async fn send_sms_code(
        &self,
        _mobile: &Mobile,
        _typed: &str,
        _id: &ImageCodeId,
        _ip: &ClientIp,
    ) -> Result<(), VerifyError> {
        unimplemented!()
    }

    /// Checks a code once; void after `max_attempts` wrong checks.
    pub async fn check_sms_code(
        &self,
        _mobile: &Mobile,
        _code: &SmsCode,
    ) -> Result<(), VerifyError> {
        unimplemented!()
    }

    /// `Ok` when the store answers.
    pub async fn ready(&self) -> Result<(), VerifyError> {
        Ok(self.inner.store.ping().await?)
    }
}
