//! Everything no route took: the page's files, else the contract's 404;
//! wrong methods on known routes, 405.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::page::Page;
use crate::reply::{Refused, Reply};

/// A file of the page for GET (and HEAD), else 404 with errno 4201.
pub async fn serve_page_or_not_found(
    req: HttpRequest,
    page: web::Data<Page>,
) -> Result<HttpResponse, Refused> {
    if (req.method() == Method::GET || req.method() == Method::HEAD)
        && let Some(response) = page.respond(req.path())
    {
        return Ok(response);
    }
    Err(Refused::new(Reply::not_found(), "no such route"))
}

/// 405 with errno 4201 and `Allow: <allow>`.
pub fn method_not_allowed(
    allow: &'static str,
) -> impl Fn() -> std::future::Ready<Result<HttpResponse, Refused>> + Clone {
    move || {
        std::future::ready(Err(Refused::new(
            Reply::method_not_allowed(allow),
            "method not allowed",
        )))
    }
}

/// Maps what the JSON extractor refused to the contract's 4103, with 413
/// for a body over the limit and 415 for a wrong content type.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::{JsonPayloadError as J, PayloadError as P};
    let status = match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } | J::Payload(P::Overflow) => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        J::ContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::BAD_REQUEST,
    };
    Refused::new(Reply::param(status), err.to_string()).into()
}
