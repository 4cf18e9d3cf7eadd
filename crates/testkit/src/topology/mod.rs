//! Redis topologies for tests: a TLS server, a Cluster of three primaries
//! and three replicas, and a primary with a replica watched by three
//! Sentinels; the Cluster and the Sentinel topology also TLS-only
//! (`start_tls`, `shared_tls`), their nodes showing one another
//! certificates made for both server and client use.
//!
//! Every process runs under a small shell guard whose stdin is a pipe held
//! by the test process: when the test process exits, for whatever reason,
//! the pipe closes, the guard reads end-of-file and kills its server. So a
//! topology kept in a `static` (which is never dropped) still goes away with
//! the test binary.

mod cluster;
mod process;
mod sentinel;
mod tls;

use std::time::Duration;

pub use cluster::{KilledPrimary, RedisCluster};
pub(crate) use process::ask;
pub use sentinel::{RedisSentinel, SENTINEL_MASTER};
pub use tls::TlsRedisServer;

/// How long a topology may take to come up (or a failover to finish).
const READY_TIMEOUT: Duration = Duration::from_secs(60);
