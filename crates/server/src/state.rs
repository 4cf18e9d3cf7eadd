//! [`AppState`]: what every handler shares, built once per process.

use std::sync::Arc;

use verify::{Lang, MobileRule, Passport};

use crate::client_ip::TrustedProxies;
use crate::configuration::Secret;
use crate::metrics::Metrics;

/// Shared by every worker as `web::Data<AppState>`.
#[derive(Debug)]
pub(crate) struct AppState {
    /// The rules.
    pub(crate) passport: Passport,
    /// How mobile numbers are parsed.
    pub(crate) mobile_rule: MobileRule,
    /// Whose `X-Forwarded-For` is believed.
    pub(crate) proxies: TrustedProxies,
    /// Bearer key of the verify endpoint; `None` disables it.
    pub(crate) verify_key: Option<Secret>,
    /// `errmsg` language unless the client prefers English.
    pub(crate) default_lang: Lang,
    /// `compat.errors_as_200`.
    pub(crate) errors_as_200: bool,
    /// Counters for `/metrics`.
    pub(crate) metrics: Arc<Metrics>,
    /// `sms.sender`, the `gateway` label of send failures.
    pub(crate) gateway: &'static str,
}
