//! Everything no route took: the page's files, else the contract's 404;
//! wrong methods on known routes, 405.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::page::Page;
use verify::Answer;

use crate::reply::{ApiError, Reply};

/// A file of the page for GET (and HEAD), else 404 with errno 4201.
pub(crate) async fn serve_page_or_not_found(
    req: HttpRequest,
    page: web::Data<Page>,
) -> Result<HttpResponse, ApiError> {
    if (req.method() == Method::GET || req.method() == Method::HEAD)
        && let Some(response) = page.respond(req.path())
    {
        return Ok(response);
    }
    Err(ApiError::refused(
        Reply::new(Answer::NotFound),
        "no such route",
    ))
}

/// 405 with errno 4201 and `Allow: <allow>`.
pub(crate) fn method_not_allowed(
    allow: &'static str,
) -> impl Fn() -> std::future::Ready<Result<HttpResponse, ApiError>> + Clone {
    move || {
        std::future::ready(Err(ApiError::refused(
            Reply::method_not_allowed(allow),
            "method not allowed",
        )))
    }
}

/// Maps what the JSON extractor refused to the contract's 4103, with 413
/// for a body over the limit and 415 for a wrong content type.
pub(crate) fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    use actix_web::error::{JsonPayloadError as J, PayloadError as P};
    // The cause names the kind only: serde's message quotes the body, and
    // the body (a mobile, a code) is never logged, whatever its shape.
    let (answer, cause) = match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } | J::Payload(P::Overflow) => {
            (Answer::BodyTooLarge, "body too large")
        }
        J::ContentType => (Answer::WrongContentType, "body not application/json"),
        J::Payload(p) if crate::deadline::is_deadline(p) => (
            Answer::BodyTimeout,
            "body not read within server.body_timeout_ms",
        ),
        J::Deserialize(_) => (Answer::Param, "body not a JSON object"),
        _ => (Answer::Param, "body unreadable"),
    };
    ApiError::refused(Reply::new(answer), cause).into()
}
