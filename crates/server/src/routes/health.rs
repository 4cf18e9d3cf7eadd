//! `GET /healthz` (the process answers) and `GET /readyz` (the store answers).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use verify::{Lang, VerifyError};

use crate::reply::Reply;
use crate::state::AppState;

/// Why the service is not ready.
#[derive(Debug, thiserror::Error)]
pub enum ReadyError {
    /// The store did not answer (4001).
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// Anything else (4500).
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ReadyError {
    fn reply(&self) -> Reply {
        match self {
            Self::Verify(e) => Reply::from_verify(e),
            Self::Unexpected(_) => Reply::unexpected(),
        }
    }
}

impl ResponseError for ReadyError {
    fn status_code(&self) -> StatusCode {
        self.reply().status
    }
    fn error_response(&self) -> HttpResponse {
        self.reply().to_response(Lang::Zh, false)
    }
}

/// Answers as long as the process serves requests.
pub async fn get_healthz() -> HttpResponse {
    Reply::ok("正常", "OK").to_response(Lang::Zh, false)
}

/// Answers 200 when the store answers, else 503/4001.
pub async fn get_readyz(state: web::Data<AppState>) -> Result<HttpResponse, ReadyError> {
    state.passport.ready().await?;
    Ok(Reply::ok("正常", "OK").to_response(Lang::Zh, false))
}
