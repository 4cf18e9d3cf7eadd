//! One module per route, and the route table: every routed path, its
//! method and handler, registered in one place.

use actix_web::{Resource, Route, web};

pub(crate) mod audio_code;
pub(crate) mod fallback;
pub(crate) mod health;
pub(crate) mod image_code;
pub(crate) mod sms_code;
pub(crate) mod verify_sms_code;

/// `path` answering `route` for `method`, and 405 with `Allow: <method>`
/// for any other method.
fn resource(path: &str, method: &'static str, route: Route) -> Resource {
    web::resource(path)
        .route(route)
        .default_service(web::to(fallback::method_not_allowed(method)))
}

/// Registers every route. The verify endpoint is not routed at all without
/// a key: it answers 404 like any unknown path, so its existence is not
/// advertised.
pub(crate) fn configure(cfg: &mut web::ServiceConfig, verify_enabled: bool) {
    cfg.service(resource(
        "/passport/image_code",
        "GET",
        web::get().to(image_code::get_image_code),
    ))
    .service(resource(
        "/passport/sms_code",
        "POST",
        web::post().to(sms_code::send_sms_code),
    ))
    .service(resource(
        "/passport/audio_code",
        "GET",
        web::get().to(audio_code::get_audio_code),
    ))
    .service(resource(
        "/healthz",
        "GET",
        web::get().to(health::get_healthz),
    ))
    .service(resource(
        "/readyz",
        "GET",
        web::get().to(health::get_readyz),
    ));
    if verify_enabled {
        cfg.service(resource(
            "/passport/sms_code/verify",
            "POST",
            web::post().to(verify_sms_code::check_sms_code),
        ));
    }
}
