//! The middleware every request passes: connections refused over their cap,
//! the query-string cap, the language and `compat` rendering of JSON
//! answers, a log line and the metrics.

use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{ConnectionType, Method};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use verify::{Answer, Errno, Lang};

use crate::connections::Refused;
use crate::reply::{Reply, negotiate};
use crate::state::AppState;

/// Longest query string accepted (the contract's 1 KiB).
pub(crate) const MAX_QUERY_LEN: usize = 1024;

// Paths are logged, and any client can choose one: keep lines bounded.
const MAX_LOGGED_PATH: usize = 200;

/// Wraps every route (see the module docs).
pub(crate) async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (default_lang, errors_as_200) = state
        .as_ref()
        .map_or((Lang::Zh, false), |s| (s.default_lang, s.errors_as_200));
    let lang = negotiate(req.headers(), default_lang);
    let method = req.method().clone();
    let path = req.path().to_owned();

    let response = refuse_or_call(req, next).await?;
    let reply = response.response().extensions().get::<Reply>().cloned();
    let response = match &reply {
        Some(reply) => rerender(response, reply, lang, errors_as_200),
        None => response,
    };

    let elapsed = started.elapsed();
    let errno = reply.as_ref().map(Reply::errno);
    if let Some(state) = &state {
        state.metrics.request(elapsed);
        if let Some(errno) = errno {
            state.metrics.outcome(errno);
        }
    }
    log_request(&method, &path, &response, errno, elapsed);
    Ok(response)
}

/// The answer of a connection refused over its cap or of a query string over
/// the contract's cap, without calling the handler; otherwise the handler's.
async fn refuse_or_call(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.conn_data::<Refused>().is_some() {
        // Read in full before the refusal shut the connection: answered like
        // the refusal itself, and no handler runs.
        let mut response = Reply::connection_refused().to_response(Lang::Zh, false);
        response
            .head_mut()
            .set_connection_type(ConnectionType::Close);
        Ok(req.into_response(response))
    } else if req.query_string().len() > MAX_QUERY_LEN {
        let reply = Reply::new(Answer::Param);
        let response = reply.to_response(Lang::Zh, false);
        Ok(req.into_response(response))
    } else {
        Ok(next.call(req).await?.map_into_boxed_body())
    }
}

/// Re-renders a contract answer when the default form (Chinese, the errno's
/// own status) is not the one wanted, keeping the error behind it for the log.
fn rerender(
    response: ServiceResponse<BoxBody>,
    reply: &Reply,
    lang: Lang,
    errors_as_200: bool,
) -> ServiceResponse<BoxBody> {
    if lang == Lang::Zh && !(errors_as_200 && reply.errno() != Errno::Ok) {
        return response;
    }
    let error = response.response().error().map(ToString::to_string);
    let (req, _) = response.into_parts();
    let mut fresh = reply.to_response(lang, errors_as_200);
    if let Some(error) = error {
        fresh.extensions_mut().insert(LoggedCause(error));
    }
    ServiceResponse::new(req, fresh)
}

/// The request's log line: a warning for a 5xx or a service fault with a
/// cause, debug for a passing health probe, info otherwise.
fn log_request(
    method: &Method,
    path: &str,
    response: &ServiceResponse<BoxBody>,
    errno: Option<Errno>,
    elapsed: Duration,
) {
    let status = response.status().as_u16();
    let cause = logged_cause(response);
    let shown_path = match path.char_indices().nth(MAX_LOGGED_PATH) {
        Some((cut, _)) => &path[..cut],
        None => path,
    };
    let latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    let fault = errno.is_some_and(Errno::is_service_fault);
    let errno = errno.map_or("-", Errno::code);
    match cause {
        Some(cause) if status >= 500 || fault => {
            tracing::warn!(%method, path = shown_path, status, errno, latency_us, %cause, "request")
        }
        Some(cause) => {
            tracing::info!(%method, path = shown_path, status, errno, latency_us, %cause, "request")
        }
        // Health probes arrive every few seconds: keep them out of the info log.
        None if status == 200 && (path == "/healthz" || path == "/readyz") => {
            tracing::debug!(%method, path = shown_path, status, errno, latency_us, "request")
        }
        None => tracing::info!(%method, path = shown_path, status, errno, latency_us, "request"),
    }
}

/// The error the handler answered with, or the one a re-rendered answer kept.
fn logged_cause(response: &ServiceResponse<BoxBody>) -> Option<String> {
    response
        .response()
        .error()
        .map(ToString::to_string)
        .or_else(|| {
            response
                .response()
                .extensions()
                .get::<LoggedCause>()
                .map(|c| c.0.clone())
        })
}

/// The error behind a re-rendered answer, kept for the log line.
#[derive(Debug, Clone)]
struct LoggedCause(String);
