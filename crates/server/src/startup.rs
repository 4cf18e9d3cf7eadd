//! [`Application`]: the settings turned into bound listeners and a server.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Extensions, Server, ServerHandle};
use actix_web::http::{KeepAlive, header};
use actix_web::middleware::{Condition, DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use code_store::{MemoryStore, RedisStore, SharedStore};
use verify::{Passport, Renderer, SmsSender};

use crate::client_ip::TrustedProxies;
use crate::configuration::{Backend, Settings};
use crate::connections::{ConnectionCaps, RESERVED_DESCRIPTORS};
use crate::cors::{answer_cors_refusals, cors};
use crate::deadline::{BodyDeadline, body_deadline};
use crate::metrics::{Metrics, get_metrics};
use crate::observe::observe;
use crate::page::Page;
use crate::routes::openapi::ApiDocument;
use crate::routes::{self, fallback};
use crate::state::AppState;
use sms_gateways::SenderKind;

/// The contract's body limit for JSON requests.
pub const MAX_BODY_BYTES: usize = 4 * 1024;

/// Seconds in-flight requests get to finish after SIGTERM or SIGINT.
const SHUTDOWN_TIMEOUT_SECS: u64 = 30;

/// A built server: listeners bound, not yet serving.
pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    metrics_server: Option<Server>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .field("metrics_port", &self.metrics_port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Builds the store and the SMS sender the settings name, then the server.
    /// Must be called inside a tokio runtime (the memory store spawns its
    /// purge task).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store: SharedStore = match settings.store.backend {
            Backend::Memory => Arc::new(MemoryStore::new(settings.store.memory.clone())),
            Backend::Redis => Arc::new(
                RedisStore::new(settings.store.redis.clone())
                    .context("store.redis: building the pool")?,
            ),
        };
        let sender = build_sender(&settings)?;
        Self::build_with(settings, store, sender).await
    }

    /// Builds the server over a given store and sender (tests inject them).
    pub async fn build_with(
        settings: Settings,
        store: SharedStore,
        sender: Arc<dyn SmsSender>,
    ) -> anyhow::Result<Self> {
        let metrics = Arc::new(Metrics::default());
        let state = app_state(&settings, store, sender, Arc::clone(&metrics))?;
        let parts = api_parts(&settings, state)?;
        let (listener, port) = bind_api(&settings)?;
        // Read once: derived from the descriptor limit, both caps must agree.
        let max_connections = settings.max_connections();
        let caps = connection_caps(&settings, max_connections);
        let server = serve_api(&settings, parts, listener, &caps, max_connections)?;
        let (metrics_port, metrics_server) = match settings.server.metrics_addr.as_str() {
            "" => (None, None),
            addr => {
                let (port, server) = serve_metrics(addr, metrics, caps)?;
                (Some(port), Some(server))
            }
        };
        tracing::info!(
            port,
            metrics_port,
            backend = ?settings.store.backend,
            sender = ?settings.sms.sender,
            "passport-server listening"
        );
        Ok(Self {
            port,
            metrics_port,
            server,
            metrics_server,
        })
    }

    /// The port the API listener is bound to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `/metrics` listener, when enabled.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// A handle that stops both listeners, as SIGTERM would.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            api: self.server.handle(),
            metrics: self.metrics_server.as_ref().map(Server::handle),
        }
    }

    /// Serves until SIGTERM or SIGINT; in-flight requests finish first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        match self.metrics_server {
            Some(metrics) => tokio::try_join!(self.server, metrics).map(|_| ()),
            None => self.server.await,
        }
    }
}

/// What every handler shares: the rules over `store` and `sender`, with the
/// renderer and test numbers from `settings`.
fn app_state(
    settings: &Settings,
    store: SharedStore,
    sender: Arc<dyn SmsSender>,
    metrics: Arc<Metrics>,
) -> anyhow::Result<web::Data<AppState>> {
    // The settings were checked when they were loaded; the renderer
    // checks its parameters again, which costs nothing.
    let renderer =
        Renderer::new(settings.captcha.clone()).map_err(|e| anyhow::anyhow!("captcha: {e}"))?;
    let test_numbers = settings.test_numbers()?;
    if !test_numbers.is_empty() {
        tracing::warn!(
            numbers = ?test_numbers.masked(),
            "sms.test_numbers: these numbers get their fixed code and no SMS; \
             whoever knows one can sign in as it (app-store review and QA only)"
        );
    }
    Ok(web::Data::new(AppState {
        passport: Passport::new(store, sender, renderer, settings.limits.clone())
            .with_test_numbers(test_numbers),
        mobile_rule: settings.mobile.clone(),
        proxies: TrustedProxies::new(settings.trusted_proxies()),
        verify_key: Some(settings.verify_api.key.clone()).filter(|k| !k.is_empty()),
        default_lang: settings.messages.default_lang,
        errors_as_200: settings.compat.errors_as_200,
        metrics,
        gateway: settings.sms.sender.as_str(),
    }))
}

/// The API listener on `server.host`:`server.port`, and the port it got
/// (tests ask for port 0).
fn bind_api(settings: &Settings) -> anyhow::Result<(TcpListener, u16)> {
    let host = settings.server.host.as_str();
    let listener = TcpListener::bind((host, settings.server.port))
        .with_context(|| format!("binding {host}:{}", settings.server.port))?;
    let port = listener.local_addr()?.port();
    Ok((listener, port))
}

/// The per-address and total connection caps, shared by the API listener
/// (which enforces them) and `/metrics` (which reports them).
fn connection_caps(settings: &Settings, max_connections: usize) -> Arc<ConnectionCaps> {
    Arc::new(ConnectionCaps::new(
        settings.server.max_connections_per_ip,
        max_connections,
        TrustedProxies::new(settings.trusted_proxies()),
        settings.messages.default_lang,
        settings.compat.errors_as_200,
    ))
}

/// What every API worker's `App` is made of; cloned into each worker.
#[derive(Clone)]
struct ApiParts {
    state: web::Data<AppState>,
    page: web::Data<Page>,
    json: web::JsonConfig,
    deadline: web::Data<BodyDeadline>,
    document: web::Data<ApiDocument>,
    table: Vec<routes::Endpoint>,
    origins: Vec<String>,
}

/// The shared state with the page, the JSON limits, the body deadline and
/// the route table (and its OpenAPI document) the settings switch on.
fn api_parts(settings: &Settings, state: web::Data<AppState>) -> anyhow::Result<ApiParts> {
    let table = routes::table(state.verify_key.is_some(), settings.server.openapi);
    Ok(ApiParts {
        document: web::Data::new(ApiDocument::new(&table).context("the OpenAPI document")?),
        page: web::Data::new(load_page(&settings.server.static_dir)),
        json: web::JsonConfig::default()
            .limit(MAX_BODY_BYTES)
            .content_type_required(true)
            .error_handler(fallback::json_error),
        deadline: web::Data::new(BodyDeadline(Duration::from_millis(
            settings.server.body_timeout_ms,
        ))),
        origins: settings.cors.allowed_origins.clone(),
        table,
        state,
    })
}

/// The API server on `listener`: the middleware and routes over `parts`,
/// with the connection caps (`caps` answers, actix's own limit sits above
/// `max_connections`), keep-alive and timeouts of `settings`.
fn serve_api(
    settings: &Settings,
    parts: ApiParts,
    listener: TcpListener,
    caps: &Arc<ConnectionCaps>,
    max_connections: usize,
) -> anyhow::Result<Server> {
    let on_connect = {
        let caps = Arc::clone(caps);
        move |io: &dyn std::any::Any, data: &mut Extensions| caps.on_connect(io, data)
    };
    let mut server = HttpServer::new(move || {
        let parts = parts.clone();
        let cors_on = !parts.origins.is_empty();
        App::new()
            .app_data(parts.state)
            .app_data(parts.page)
            .app_data(parts.json)
            .app_data(parts.deadline)
            .app_data(parts.document)
            .wrap(from_fn(body_deadline))
            .wrap(from_fn(observe))
            .wrap(Condition::new(cors_on, cors(&parts.origins)))
            .wrap(Condition::new(cors_on, from_fn(answer_cors_refusals)))
            .wrap(DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
            .configure(|cfg| routes::configure(cfg, &parts.table))
            .default_service(web::to(fallback::serve_page_or_not_found))
    })
    .on_connect(on_connect)
    .keep_alive(keep_alive(settings.server.keep_alive_secs))
    .client_request_timeout(Duration::from_millis(settings.server.head_timeout_ms))
    // actix's own cap is per worker and stops accepting when reached:
    // set above ours, so that ours (which answers and goes on accepting)
    // acts first.
    .max_connections(max_connections.saturating_add(RESERVED_DESCRIPTORS))
    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS);
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.listen(listener)?.run())
}

/// `server.keep_alive_secs`: 0 turns keep-alive off.
fn keep_alive(secs: u64) -> KeepAlive {
    match secs {
        0 => KeepAlive::Disabled,
        secs => KeepAlive::Timeout(Duration::from_secs(secs)),
    }
}

/// Stops a running [`Application`] (for embedding and tests; the binary
/// relies on SIGTERM and SIGINT).
#[derive(Clone)]
pub struct StopHandle {
    api: ServerHandle,
    metrics: Option<ServerHandle>,
}

impl std::fmt::Debug for StopHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StopHandle").finish_non_exhaustive()
    }
}

impl StopHandle {
    /// Stops accepting connections; with `graceful`, requests in flight
    /// finish first (up to the shutdown timeout).
    pub async fn stop(&self, graceful: bool) {
        match &self.metrics {
            Some(metrics) => {
                tokio::join!(self.api.stop(graceful), metrics.stop(graceful));
            }
            None => self.api.stop(graceful).await,
        }
    }
}

/// The `/metrics` listener on `addr`, one worker.
fn serve_metrics(
    addr: &str,
    metrics: Arc<Metrics>,
    caps: Arc<ConnectionCaps>,
) -> anyhow::Result<(u16, Server)> {
    let listener =
        TcpListener::bind(addr).with_context(|| format!("server.metrics_addr: binding {addr}"))?;
    let port = listener.local_addr()?.port();
    let metrics = web::Data::from(metrics);
    let caps = web::Data::from(caps);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(metrics.clone())
            .app_data(caps.clone())
            .route("/metrics", web::get().to(get_metrics))
    })
    .workers(1)
    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
    .listen(listener)?
    .run();
    Ok((port, server))
}

/// The SMS sender `sms.sender` names.
fn build_sender(settings: &Settings) -> anyhow::Result<Arc<dyn SmsSender>> {
    match settings.sms.sender {
        SenderKind::Log => {
            tracing::warn!("sms.sender = \"log\": codes are written to the log (development only)");
        }
        SenderKind::Discard => {
            tracing::warn!("sms.sender = \"discard\": no SMS is sent to anybody (benchmarks only)");
        }
        _ => {}
    }
    Ok(settings.sms.build()?)
}

fn load_page(dir: &str) -> Page {
    if dir.is_empty() {
        return Page::default();
    }
    match Page::load(Path::new(dir)) {
        Ok(page) if !page.is_empty() => page,
        Ok(_) => {
            tracing::warn!(static_dir = dir, "no page files found; / answers 404");
            Page::default()
        }
        // The API works without the page: say so, and serve it.
        Err(e) => {
            tracing::warn!(static_dir = dir, error = %e, "page not loaded; / answers 404");
            Page::default()
        }
    }
}
