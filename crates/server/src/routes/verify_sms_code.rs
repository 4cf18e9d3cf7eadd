//! `POST /passport/sms_code/verify`: a backend checks the code a user typed.
//! Server to server, with a bearer key; not routed while no key is set.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use subtle::ConstantTimeEq;
use verify::{Answer, Lang, ParseError, SmsCode, VerifyError};

use crate::reply::{ApiError, Reply};
use crate::routes::sms_code::string_field;
use crate::state::AppState;

/// Proof that the request carried the configured bearer key. Listed before
/// the body among the handler's arguments, so a caller without the key
/// learns nothing about the body's rules.
#[derive(Debug)]
pub(crate) struct Authorized(());

impl FromRequest for Authorized {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let expected = req
            .app_data::<web::Data<AppState>>()
            .and_then(|s| s.verify_key.clone());
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_key);
        ready(match (expected, given) {
            // Constant time over the bytes; only the length can show, and
            // keys are at least 16 random characters.
            (Some(key), Some(given))
                if bool::from(key.expose().as_bytes().ct_eq(given.as_bytes())) =>
            {
                Ok(Authorized(()))
            }
            _ => Err(ApiError::Unauthorized),
        })
    }
}

/// The key of an `Authorization: Bearer <key>` value. The scheme is
/// case-insensitive (RFC 9110); the key is not, and is trimmed.
pub(crate) fn bearer_key(value: &str) -> Option<&str> {
    value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .filter(|key| !key.is_empty())
}

/// The body: a JSON object `{"mobile": "...", "sms_code": "123456"}`.
pub(crate) type CheckBody = serde_json::Map<String, serde_json::Value>;

/// The fields the handler reads from [`CheckBody`] (the request body's
/// schema in the OpenAPI document).
#[derive(Debug, utoipa::ToSchema)]
#[schema(example = json!({"mobile": "13812345678", "sms_code": "123456"}))]
pub(crate) struct CheckRequest<'a> {
    /// The mobile number the code was sent to.
    #[schema(min_length = 1)]
    pub(crate) mobile: &'a str,
    /// The code as the user typed it: 6 ASCII digits.
    #[schema(pattern = "^[0-9]{6}$")]
    pub(crate) sms_code: &'a str,
}

impl<'a> CheckRequest<'a> {
    /// Reads the two fields: each must be a non-blank string.
    pub(crate) fn read(body: &'a CheckBody) -> Result<Self, ParseError> {
        Ok(Self {
            mobile: string_field(body, "mobile")?,
            sms_code: string_field(body, "sms_code")?,
        })
    }
}

/// Checks the code once: accepted codes are used up, and a code is void
/// after the configured number of wrong checks.
#[utoipa::path(
    post,
    path = "/passport/sms_code/verify",
    tag = "sms",
    operation_id = "check_sms_code",
    summary = "A backend checks the SMS code a user typed (once)",
    description = "Server to server. Routed only when `verify_api.key` is set. An accepted \
code is used up; a code is void after `limits.max_attempts` wrong checks.",
    request_body(content = CheckRequest<'_>, content_type = "application/json"),
    security(("bearer" = []))
)]
pub(crate) async fn check_sms_code(
    _auth: Authorized,
    state: web::Data<AppState>,
    body: web::Json<CheckBody>,
) -> Result<HttpResponse, ApiError> {
    let fields = CheckRequest::read(&body).map_err(VerifyError::from)?;
    let code = SmsCode::parse(fields.sms_code).map_err(VerifyError::from)?;
    let mobile = state
        .mobile_rule
        .parse(fields.mobile)
        .map_err(VerifyError::from)?;
    match state.passport.check_sms_code(&mobile, &code).await {
        Ok(()) => {
            tracing::info!(mobile = %mobile.masked(), "sms code accepted");
            Ok(Reply::new(Answer::CodeAccepted).to_response(Lang::Zh, false))
        }
        Err(e) => {
            tracing::info!(mobile = %mobile.masked(), errno = e.errno().code(), "sms code not accepted");
            Err(e.into())
        }
    }
}
