//! A primary with a replica watched by three Sentinels, and its failover.

use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::process::{Guarded, Scratch, ask, common_args, free_port_pairs, info_field, wait_until};

/// The name the Sentinels know their primary by.
pub const SENTINEL_MASTER: &str = "passport";

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
    fn sentinel_fails_over() {
        let mut topology = RedisSentinel::start();
        assert_eq!(topology.sentinel_urls().len(), 3);
        assert!(!topology.failover_finished());
        topology.kill_primary();
        topology.wait_failover();
    }
}
