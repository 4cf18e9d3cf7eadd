//! `POST /passport/sms_code`: compare the captcha, then send an SMS code.

use actix_web::{HttpRequest, HttpResponse, web};
use verify::{Answer, ImageCodeId, Lang, ParseError, VerifyError};

use crate::reply::{ApiError, Reply};
use crate::state::AppState;

/// The body: a JSON object `{"mobile", "image_code", "image_code_id"}`, as
/// the seed's page sends it. Taken as a map, not a derived struct, so that
/// serde's positional form (`[mobile, code, id]`) is refused, and a missing
/// field is the contract's 4103 like an empty one. Other fields are ignored
/// (front ends written for the seed send more).
pub(crate) type SmsCodeBody = serde_json::Map<String, serde_json::Value>;

/// A string field of a JSON body: missing, null or blank is
/// [`ParseError::Missing`], any other type [`ParseError::Malformed`].
pub(crate) fn string_field<'a>(
    body: &'a SmsCodeBody,
    name: &'static str,
) -> Result<&'a str, ParseError> {
    match body.get(name) {
        None | Some(serde_json::Value::Null) => Err(ParseError::Missing(name)),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Err(ParseError::Missing(name)),
        Some(serde_json::Value::String(s)) => Ok(s),
        Some(_) => Err(ParseError::Malformed(name)),
    }
}

/// Parameters present → mobile valid → the rules (per-IP limit, take and
/// compare the captcha, per-mobile limits, make, store and send).
pub(crate) async fn send_sms_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SmsCodeBody>,
) -> Result<HttpResponse, ApiError> {
    let mobile = string_field(&body, "mobile").map_err(VerifyError::from)?;
    let typed = string_field(&body, "image_code").map_err(VerifyError::from)?;
    let id = string_field(&body, "image_code_id").map_err(VerifyError::from)?;
    let id = ImageCodeId::parse(id).map_err(VerifyError::from)?;
    let mobile = state.mobile_rule.parse(mobile).map_err(VerifyError::from)?;
    let ip = state.proxies.client_ip(&req);

    match state.passport.send_sms_code(&mobile, typed, &id, &ip).await {
        Ok(()) => {
            state.metrics.sms_sent();
            tracing::info!(mobile = %mobile.masked(), "sms code sent");
            Ok(Reply::new(Answer::SmsSent).to_response(Lang::Zh, false))
        }
        Err(e) => {
            if let VerifyError::Sender(failure) = &e {
                state
                    .metrics
                    .sms_send_failure(state.gateway, failure.kind());
            }
            tracing::info!(mobile = %mobile.masked(), errno = e.errno().code(), "sms code refused");
            Err(e.into())
        }
    }
}
