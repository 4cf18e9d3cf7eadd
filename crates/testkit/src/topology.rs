//! Redis topologies for tests: a TLS server, a Cluster of three primaries
//! and three replicas, and a primary with a replica watched by three
//! Sentinels.
//!
//! Every process runs under a small shell guard whose stdin is a pipe held
//! by the test process: when the test process exits, for whatever reason,
//! the pipe closes, the guard reads end-of-file and kills its server. So a
//! topology kept in a `static` (which is never dropped) still goes away with
//! the test binary.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a topology may take to come up (or a failover to finish).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The name the Sentinels know their primary by.
pub const SENTINEL_MASTER: &str = "passport";

/// A scratch directory of one topology, removed on drop, or, for a
/// topology kept in a `static`, by a guard process when the test process
/// exits (the same stdin-pipe trick as the servers').
#[derive(Debug)]
struct Scratch {
    dir: PathBuf,
    guard: Option<(Child, ChildStdin)>,
}

impl Scratch {
    fn new(kind: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "passport-testkit-{kind}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        // `sleep` lets the servers' guards kill their servers first.
        let guard = Command::new("sh")
            .arg("-c")
            .arg(r#"read line; sleep 1; rm -rf "$1""#)
            .arg("sh")
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
            .and_then(|mut child| {
                let stdin = child.stdin.take()?;
                Some((child, stdin))
            });
        Self { dir, guard }
    }

    fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Dropped in the process: the servers are gone already (fields drop
        // in order, the scratch last), so no need for the guard's pause.
        if let Some((mut child, _stdin)) = self.guard.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One `redis-server` (or Sentinel) under its shell guard.
#[derive(Debug)]
struct Guarded {
    port: u16,
    guard: Child,
    /// Closing it (drop, or the test process's exit) kills the server.
    stdin: Option<ChildStdin>,
}

impl Guarded {
    fn spawn(port: u16, args: &[String]) -> Self {
        // `wait` after `kill` so the guard exits only once the server has.
        let script =
            r#"redis-server "$@" & pid=$!; read line; kill -9 $pid 2>/dev/null; wait $pid"#;
        let mut guard = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run sh for redis-server: {e}"));
        let stdin = guard.stdin.take();
        Self { port, guard, stdin }
    }

    /// Kills the server at once (SIGKILL: a crash, no goodbye to peers).
    fn kill(&mut self) {
        if let Some(stdin) = self.stdin.take() {
            drop(stdin);
            let _ = self.guard.wait();
        }
    }

    fn is_running(&self) -> bool {
        self.stdin.is_some()
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends one command over plain RESP and returns the reply's text: a bulk
/// string's contents, a simple string or an error line. Enough for `INFO`,
/// `CLUSTER INFO`, `CLUSTER NODES`, `CLUSTER MYID` and `PING`.
fn ask(port: u16, args: &[&str]) -> Option<String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(300)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut request = format!("*{}\r\n", args.len());
    for a in args {
        request.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(request.as_bytes()).ok()?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        reply.extend_from_slice(&buf[..n]);
        if let Some(text) = complete_reply(&reply) {
            return Some(text);
        }
    }
}

/// The text of `reply` once it is complete (simple, error or bulk string).
fn complete_reply(reply: &[u8]) -> Option<String> {
    let line_end = reply.windows(2).position(|w| w == b"\r\n")?;
    let head = std::str::from_utf8(&reply[..line_end]).ok()?;
    match head.as_bytes().first()? {
        b'+' | b'-' | b':' => Some(head.to_owned()),
        b'$' => {
            let len: usize = head[1..].parse().ok()?;
            let body = reply.get(line_end + 2..line_end + 2 + len)?;
            Some(String::from_utf8_lossy(body).into_owned())
        }
        _ => Some(String::from_utf8_lossy(reply).into_owned()),
    }
}

/// The value of `field` in an `INFO`-style `field:value` text.
fn info_field(text: &str, field: &str) -> Option<String> {
    text.lines().find_map(|line| {
        line.strip_prefix(field)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(|v| v.trim().to_owned())
    })
}

/// Polls `ready` until it holds or `READY_TIMEOUT` passes.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + READY_TIMEOUT;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        // Polling with a deadline: each turn re-checks the real state.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `count` ports below 55536 whose port + 10000 (a Cluster bus port) is
/// free too, all distinct.
fn free_port_pairs(count: usize) -> Vec<u16> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let seed = u64::from(std::process::id()) * 7919 + NEXT.fetch_add(1, Ordering::Relaxed) * 101;
    let mut ports = Vec::with_capacity(count);
    let mut candidate = 20_000 + (seed % 25_000) as u16;
    while ports.len() < count {
        candidate = if candidate >= 45_000 {
            20_000
        } else {
            candidate + 1
        };
        let free = |p: u16| TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok();
        if free(candidate) && free(candidate + 10_000) {
            ports.push(candidate);
        }
    }
    ports
}

fn common_args(port: u16, dir: &Path) -> Vec<String> {
    [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
        "--daemonize",
        "no",
        "--dir",
        &dir.display().to_string(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// Runs `openssl` with `args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl not runnable ({e}); install it"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed test CA `<name>.crt` / `<name>.key` in `dir`.
fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=Passport test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// A `redis-server` that speaks only TLS, with a certificate for
/// `127.0.0.1` and `localhost` signed by a CA made for it; killed on drop.
#[derive(Debug)]
pub struct TlsRedisServer {
    server: Guarded,
    scratch: Scratch,
}

impl TlsRedisServer {
    /// Makes a CA, a server certificate and a second, unrelated CA, and
    /// starts the server on a free port.
    ///
    /// # Panics
    /// When `openssl` or a TLS-capable `redis-server` is missing, or the
    /// server does not come up.
    pub fn start() -> Self {
        let scratch = Scratch::new("tls");
        let dir = scratch.path();
        make_ca(dir, "ca");
        make_ca(dir, "wrong-ca");
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        );
        std::fs::write(
            dir.join("server.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .expect("write server.ext");
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        );
        let port = free_port_pairs(1)[0];
        let mut args = common_args(port, dir);
        // `--port 0` after the common `--port`: the last one wins, so only
        // the TLS port listens.
        for (k, v) in [
            ("--port", "0".to_owned()),
            ("--tls-port", port.to_string()),
            (
                "--tls-cert-file",
                dir.join("server.crt").display().to_string(),
            ),
            (
                "--tls-key-file",
                dir.join("server.key").display().to_string(),
            ),
            (
                "--tls-ca-cert-file",
                dir.join("ca.crt").display().to_string(),
            ),
            ("--tls-auth-clients", "no".to_owned()),
        ] {
            args.push(k.to_owned());
            args.push(v);
        }
        let server = Guarded::spawn(port, &args);
        let ca = dir.join("ca.crt");
        wait_until("the TLS redis-server", || {
            Command::new("redis-cli")
                .args(["--tls", "--cacert"])
                .arg(&ca)
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "PING"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "PONG")
                .unwrap_or(false)
        });
        Self { server, scratch }
    }

    /// `rediss://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.server.port)
    }

    /// The TLS port.
    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// The PEM file of the CA that signed the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.scratch.path().join("ca.crt")
    }

    /// The PEM file of a CA that did not sign it: a client trusting only
    /// this one must refuse the server.
    pub fn wrong_ca_file(&self) -> PathBuf {
        self.scratch.path().join("wrong-ca.crt")
    }
}

/// One node of a [`RedisCluster`].
#[derive(Debug)]
struct ClusterNode {
    server: Guarded,
    id: String,
}

/// A Redis Cluster of three primaries, each with one replica, on loopback;
/// killed on drop (or when the test process exits).
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<ClusterNode>,
    _scratch: Scratch,
}

/// A primary [`RedisCluster::kill_primary`] killed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KilledPrimary {
    /// Its cluster node id.
    pub node_id: String,
    /// Its port.
    pub port: u16,
    /// The slot ranges it served, inclusive.
    pub slots: Vec<(u16, u16)>,
}

impl RedisCluster {
    /// The Cluster shared by every test of this test binary (started on
    /// first use). Tests that kill nodes start their own with
    /// [`RedisCluster::start`].
    pub fn shared() -> &'static RedisCluster {
        static SHARED: OnceLock<RedisCluster> = OnceLock::new();
        SHARED.get_or_init(RedisCluster::start)
    }

    /// Starts six nodes, joins them with `redis-cli --cluster create` and
    /// waits until every node says `cluster_state:ok` and every replica's
    /// link to its primary is up.
    ///
    /// # Panics
    /// When the nodes do not start or the Cluster does not form in time.
    pub fn start() -> Self {
        let scratch = Scratch::new("cluster");
        let ports = free_port_pairs(6);
        let mut nodes = Vec::with_capacity(6);
        for &port in &ports {
            let mut args = common_args(port, scratch.path());
            for (k, v) in [
                ("--cluster-enabled", "yes".to_owned()),
                ("--cluster-node-timeout", "2000".to_owned()),
                (
                    "--cluster-config-file",
                    scratch
                        .path()
                        .join(format!("nodes-{port}.conf"))
                        .display()
                        .to_string(),
                ),
            ] {
                args.push(k.to_owned());
                args.push(v);
            }
            nodes.push(Guarded::spawn(port, &args));
        }
        for &port in &ports {
            wait_until("a cluster node to answer PING", || {
                ask(port, &["PING"]).as_deref() == Some("+PONG")
            });
        }
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(ports.iter().map(|p| format!("127.0.0.1:{p}")))
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("redis-cli not runnable: {e}"));
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let nodes = nodes
            .into_iter()
            .map(|server| {
                let id = ask(server.port, &["CLUSTER", "MYID"]).unwrap_or_default();
                ClusterNode { server, id }
            })
            .collect();
        let cluster = Self {
            nodes,
            _scratch: scratch,
        };
        cluster.wait_healthy("the Cluster to form");
        cluster
    }

    /// Seed URLs of every node (`redis://127.0.0.1:<port>`).
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}", n.server.port))
            .collect()
    }

    /// Ports of the nodes still running.
    pub fn ports(&self) -> Vec<u16> {
        self.live().map(|n| n.server.port).collect()
    }

    fn live(&self) -> impl Iterator<Item = &ClusterNode> {
        self.nodes.iter().filter(|n| n.server.is_running())
    }

    /// Waits until every running node says `cluster_state:ok` and every
    /// running replica's link is up.
    fn wait_healthy(&self, what: &str) {
        wait_until(what, || {
            self.live().all(|n| {
                let Some(info) = ask(n.server.port, &["CLUSTER", "INFO"]) else {
                    return false;
                };
                if info_field(&info, "cluster_state").as_deref() != Some("ok") {
                    return false;
                }
                let Some(repl) = ask(n.server.port, &["INFO", "replication"]) else {
                    return false;
                };
                match info_field(&repl, "role").as_deref() {
                    Some("master") => true,
                    Some("slave") => {
                        info_field(&repl, "master_link_status").as_deref() == Some("up")
                    }
                    _ => false,
                }
            })
        });
    }

    /// The port of the primary serving `slot`, as a running node sees it.
    pub fn primary_of_slot(&self, slot: u16) -> Option<u16> {
        primary_of_slot_seen_by(self.live().next()?.server.port, slot)
    }

    /// Kills (SIGKILL) the running primary serving `slot` and returns what it
    /// served; its replica takes over after the node timeout (2 s).
    ///
    /// # Panics
    /// When no running primary serves `slot`.
    pub fn kill_primary_of_slot(&mut self, slot: u16) -> KilledPrimary {
        let port = self
            .primary_of_slot(slot)
            .unwrap_or_else(|| panic!("no primary serves slot {slot}"));
        self.kill_port(port)
    }

    /// Kills (SIGKILL) one running primary and returns what it served.
    ///
    /// # Panics
    /// When no primary is running.
    pub fn kill_primary(&mut self) -> KilledPrimary {
        let port = self
            .live()
            .map(|n| n.server.port)
            .find(|&p| {
                ask(p, &["INFO", "replication"])
                    .and_then(|r| info_field(&r, "role"))
                    .as_deref()
                    == Some("master")
            })
            .expect("a running primary");
        self.kill_port(port)
    }

    fn kill_port(&mut self, port: u16) -> KilledPrimary {
        let text = ask(port, &["CLUSTER", "NODES"]).unwrap_or_default();
        let slots = text
            .lines()
            .find(|l| l.contains("myself"))
            .map(|line| {
                line.split_whitespace()
                    .skip(8)
                    .filter_map(|r| {
                        let (lo, hi) = r.split_once('-').unwrap_or((r, r));
                        Some((lo.parse().ok()?, hi.parse().ok()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let node = self
            .nodes
            .iter_mut()
            .find(|n| n.server.port == port)
            .expect("a node on that port");
        node.server.kill();
        KilledPrimary {
            node_id: node.id.clone(),
            port,
            slots,
        }
    }

    /// Whether the failover after `killed` has finished: every running node
    /// marks it failed, names a running primary for each of its slot ranges
    /// and says `cluster_state:ok`.
    pub fn failover_finished(&self, killed: &KilledPrimary) -> bool {
        self.live().all(|n| {
            let port = n.server.port;
            let marked = ask(port, &["CLUSTER", "NODES"]).is_some_and(|t| {
                t.lines().any(|l| {
                    let mut f = l.split_whitespace();
                    f.next() == Some(killed.node_id.as_str())
                        && f.nth(1).is_some_and(|flags| flags.contains("fail"))
                })
            });
            let ok = ask(port, &["CLUSTER", "INFO"])
                .and_then(|i| info_field(&i, "cluster_state"))
                .as_deref()
                == Some("ok");
            let moved = killed.slots.iter().all(|&(lo, _)| {
                primary_of_slot_seen_by(port, lo).is_some_and(|p| p != killed.port)
            });
            marked && ok && moved
        })
    }

    /// Waits (bounded) until [`failover_finished`](Self::failover_finished).
    ///
    /// # Panics
    /// When it has not finished within a minute.
    pub fn wait_failover(&self, killed: &KilledPrimary) {
        wait_until("the Cluster failover", || self.failover_finished(killed));
    }
}

/// The port of the primary serving `slot`, as the node on `port` sees it
/// (a primary marked failed does not count).
fn primary_of_slot_seen_by(port: u16, slot: u16) -> Option<u16> {
    let text = ask(port, &["CLUSTER", "NODES"])?;
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if !f.get(2)?.contains("master") || f.get(2)?.contains("fail") {
            return None;
        }
        let serves = f[8..].iter().any(|r| {
            let (lo, hi) = r.split_once('-').unwrap_or((r, r));
            matches!((lo.parse::<u16>(), hi.parse::<u16>()), (Ok(lo), Ok(hi)) if lo <= slot && slot <= hi)
        });
        let addr = f.get(1)?.split('@').next()?;
        serves.then(|| addr.rsplit(':').next()?.parse().ok()).flatten()
    })
}

/// A primary, one replica and three Sentinels watching them (quorum 2),
/// on loopback; killed on drop (or when the test process exits).
#[derive(Debug)]
pub struct RedisSentinel {
    primary: Guarded,
    replica: Guarded,
    sentinels: Vec<Guarded>,
    _scratch: Scratch,
}

impl RedisSentinel {
    /// The topology shared by every test of this test binary (started on
    /// first use). Tests that kill the primary start their own.
    pub fn shared() -> &'static RedisSentinel {
        static SHARED: OnceLock<RedisSentinel> = OnceLock::new();
        SHARED.get_or_init(RedisSentinel::start)
    }

    /// Starts the primary, the replica and the Sentinels and waits until the
    /// replica's link is up and each Sentinel knows the primary, the replica
    /// and the two other Sentinels.
    ///
    /// # Panics
    /// When something does not start or the Sentinels do not agree in time.
    pub fn start() -> Self {
        let scratch = Scratch::new("sentinel");
        let ports = free_port_pairs(5);
        let (p, r) = (ports[0], ports[1]);
        let primary = Guarded::spawn(p, &common_args(p, scratch.path()));
        let mut replica_args = common_args(r, scratch.path());
        replica_args.extend([
            "--replicaof".to_owned(),
            "127.0.0.1".to_owned(),
            p.to_string(),
        ]);
        let replica = Guarded::spawn(r, &replica_args);
        wait_until("the Sentinel replica's link", || {
            ask(r, &["INFO", "replication"])
                .and_then(|t| info_field(&t, "master_link_status"))
                .as_deref()
                == Some("up")
        });
        let sentinels = ports[2..]
            .iter()
            .map(|&s| {
                // Sentinel rewrites its own file: one per Sentinel.
                let conf = scratch.path().join(format!("sentinel-{s}.conf"));
                std::fs::write(
                    &conf,
                    format!(
                        "port {s}\nbind 127.0.0.1\nprotected-mode no\ndir {dir}\n\
                         sentinel monitor {m} 127.0.0.1 {p} 2\n\
                         sentinel down-after-milliseconds {m} 2000\n\
                         sentinel failover-timeout {m} 6000\n\
                         sentinel parallel-syncs {m} 1\n",
                        dir = scratch.path().display(),
                        m = SENTINEL_MASTER,
                    ),
                )
                .expect("write sentinel.conf");
                Guarded::spawn(s, &[conf.display().to_string(), "--sentinel".to_owned()])
            })
            .collect();
        let topology = Self {
            primary,
            replica,
            sentinels,
            _scratch: scratch,
        };
        topology.wait_sentinels_agree();
        topology
    }

    fn wait_sentinels_agree(&self) {
        wait_until("the Sentinels to know each other", || {
            self.sentinels.iter().all(|s| {
                let Some(master) = sentinel_master(s.port) else {
                    return false;
                };
                let field = |k: &str| {
                    master
                        .iter()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.as_str())
                };
                field("num-other-sentinels") == Some("2")
                    && field("num-slaves") == Some("1")
                    && field("flags") == Some("master")
            })
        });
    }

    /// Sentinel URLs (`redis://127.0.0.1:<port>`).
    pub fn sentinel_urls(&self) -> Vec<String> {
        self.sentinels
            .iter()
            .map(|s| format!("redis://127.0.0.1:{}", s.port))
            .collect()
    }

    /// The name the Sentinels monitor the primary under.
    pub fn master_name(&self) -> &'static str {
        SENTINEL_MASTER
    }

    /// The port of the first primary (the one [`kill_primary`](Self::kill_primary) kills).
    pub fn primary_port(&self) -> u16 {
        self.primary.port
    }

    /// The port of the first replica.
    pub fn replica_port(&self) -> u16 {
        self.replica.port
    }

    /// Kills (SIGKILL) the first primary; the Sentinels promote the
    /// replica after `down-after-milliseconds` (2 s).
    pub fn kill_primary(&mut self) {
        self.primary.kill();
    }

    /// Whether every Sentinel names the replica as the primary now.
    pub fn failover_finished(&self) -> bool {
        let replica = self.replica.port.to_string();
        self.sentinels.iter().all(|s| {
            sentinel_master(s.port)
                .is_some_and(|m| m.iter().any(|(k, v)| k == "port" && *v == replica))
        }) && ask(self.replica.port, &["INFO", "replication"])
            .and_then(|t| info_field(&t, "role"))
            .as_deref()
            == Some("master")
    }

    /// Waits (bounded) until [`failover_finished`](Self::failover_finished).
    ///
    /// # Panics
    /// When it has not finished within a minute.
    pub fn wait_failover(&self) {
        wait_until("the Sentinel failover", || self.failover_finished());
    }
}

/// `SENTINEL MASTER <name>` as field/value pairs (through `redis-cli`, which
/// prints a flat array one element a line).
fn sentinel_master(port: u16) -> Option<Vec<(String, String)>> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["SENTINEL", "MASTER", SENTINEL_MASTER])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() < 2 {
        return None;
    }
    Some(
        lines
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| (c[0].to_owned(), c[1].to_owned()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_server_answers_with_its_ca_only() {
        let tls = TlsRedisServer::start();
        let ping = |ca: &Path| {
            Command::new("redis-cli")
                .args(["--tls", "--cacert"])
                .arg(ca)
                .args(["-h", "127.0.0.1", "-p", &tls.port().to_string(), "PING"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "PONG")
                .unwrap_or(false)
        };
        assert!(ping(&tls.ca_file()));
        assert!(!ping(&tls.wrong_ca_file()));
        assert!(tls.url().starts_with("rediss://"));
    }

    #[test]
    fn cluster_fails_over() {
        let mut cluster = RedisCluster::start();
        assert_eq!(cluster.ports().len(), 6);
        let killed = cluster.kill_primary_of_slot(0);
        assert!(killed.slots.iter().any(|&(lo, _)| lo == 0), "{killed:?}");
        cluster.wait_failover(&killed);
        assert!(cluster.primary_of_slot(0).is_some_and(|p| p != killed.port));
    }

    #[test]
    fn sentinel_fails_over() {
        let mut topology = RedisSentinel::start();
        assert_eq!(topology.sentinel_urls().len(), 3);
        assert!(!topology.failover_finished());
        topology.kill_primary();
        topology.wait_failover();
    }

    #[test]
    fn guarded_servers_die_with_their_guard() {
        let scratch = Scratch::new("guard");
        let port = free_port_pairs(1)[0];
        let mut server = Guarded::spawn(port, &common_args(port, scratch.path()));
        wait_until("PING", || ask(port, &["PING"]).as_deref() == Some("+PONG"));
        server.kill();
        assert!(ask(port, &["PING"]).is_none());
    }
}
