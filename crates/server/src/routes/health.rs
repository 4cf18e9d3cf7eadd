//! `GET /healthz` (the process answers) and `GET /readyz` (the store answers).

use actix_web::{HttpResponse, web};
use verify::{Answer, Lang};

use crate::reply::{ApiError, Reply};
use crate::state::AppState;

/// Answers as long as the process serves requests.
pub(crate) async fn get_healthz() -> HttpResponse {
    Reply::new(Answer::Healthy).to_response(Lang::Zh, false)
}

/// Answers 200 when the store answers, else 503/4001.
pub(crate) async fn get_readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.passport.ready().await?;
    Ok(Reply::new(Answer::Healthy).to_response(Lang::Zh, false))
}
