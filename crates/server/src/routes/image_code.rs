//! `GET /passport/image_code?code_id=<uuid>`: a captcha image.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use verify::{Errno, ImageCodeId};

use crate::reply::ApiError;
use crate::state::AppState;

/// The query. Other parameters (cache busters such as `&t=...`) are ignored.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ImageCodeQuery {
    /// The captcha's id, made by the client: a UUID, hyphenated or not, any
    /// case. The same id later goes with the typed answer.
    #[param(
        required = true,
        pattern = "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[0-9A-Fa-f]{32})$",
        example = "0b7d3c5e-8f7a-4c1e-9d2b-3a4f5e6d7c8b"
    )]
    code_id: Option<String>,
}

/// Parses the query before anything else: bad input never reaches the store.
pub(crate) fn parse_code_id(query: &str) -> Result<ImageCodeId, ApiError> {
    let query = web::Query::<ImageCodeQuery>::from_query(query)
        .map_err(|e| ApiError::Query(e.to_string()))?;
    let raw = query.into_inner().code_id.unwrap_or_default();
    ImageCodeId::parse(&raw).map_err(|e| ApiError::Query(e.to_string()))
}

/// Renders a captcha for `code_id`, stores its answer, answers the image.
#[utoipa::path(
    get,
    path = "/passport/image_code",
    tag = "captcha",
    operation_id = "get_image_code",
    summary = "A new captcha image for an id",
    description = "Makes a new answer for `code_id` (replacing any earlier one, image or \
audio) and answers its picture. PNG, or JPEG when `captcha.format = \"jpeg\"`. \
Counts against the per-IP limit `limits.image_codes_per_ip_per_minute`.",
    params(ImageCodeQuery),
    responses((
        status = 200,
        description = "The captcha picture",
        content(("image/png"), ("image/jpeg")),
        headers(("Cache-Control" = String, description = "`no-store`"))
    ))
)]
pub(crate) async fn get_image_code(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_code_id(req.query_string())?;
    let ip = state.proxies.client_ip(&req);
    // Rendering runs inline on this worker: about 0.1 ms (benches/render.rs
    // measured 117 µs inline against 143 µs through spawn_blocking), so the
    // hop to the blocking pool costs more than it frees, and the worker
    // serves its other connections right after.
    let captcha = state.passport.issue_captcha(&id, &ip).await?;
    state.metrics.captcha_issued();
    // The image carries no errno; it counts as a success all the same.
    state.metrics.outcome(Errno::Ok);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, captcha.mime))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(captcha.bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_uuid_passes() {
        let id = "0b7d3c5e-8f7a-4c1e-9d2b-3a4f5e6d7c8b";
        assert_eq!(
            parse_code_id(&format!("code_id={id}")).unwrap().as_str(),
            id
        );
        assert!(parse_code_id(&format!("t=1&code_id={id}")).is_ok());
        for bad in [
            "",
            "code_id=",
            "code_id=abc",
            "code_id=%0D%0A",
            "code_id=*",
            "code_id=%E4%BD%A0%E5%A5%BD",
            &format!("code_id={id}&code_id={id}"),
            &format!("code_id={id}x"),
        ] {
            assert!(parse_code_id(bad).is_err(), "{bad}");
        }
    }
}
