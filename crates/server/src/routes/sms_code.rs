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

/// The fields the handler reads from [`SmsCodeBody`] (the request body's
/// schema in the OpenAPI document).
#[derive(Debug, utoipa::ToSchema)]
#[schema(example = json!({
    "mobile": "13812345678",
    "image_code": "7KXM",
    "image_code_id": "0b7d3c5e-8f7a-4c1e-9d2b-3a4f5e6d7c8b"
}))]
pub(crate) struct SmsCodeRequest<'a> {
    /// The mobile number: it must match `mobile.pattern` (default: mainland
    /// China, 11 digits); a `+86` prefix is accepted.
    #[schema(min_length = 1)]
    pub(crate) mobile: &'a str,
    /// The captcha as typed (the image's characters in any case, or the
    /// audio's digits).
    #[schema(min_length = 1)]
    pub(crate) image_code: &'a str,
    /// The `code_id` the captcha was fetched with.
    #[schema(
        pattern = "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[0-9A-Fa-f]{32})$"
    )]
    pub(crate) image_code_id: &'a str,
}

impl<'a> SmsCodeRequest<'a> {
    /// Reads the three fields: each must be a non-blank string.
    pub(crate) fn read(body: &'a SmsCodeBody) -> Result<Self, ParseError> {
        Ok(Self {
            mobile: string_field(body, "mobile")?,
            image_code: string_field(body, "image_code")?,
            image_code_id: string_field(body, "image_code_id")?,
        })
    }
}

/// Parameters present → mobile valid → the rules (per-IP limit, take and
/// compare the captcha, per-mobile limits, make, store and send).
#[utoipa::path(
    post,
    path = "/passport/sms_code",
    tag = "sms",
    operation_id = "send_sms_code",
    summary = "Check the captcha (one attempt), then send an SMS code",
    description = "The captcha of `image_code_id` is used up by this request whatever its \
outcome. Limits, in order: per IP, then (after a right captcha) the global hourly cap, \
the per-mobile interval and the daily cap. Other fields of the body are ignored.",
    request_body(content = SmsCodeRequest<'_>, content_type = "application/json")
)]
pub(crate) async fn send_sms_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SmsCodeBody>,
) -> Result<HttpResponse, ApiError> {
    let fields = SmsCodeRequest::read(&body).map_err(VerifyError::from)?;
    let typed = fields.image_code;
    let id = ImageCodeId::parse(fields.image_code_id).map_err(VerifyError::from)?;
    let mobile = state
        .mobile_rule
        .parse(fields.mobile)
        .map_err(VerifyError::from)?;
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
