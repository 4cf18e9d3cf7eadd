//! `GET /healthz` (the process answers) and `GET /readyz` (the store answers).

use actix_web::{HttpResponse, web};
use verify::{Answer, Lang};

use crate::reply::{ApiError, Reply};
use crate::state::AppState;

/// Answers as long as the process serves requests.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    operation_id = "get_healthz",
    summary = "Liveness: the process answers"
)]
pub(crate) async fn get_healthz() -> HttpResponse {
    Reply::new(Answer::Healthy).to_response(Lang::Zh, false)
}

/// Answers 200 when the store answers, else 503/4001.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    operation_id = "get_readyz",
    summary = "Readiness: the store answers, and has room"
)]
pub(crate) async fn get_readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.passport.ready().await?;
    Ok(Reply::new(Answer::Healthy).to_response(Lang::Zh, false))
}
