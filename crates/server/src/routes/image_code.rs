//! `GET /passport/image_code?code_id=<uuid>`: a captcha image.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Deserialize;
use verify::{ImageCodeId, Lang, VerifyError};

use crate::reply::Reply;
use crate::state::AppState;

/// Why no image was answered.
#[derive(Debug, thiserror::Error)]
pub enum ImageCodeError {
    /// The query string is not `code_id=<uuid>` (4103).
    #[error("bad query: {0}")]
    Query(String),
    /// The rules refused (rate limit, store down, ...).
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// Anything else (4500).
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ImageCodeError {
    fn reply(&self) -> Reply {
        match self {
            Self::Query(_) => Reply::param(StatusCode::BAD_REQUEST),
            Self::Verify(e) => Reply::from_verify(e),
            Self::Unexpected(_) => Reply::unexpected(),
        }
    }
}

impl ResponseError for ImageCodeError {
    fn status_code(&self) -> StatusCode {
        self.reply().status
    }
    fn error_response(&self) -> HttpResponse {
        self.reply().to_response(Lang::Zh, false)
    }
}

// Other parameters (cache busters such as `&t=...`) are ignored.
#[derive(Debug, Deserialize)]
struct ImageCodeQuery {
    code_id: Option<String>,
}

/// Parses the query before anything else: bad input never reaches the store.
fn parse_code_id(query: &str) -> Result<ImageCodeId, ImageCodeError> {
    let query = web::Query::<ImageCodeQuery>::from_query(query)
        .map_err(|e| ImageCodeError::Query(e.to_string()))?;
    let raw = query.into_inner().code_id.unwrap_or_default();
    ImageCodeId::parse(&raw).map_err(|e| ImageCodeError::Query(e.to_string()))
}

/// Renders a captcha for `code_id`, stores its answer, answers the image.
pub async fn get_image_code(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ImageCodeError> {
    let id = parse_code_id(req.query_string())?;
    let ip = state.proxies.client_ip(&req);
    // Rendering runs inline on this worker: about 0.1 ms (benches/render.rs
    // measured 117 µs inline against 143 µs through spawn_blocking), so the
    // hop to the blocking pool costs more than it frees, and the worker
    // serves its other connections right after.
    let captcha = state.passport.issue_captcha(&id, &ip).await?;
    state.metrics.captcha_issued();
    // The image carries no errno; it counts as a success all the same.
    state.metrics.outcome("0");
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
