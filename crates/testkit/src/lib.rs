//! Test support shared by every Passport crate: a private `redis-server` on a
//! free port that a test can stop and restart, and the larger topologies
//! the Redis store runs against: a TLS server ([`TlsRedisServer`]), a
//! Cluster ([`RedisCluster`]) and a Sentinel-watched primary
//! ([`RedisSentinel`]); and a fake SMS gateway ([`FakeGateway`]), an HTTP
//! server on loopback that records what it is sent.
//!
//! ```no_run
//! let mut redis = passport_testkit::RedisServer::start();
//! let url = redis.url();
//! redis.stop(); // calls now fail
//! redis.restart(); // same port, empty data
//! # drop(url);
//! ```

mod gateway;
mod topology;

pub use gateway::{Answer, FakeGateway, Request};
pub use topology::{KilledPrimary, RedisCluster, RedisSentinel, SENTINEL_MASTER, TlsRedisServer};

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a freshly started server may take to answer `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A private `redis-server` process on a free loopback port, killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    /// Settings given on the command line beyond the defaults.
    extra: Vec<String>,
}

impl RedisServer {
    /// Starts a server on a free port, retrying when another process takes
    /// the port between our probe and Redis's bind.
    ///
    /// # Panics
    /// When `redis-server` is not installed or will not start.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// [`start`](Self::start) with more settings on the command line, such
    /// as `["--maxmemory", "4mb", "--maxmemory-policy", "noeviction"]`; a
    /// restart keeps them.
    ///
    /// # Panics
    /// When `redis-server` is not installed or will not start with them.
    pub fn start_with(extra: &[&str]) -> Self {
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        let mut last_error = String::new();
        for _ in 0..10 {
            let port = free_port();
            match spawn(port, &extra) {
                Ok(child) => {
                    return Self {
                        port,
                        child: Some(child),
                        extra,
                    };
                }
                Err(e) => last_error = e,
            }
        }
        panic!("could not start redis-server: {last_error}");
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server and waits until it has exited; the port then refuses.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (with no data).
    ///
    /// # Panics
    /// When it will not start.
    pub fn restart(&mut self) {
        self.stop();
        match spawn(self.port, &self.extra) {
            Ok(child) => self.child = Some(child),
            Err(e) => panic!("could not restart redis-server on {}: {e}", self.port),
        }
    }

    /// Sends one command (plain RESP) and returns the reply's text: a bulk
    /// string's contents, a simple string, an integer (`:n`) or an error
    /// line; `None` when the server does not answer. Enough for `INFO`,
    /// `DBSIZE`, `EXISTS` and `PTTL`.
    pub fn command(&self, args: &[&str]) -> Option<String> {
        topology::ask(self.port, args)
    }

    /// Whether the server process is running (not stopped).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A Redis for a test that never stops it: the one named by
/// `PASSPORT_TEST_REDIS_URL` when set, else a private [`RedisServer`].
#[derive(Debug)]
pub struct TestRedis {
    url: String,
    _server: Option<RedisServer>,
}

impl TestRedis {
    /// Uses `PASSPORT_TEST_REDIS_URL` or starts a private server.
    pub fn new() -> Self {
        match std::env::var("PASSPORT_TEST_REDIS_URL") {
            Ok(url) if !url.is_empty() => Self { url, _server: None },
            _ => {
                let server = RedisServer::start();
                Self {
                    url: server.url(),
                    _server: Some(server),
                }
            }
        }
    }

    /// The URL to connect to.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Default for TestRedis {
    fn default() -> Self {
        Self::new()
    }
}

/// A key prefix no other test uses, so tests sharing one Redis never collide.
pub fn unique_prefix(test_name: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("t:{test_name}:{}:{nanos}:{n}:", std::process::id())
}

/// Runs `op(0)`, ..., `op(n - 1)` as `n` tasks released together by a
/// barrier, so they truly race, and collects their results (in completion
/// order). Call it inside a multi-thread tokio runtime for real parallelism.
///
/// # Panics
/// When a task panics.
pub async fn in_parallel<T, F, Fut>(n: usize, op: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let barrier = std::sync::Arc::clone(&barrier);
        let run = op(i);
        tasks.spawn(async move {
            barrier.wait().await;
            run.await
        });
    }
    let mut results = Vec::with_capacity(n);
    while let Some(result) = tasks.join_next().await {
        results.push(result.expect("a parallel task panicked"));
    }
    results
}

/// A port that was free a moment ago (the kernel picks it).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

fn spawn(port: u16, extra: &[String]) -> Result<Child, String> {
    let dir = std::env::temp_dir();
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string()])
        .args(extra)
        .args(["--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .args(["--protected-mode", "no"])
        .arg("--dir")
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            format!("redis-server not runnable ({e}); install it (apt-get install redis-server)")
        })?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("redis-server exited on port {port}: {status}"));
        }
        if answers_ping(port) {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("redis-server on port {port} did not answer PING"));
        }
        // Polling for readiness, not waiting for a guess: each turn re-checks.
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn answers_ping(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    stream.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_stop_restart() {
        let mut redis = RedisServer::start();
        assert!(answers_ping(redis.port()));
        redis.stop();
        assert!(!answers_ping(redis.port()));
        redis.restart();
        assert!(answers_ping(redis.port()));
    }

    #[test]
    fn prefixes_differ() {
        assert_ne!(unique_prefix("a"), unique_prefix("a"));
    }
}
