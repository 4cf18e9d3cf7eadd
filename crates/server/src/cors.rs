//! Cross-origin callers (`cors.allowed_origins`): actix-cors, and the
//! contract's JSON on the preflights it refuses (it answers those with a
//! plain-text 400 of its own).
//!
//! A request that is not a preflight goes through from any origin, without
//! CORS headers when its origin is not allowed (the browser then withholds
//! the answer), so only preflights are refused here.

use actix_cors::{Cors, CorsError};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, web};
use verify::{Answer, Lang};

use crate::reply::{Reply, negotiate};
use crate::state::AppState;

/// actix-cors for `origins`: GET and POST, the headers the page sends.
pub(crate) fn cors(origins: &[String]) -> Cors {
    let cors = origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin));
    cors.allowed_methods(["GET", "POST"])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(600)
        // A request from another origin goes through without CORS headers
        // (the browser then withholds the answer) instead of failing here.
        .block_on_origin_mismatch(false)
}

/// Wraps [`cors`]: a refused preflight gets the contract's JSON, 403/4201
/// for an origin, method or header that is not allowed, 400/4103 for a
/// malformed one.
pub(crate) async fn answer_cors_refusals(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let (default_lang, errors_as_200) = req
        .app_data::<web::Data<AppState>>()
        .map_or((Lang::Zh, false), |s| (s.default_lang, s.errors_as_200));
    let lang = negotiate(req.headers(), default_lang);
    let response = next.call(req).await?;
    let answer = match response
        .response()
        .error()
        .and_then(|e| e.as_error::<CorsError>())
    {
        None => return Ok(response.map_into_boxed_body()),
        Some(
            CorsError::OriginNotAllowed
            | CorsError::MethodNotAllowed
            | CorsError::HeadersNotAllowed,
        ) => Answer::OriginRefused,
        Some(_) => Answer::Param,
    };
    let cause = response
        .response()
        .error()
        .map(ToString::to_string)
        .unwrap_or_default();
    let (req, _) = response.into_parts();
    let fresh = Reply::new(answer).to_response(lang, errors_as_200);
    if let Some(state) = req.app_data::<web::Data<AppState>>() {
        state.metrics.outcome(answer.errno());
    }
    tracing::info!(
        method = %req.method(),
        status = fresh.status().as_u16(),
        errno = answer.errno().code(),
        %cause,
        "CORS preflight refused"
    );
    Ok(ServiceResponse::new(req, fresh))
}
