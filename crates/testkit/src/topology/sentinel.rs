//! A primary with a replica watched by three Sentinels, plain or TLS, and its failover.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::process::{
    Guarded, Scratch, Wire, common_args, free_port_pairs, info_field, ready_in_time, wait_until,
};
use super::tls::{make_split_certificates, tls_args};

/// The name the Sentinels know their primary by.
pub const SENTINEL_MASTER: &str = "passport";

/// A primary, one replica and three Sentinels watching them (quorum 2),
/// on loopback; killed on drop (or when the test process exits).
#[derive(Debug)]
pub struct RedisSentinel {
    primary: Guarded,
    replica: Guarded,
    sentinels: Vec<Guarded>,
    wire: Wire,
    scratch: Scratch,
}

impl RedisSentinel {
    /// The topology shared by every test of this test binary (started on
    /// first use). Tests that kill the primary start their own.
    pub fn shared() -> &'static RedisSentinel {
        static SHARED: OnceLock<RedisSentinel> = OnceLock::new();
        SHARED.get_or_init(RedisSentinel::start)
    }

    /// The TLS topology shared by every test of this test binary (started
    /// on first use), as [`RedisSentinel::start_tls`] starts it.
    pub fn shared_tls() -> &'static RedisSentinel {
        static SHARED: OnceLock<RedisSentinel> = OnceLock::new();
        SHARED.get_or_init(RedisSentinel::start_tls)
    }

    /// Starts the primary, the replica and the Sentinels and waits until the
    /// replica's link is up and each Sentinel knows the primary, the replica
    /// and the two other Sentinels.
    ///
    /// # Panics
    /// When something does not start, or the Sentinels do not agree in time on
    /// three fresh tries.
    pub fn start() -> Self {
        Self::launch_retrying(false)
    }

    /// Like [`start`](Self::start), but everything speaks TLS only (`--port 0`),
    /// the replication link and the Sentinels' own connections too. The
    /// Sentinels show a certificate of one CA
    /// ([`sentinel_ca_file`](Self::sentinel_ca_file)), the primary and the
    /// replica one of another; [`ca_file`](Self::ca_file) trusts both.
    ///
    /// # Panics
    /// When `openssl` or a TLS-capable `redis-server` is missing, or the
    /// Sentinels do not agree in time.
    pub fn start_tls() -> Self {
        Self::launch_retrying(true)
    }

    /// Launches the topology, on fresh ports and processes up to three times: beside a
    /// test binary's other servers, a port found free can be taken before a Sentinel binds it,
    /// and then the Sentinels never meet.
    fn launch_retrying(tls: bool) -> Self {
        (0..3)
            .find_map(|_| Self::launch(tls))
            .expect("timed out three times waiting for the Sentinels to know each other")
    }

    fn launch(tls: bool) -> Option<Self> {
        let scratch = Scratch::new(if tls { "tls-sentinel" } else { "sentinel" });
        let dir = scratch.path();
        let wire = if tls {
            make_split_certificates(dir);
            Wire::Tls {
                ca: dir.join("both-cas.crt"),
            }
        } else {
            Wire::Plain
        };
        let data_node_args = |port: u16| {
            if tls {
                let mut args = tls_args(port, dir, "data", "both-cas.crt");
                args.extend(["--tls-replication".to_owned(), "yes".to_owned()]);
                args
            } else {
                common_args(port, dir)
            }
        };
        let ports = free_port_pairs(5);
        let (p, r) = (ports[0], ports[1]);
        let primary = Guarded::spawn(p, &data_node_args(p));
        let mut replica_args = data_node_args(r);
        replica_args.extend([
            "--replicaof".to_owned(),
            "127.0.0.1".to_owned(),
            p.to_string(),
        ]);
        let replica = Guarded::spawn(r, &replica_args);
        let linked = ready_in_time(|| {
            wire.ask(r, &["INFO", "replication"])
                .and_then(|t| info_field(&t, "master_link_status"))
                .as_deref()
                == Some("up")
        });
        if !linked {
            return None;
        }
        let sentinels = ports[2..]
            .iter()
            .map(|&s| {
                // Sentinel rewrites its own file: one per Sentinel.
                let conf = dir.join(format!("sentinel-{s}.conf"));
                let listen = if tls {
                    // Sentinels show their certificate to the data nodes
                    // and to one another, and trust both CAs.
                    format!(
                        "port 0\ntls-port {s}\ntls-cert-file {d}/server.crt\n\
                         tls-key-file {d}/server.key\ntls-ca-cert-file {d}/both-cas.crt\n\
                         tls-auth-clients optional\ntls-replication yes\n",
                        d = dir.display(),
                    )
                } else {
                    format!("port {s}\n")
                };
                std::fs::write(
                    &conf,
                    format!(
                        "{listen}bind 127.0.0.1\nprotected-mode no\ndir {dir}\n\
                         sentinel monitor {m} 127.0.0.1 {p} 2\n\
                         sentinel down-after-milliseconds {m} 2000\n\
                         sentinel failover-timeout {m} 6000\n\
                         sentinel parallel-syncs {m} 1\n",
                        dir = dir.display(),
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
            wire,
            scratch,
        };
        topology.sentinels_agree_in_time().then_some(topology)
    }

    fn sentinels_agree_in_time(&self) -> bool {
        ready_in_time(|| {
            self.sentinels.iter().all(|s| {
                let Some(master) = sentinel_master(&self.wire, s.port) else {
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
        })
    }

    /// Sentinel URLs (`redis://127.0.0.1:<port>`, or `rediss://` for a
    /// TLS topology).
    pub fn sentinel_urls(&self) -> Vec<String> {
        let scheme = match self.wire {
            Wire::Plain => "redis",
            Wire::Tls { .. } => "rediss",
        };
        self.sentinels
            .iter()
            .map(|s| format!("{scheme}://127.0.0.1:{}", s.port))
            .collect()
    }

    /// A TLS topology's CAs (one PEM file): they signed the certificates of
    /// the Sentinels and of the data nodes. `None` for a plain topology.
    pub fn ca_file(&self) -> Option<PathBuf> {
        self.tls_file("both-cas.crt")
    }

    /// A TLS topology's CA of the Sentinels' certificates only: a client
    /// trusting just it can ask the Sentinels, and must refuse the primary
    /// they name. `None` for a plain topology.
    pub fn sentinel_ca_file(&self) -> Option<PathBuf> {
        self.tls_file("ca.crt")
    }

    /// A TLS topology's unrelated CA: it signed no certificate there, so
    /// a client trusting only it must refuse every Sentinel. `None` for a
    /// plain topology.
    pub fn wrong_ca_file(&self) -> Option<PathBuf> {
        self.tls_file("wrong-ca.crt")
    }

    fn tls_file(&self, name: &str) -> Option<PathBuf> {
        matches!(self.wire, Wire::Tls { .. }).then(|| self.scratch.path().join(name))
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
            sentinel_master(&self.wire, s.port)
                .is_some_and(|m| m.iter().any(|(k, v)| k == "port" && *v == replica))
        }) && self
            .wire
            .ask(self.replica.port, &["INFO", "replication"])
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
fn sentinel_master(wire: &Wire, port: u16) -> Option<Vec<(String, String)>> {
    let out = wire
        .cli()
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["SENTINEL", "MASTER", SENTINEL_MASTER])
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
    fn sentinel_fails_over() {
        let mut topology = RedisSentinel::start();
        assert_eq!(topology.sentinel_urls().len(), 3);
        assert!(!topology.failover_finished());
        topology.kill_primary();
        topology.wait_failover();
    }

    #[test]
    fn tls_sentinels_speak_only_tls_name_the_primary_and_fail_over() {
        let mut topology = RedisSentinel::start_tls();
        assert!(
            topology
                .sentinel_urls()
                .iter()
                .all(|u| u.starts_with("rediss://"))
        );
        let tls = |file: Option<PathBuf>| Wire::Tls {
            ca: file.expect("a TLS topology has its CA files"),
        };
        let (all, sentinels_only, wrong) = (
            tls(topology.ca_file()),
            tls(topology.sentinel_ca_file()),
            tls(topology.wrong_ca_file()),
        );
        let data = [topology.primary_port(), topology.replica_port()];
        for s in &topology.sentinels {
            assert!(all.pings(s.port) && sentinels_only.pings(s.port));
            assert!(!wrong.pings(s.port) && !Wire::Plain.pings(s.port));
            let named = sentinel_master(&all, s.port)
                .and_then(|m| m.into_iter().find(|(k, _)| k == "port"))
                .map(|(_, v)| v);
            assert_eq!(named, Some(topology.primary_port().to_string()));
        }
        for port in data {
            assert!(all.pings(port));
            assert!(!sentinels_only.pings(port), "the data nodes' CA is another");
            assert!(!Wire::Plain.pings(port));
        }
        // The Sentinels reach the replica over TLS to promote it.
        topology.kill_primary();
        topology.wait_failover();
    }
}
