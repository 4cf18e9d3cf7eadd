//! The connections a call sends its command on, and how the pool opens them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ::redis::aio::{ConnectionLike, MultiplexedConnection};
use ::redis::cluster::{ClusterClient, ClusterClientBuilder};
use ::redis::cluster_async::ClusterConnection;
use ::redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use ::redis::{
    self, AsyncConnectionConfig, ConnectionAddr, IntoConnectionInfo, RedisError, RedisFuture,
    TlsCertificates,
};

use super::{RedisConfig, invalid};
use crate::StoreError;
use deadpool::managed::{self};

/// The connection a call sends its command on: a pooled multiplexed one
/// (standalone and Sentinel modes) or the shared Cluster connection, which
/// routes each command to its key's node and follows `MOVED`/`ASK` itself.
#[derive(Clone)]
pub(super) enum Handle {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Handle {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, redis::Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// One pooled connection. Cloning it clones the multiplexed handle (every
/// clone pipelines onto the same socket) and shares the mark, so a failure
/// seen through any clone retires the pooled connection.
#[derive(Clone)]
pub(super) struct Link {
    pub(super) conn: Handle,
    pub(super) broken: Mark,
}

/// Set once a command on the connection failed in a way that means its
/// socket is gone or stuck, or its server is no longer the primary.
#[derive(Clone, Default)]
pub(super) struct Mark(Arc<AtomicBool>);

impl Mark {
    /// Marks the connection when `e` says its socket is gone or stuck, or
    /// that the server was demoted (so Sentinel mode asks again who the
    /// primary is); any other error answer leaves it in service.
    pub(super) fn note(&self, e: &RedisError) {
        if e.is_timeout()
            || e.is_io_error()
            || e.is_connection_refusal()
            || e.is_connection_dropped()
            || matches!(e.code(), Some("READONLY" | "MASTERDOWN"))
        {
            self.set();
        }
    }

    pub(super) fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub(super) fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Where the pool's connections go: one known server, or whichever the
/// Sentinels name as primary at the time the connection is opened.
pub(super) enum Source {
    Direct(redis::Client),
    // A lock because resolving takes `&mut`; resolving happens only when a
    // connection is opened, never per command.
    Sentinel(tokio::sync::Mutex<SentinelClient>),
}

/// Opens the pool's connections, with the configured timeouts, and vets
/// them on their way out of the pool without a network call.
pub(super) struct Connector {
    pub(super) source: Source,
    pub(super) config: AsyncConnectionConfig,
}

impl managed::Manager for Connector {
    type Type = Link;
    type Error = RedisError;

    async fn create(&self) -> Result<Link, RedisError> {
        let client = match &self.source {
            Source::Direct(client) => client.clone(),
            Source::Sentinel(sentinel) => sentinel.lock().await.async_get_client().await?,
        };
        let conn = client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await?;
        Ok(Link {
            conn: Handle::Single(conn),
            broken: Mark::default(),
        })
    }

    async fn recycle(
        &self,
        link: &mut Link,
        _: &managed::Metrics,
    ) -> managed::RecycleResult<RedisError> {
        if link.broken.is_set() {
            Err(managed::RecycleError::message("connection marked broken"))
        } else {
            Ok(())
        }
    }
}

/// The Cluster client and a few shared connections, used in turn, each
/// opened by the first call that needs it (and again by the next one, if
/// opening failed). A connection reconnects to nodes and refreshes the
/// slot map by itself. More than one because each routes every request
/// through one task: under thousands of concurrent calls, one queued them
/// past the command timeout on a busy machine.
pub(super) struct Cluster {
    pub(super) client: ClusterClient,
    pub(super) conns: Vec<tokio::sync::OnceCell<ClusterConnection>>,
    pub(super) next: std::sync::atomic::AtomicUsize,
}

/// Most Cluster connections per store (each holds a socket per node).
pub(super) const CLUSTER_CONNECTIONS: usize = 4;

/// How calls reach Redis.
#[derive(Clone)]
pub(super) enum Connections {
    Pool(managed::Pool<Connector>),
    Cluster(Arc<Cluster>),
}

/// The Sentinel client: Sentinels' credentials and TLS apply to the
/// primary too, and `certificates` (a custom CA) to both.
pub(super) fn sentinel_client(
    config: &RedisConfig,
    certificates: Option<TlsCertificates>,
) -> Result<SentinelClient, RedisError> {
    let infos = config
        .sentinels
        .iter()
        .map(|u| u.as_str().into_connection_info())
        .collect::<Result<Vec<_>, _>>()?;
    let first = infos[0].redis_settings().clone();
    let tls = matches!(infos[0].addr(), ConnectionAddr::TcpTls { .. });
    let addrs = infos.iter().map(|i| i.addr().clone());
    let mut builder = SentinelClientBuilder::new(
        addrs,
        config.sentinel_master.trim(),
        SentinelServerType::Master,
    )?;
    if let Some(user) = first.username() {
        builder = builder
            .set_client_to_redis_username(user)
            .set_client_to_sentinel_username(user);
    }
    if let Some(password) = first.password() {
        builder = builder
            .set_client_to_redis_password(password)
            .set_client_to_sentinel_password(password);
    }
    if tls {
        builder = builder
            .set_client_to_redis_tls_mode(redis::TlsMode::Secure)
            .set_client_to_sentinel_tls_mode(redis::TlsMode::Secure);
    }
    if let Some(certs) = certificates {
        builder = builder
            .set_client_to_redis_certificates(certs.clone())
            .set_client_to_sentinel_certificates(certs);
    }
    builder.build()
}

/// The configured timeouts.
pub(super) struct Timeouts {
    pub(super) connect: Duration,
    pub(super) wait: Duration,
    pub(super) command: Duration,
}

impl Timeouts {
    pub(super) fn of(config: &RedisConfig) -> Self {
        Self {
            connect: Duration::from_millis(config.connect_timeout_ms),
            wait: Duration::from_millis(config.wait_timeout_ms),
            command: Duration::from_millis(config.command_timeout_ms),
        }
    }

    /// Bound on getting a pooled connection: deadpool may throw away several
    /// marked connections in one `get` before it opens a new one; one outer
    /// bound over it all.
    pub(super) fn pooled_connection(&self) -> Duration {
        self.wait + self.connect + self.command
    }
}

/// A URL the client refused, named by its configuration key.
pub(super) fn unusable(key: &str, e: &RedisError) -> StoreError {
    invalid(&format!("{key}: redis url not usable ({})", e.category()))
}

/// The Cluster client and its connection slots, none opened yet.
pub(super) fn cluster(
    config: &RedisConfig,
    certificates: Option<TlsCertificates>,
    timeouts: &Timeouts,
) -> Result<Cluster, StoreError> {
    let mut builder = ClusterClientBuilder::new(config.nodes.iter().map(String::as_str))
        .connection_timeout(timeouts.connect)
        .response_timeout(timeouts.command);
    if let Some(certs) = certificates {
        builder = builder.certs(certs);
    }
    let client = builder.build().map_err(|e| unusable("nodes", &e))?;
    Ok(Cluster {
        client,
        conns: (0..config.pool_size.min(CLUSTER_CONNECTIONS))
            .map(|_| tokio::sync::OnceCell::new())
            .collect(),
        next: std::sync::atomic::AtomicUsize::new(0),
    })
}

/// The client of the one server `url` names (standalone mode).
pub(super) fn direct_client(
    config: &RedisConfig,
    certificates: Option<TlsCertificates>,
) -> Result<redis::Client, StoreError> {
    let info = config
        .url
        .as_str()
        .into_connection_info()
        .map_err(|e| unusable("url", &e))?;
    match certificates {
        Some(certs) if config.url.starts_with("rediss:") => {
            redis::Client::build_with_tls(info, certs)
        }
        _ => redis::Client::open(info),
    }
    .map_err(|e| unusable("url", &e))
}

/// The pool of connections to `source`, none opened yet.
pub(super) fn pool(
    source: Source,
    config: &RedisConfig,
    timeouts: &Timeouts,
) -> Result<managed::Pool<Connector>, StoreError> {
    let connector = Connector {
        source,
        config: AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeouts.connect))
            .set_response_timeout(Some(timeouts.command)),
    };
    // No recycle timeout: recycling reads a flag.
    managed::Pool::builder(connector)
        .max_size(config.pool_size)
        .wait_timeout(Some(timeouts.wait))
        // Opening includes the handshake after the TCP connect (and, in
        // Sentinel mode, asking a Sentinel first).
        .create_timeout(Some(timeouts.connect + timeouts.command))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|_| invalid("redis pool could not be built"))
}
