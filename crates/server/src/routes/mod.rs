//! One module per route, and the route table: every routed path with its
//! method, handler, documentation and the answers it can give. The app's
//! routes and the OpenAPI document are both made from this table, so they
//! cannot drift apart.

use actix_web::http::Method;
use actix_web::{Route, web};
use utoipa::openapi::path::{HttpMethod, Operation};
use verify::Answer;

pub(crate) mod audio_code;
pub(crate) mod fallback;
pub(crate) mod health;
pub(crate) mod image_code;
pub(crate) mod openapi;
pub(crate) mod sms_code;
pub(crate) mod verify_sms_code;

/// One routed operation.
#[derive(Clone)]
pub(crate) struct Endpoint {
    /// The path, as its handler's `#[utoipa::path]` documents it.
    pub(crate) path: String,
    /// The one method it answers (others get 405).
    pub(crate) method: HttpMethod,
    /// What the handler's `#[utoipa::path]` says of it.
    pub(crate) operation: Operation,
    /// The contract's JSON answers it can give, success included; the
    /// document lists them under their statuses.
    pub(crate) answers: &'static [Answer],
    handler: fn() -> Route,
}

impl Endpoint {
    /// The endpoint documented by `P` (the type `#[utoipa::path]` makes for
    /// a handler), served by `handler`.
    fn of<P: utoipa::Path>(handler: fn() -> Route, answers: &'static [Answer]) -> Self {
        Self {
            path: P::path(),
            // Every handler documents exactly one method (a test checks).
            method: P::methods().into_iter().next().unwrap_or(HttpMethod::Get),
            operation: P::operation(),
            answers,
            handler,
        }
    }

    /// The method's name, as `Allow` spells it.
    pub(crate) fn method_name(&self) -> &'static str {
        match self.method {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Head => "HEAD",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Trace => "TRACE",
        }
    }

    fn route(&self) -> Route {
        let method = Method::from_bytes(self.method_name().as_bytes()).unwrap_or(Method::GET);
        (self.handler)().method(method)
    }
}

/// Every routed operation. The verify endpoint is not routed at all without
/// a key: it answers 404 like any unknown path, so its existence is not
/// advertised (and the document leaves it out too).
pub(crate) fn table(verify_enabled: bool, openapi_enabled: bool) -> Vec<Endpoint> {
    let mut table = vec![
        Endpoint::of::<image_code::__path_get_image_code>(
            || web::route().to(image_code::get_image_code),
            &[Answer::Param, Answer::RateLimited, Answer::StoreDown],
        ),
        Endpoint::of::<audio_code::__path_get_audio_code>(
            || web::route().to(audio_code::get_audio_code),
            &[Answer::Param, Answer::RateLimited, Answer::StoreDown],
        ),
        Endpoint::of::<sms_code::__path_send_sms_code>(
            || web::route().to(sms_code::send_sms_code),
            &[
                Answer::SmsSent,
                Answer::Param,
                Answer::BodyTooLarge,
                Answer::WrongContentType,
                Answer::BodyTimeout,
                Answer::InvalidMobile,
                Answer::CaptchaMissing,
                Answer::CaptchaWrong,
                Answer::RateLimited,
                Answer::StoreDown,
                Answer::SenderFailed,
            ],
        ),
        Endpoint::of::<health::__path_get_healthz>(
            || web::route().to(health::get_healthz),
            &[Answer::Healthy],
        ),
        Endpoint::of::<health::__path_get_readyz>(
            || web::route().to(health::get_readyz),
            &[Answer::Healthy, Answer::StoreDown],
        ),
    ];
    if verify_enabled {
        table.push(Endpoint::of::<verify_sms_code::__path_check_sms_code>(
            || web::route().to(verify_sms_code::check_sms_code),
            &[
                Answer::CodeAccepted,
                Answer::Unauthorized,
                Answer::Param,
                Answer::BodyTooLarge,
                Answer::WrongContentType,
                Answer::BodyTimeout,
                Answer::InvalidMobile,
                Answer::SmsCodeMissing,
                Answer::SmsCodeWrong,
                Answer::StoreDown,
            ],
        ));
    }
    if openapi_enabled {
        table.push(Endpoint::of::<openapi::__path_get_openapi>(
            || web::route().to(openapi::get_openapi),
            &[],
        ));
    }
    table
}

/// Registers every endpoint of `table`: its method goes to its handler, any
/// other method gets 405 with `Allow`.
pub(crate) fn configure(cfg: &mut web::ServiceConfig, table: &[Endpoint]) {
    for endpoint in table {
        cfg.service(
            web::resource(endpoint.path.as_str())
                .route(endpoint.route())
                .default_service(web::to(fallback::method_not_allowed(
                    endpoint.method_name(),
                ))),
        );
    }
}
