//! A Redis Cluster of three primaries and three replicas, plain or TLS, and its failover.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::process::{
    Guarded, Scratch, Wire, common_args, free_port_pairs, info_field, ready_in_time, wait_until,
};
use super::tls::{make_certificates, tls_args};

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
    wire: Wire,
    scratch: Scratch,
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

    /// The TLS Cluster shared by every test of this test binary (started
    /// on first use), as [`RedisCluster::start_tls`] starts it.
    pub fn shared_tls() -> &'static RedisCluster {
        static SHARED: OnceLock<RedisCluster> = OnceLock::new();
        SHARED.get_or_init(RedisCluster::start_tls)
    }

    /// Starts six nodes, joins them with `redis-cli --cluster create` and
    /// waits until every node says `cluster_state:ok` and every replica's
    /// link to its primary is up.
    ///
    /// # Panics
    /// When the nodes do not start on three fresh tries, or the Cluster does not
    /// form in time.
    pub fn start() -> Self {
        Self::launch_retrying(false)
    }

    /// Like [`start`](Self::start), but every node speaks TLS only (`--port 0`),
    /// on its client port, its Cluster bus and its replication link, with
    /// a certificate for `127.0.0.1` signed by a CA made for it
    /// ([`ca_file`](Self::ca_file)).
    ///
    /// # Panics
    /// When `openssl` or a TLS-capable `redis-server` is missing, or the
    /// Cluster does not form in time.
    pub fn start_tls() -> Self {
        Self::launch_retrying(true)
    }

    /// Launches the Cluster, on fresh ports and processes up to three times: beside a test
    /// binary's other servers, a port (or its bus port) found free can be taken before a node
    /// binds it, and then that node never answers.
    fn launch_retrying(tls: bool) -> Self {
        (0..3)
            .find_map(|_| Self::launch(tls))
            .expect("timed out three times waiting for a cluster node to answer PING")
    }

    fn launch(tls: bool) -> Option<Self> {
        let scratch = Scratch::new(if tls { "tls-cluster" } else { "cluster" });
        let dir = scratch.path();
        let wire = if tls {
            make_certificates(dir);
            Wire::Tls {
                ca: dir.join("ca.crt"),
            }
        } else {
            Wire::Plain
        };
        let ports = free_port_pairs(6);
        let mut nodes = Vec::with_capacity(6);
        for &port in &ports {
            let mut args = if tls {
                let mut args = tls_args(port, dir, "server", "ca.crt");
                // The bus (TLS port + 10000) and the replicas' links too.
                for flag in ["--tls-cluster", "--tls-replication"] {
                    args.extend([flag.to_owned(), "yes".to_owned()]);
                }
                args
            } else {
                common_args(port, dir)
            };
            for (k, v) in [
                ("--cluster-enabled", "yes".to_owned()),
                ("--cluster-node-timeout", "2000".to_owned()),
                (
                    "--cluster-config-file",
                    dir.join(format!("nodes-{port}.conf")).display().to_string(),
                ),
            ] {
                args.push(k.to_owned());
                args.push(v);
            }
            nodes.push(Guarded::spawn(port, &args));
        }
        if !ports.iter().all(|&port| ready_in_time(|| wire.pings(port))) {
            return None;
        }
        let out = wire
            .cli()
            .arg("--cluster")
            .arg("create")
            .args(ports.iter().map(|p| format!("127.0.0.1:{p}")))
            .args(["--cluster-replicas", "1", "--cluster-yes"])
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
                let id = wire
                    .ask(server.port, &["CLUSTER", "MYID"])
                    .unwrap_or_default();
                ClusterNode { server, id }
            })
            .collect();
        let cluster = Self {
            nodes,
            wire,
            scratch,
        };
        cluster.wait_healthy("the Cluster to form");
        Some(cluster)
    }

    /// Seed URLs of every node (`redis://127.0.0.1:<port>`, or
    /// `rediss://` for a TLS Cluster).
    pub fn urls(&self) -> Vec<String> {
        let scheme = match self.wire {
            Wire::Plain => "redis",
            Wire::Tls { .. } => "rediss",
        };
        self.nodes
            .iter()
            .map(|n| format!("{scheme}://127.0.0.1:{}", n.server.port))
            .collect()
    }

    /// A TLS Cluster's CA (PEM): it signed every node's certificate.
    /// `None` for a plain Cluster.
    pub fn ca_file(&self) -> Option<PathBuf> {
        self.tls_file("ca.crt")
    }

    /// A TLS Cluster's unrelated CA (PEM): it signed no node's
    /// certificate, so a client trusting only it must refuse every node.
    /// `None` for a plain Cluster.
    pub fn wrong_ca_file(&self) -> Option<PathBuf> {
        self.tls_file("wrong-ca.crt")
    }

    fn tls_file(&self, name: &str) -> Option<PathBuf> {
        matches!(self.wire, Wire::Tls { .. }).then(|| self.scratch.path().join(name))
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
                let Some(info) = self.wire.ask(n.server.port, &["CLUSTER", "INFO"]) else {
                    return false;
                };
                if info_field(&info, "cluster_state").as_deref() != Some("ok") {
                    return false;
                }
                let Some(repl) = self.wire.ask(n.server.port, &["INFO", "replication"]) else {
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
        primary_of_slot_seen_by(&self.wire, self.live().next()?.server.port, slot)
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
                self.wire
                    .ask(p, &["INFO", "replication"])
                    .and_then(|r| info_field(&r, "role"))
                    .as_deref()
                    == Some("master")
            })
            .expect("a running primary");
        self.kill_port(port)
    }

    fn kill_port(&mut self, port: u16) -> KilledPrimary {
        let text = self
            .wire
            .ask(port, &["CLUSTER", "NODES"])
            .unwrap_or_default();
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
            let marked = self.wire.ask(port, &["CLUSTER", "NODES"]).is_some_and(|t| {
                t.lines().any(|l| {
                    let mut f = l.split_whitespace();
                    f.next() == Some(killed.node_id.as_str())
                        && f.nth(1).is_some_and(|flags| flags.contains("fail"))
                })
            });
            let ok = self
                .wire
                .ask(port, &["CLUSTER", "INFO"])
                .and_then(|i| info_field(&i, "cluster_state"))
                .as_deref()
                == Some("ok");
            let moved = killed.slots.iter().all(|&(lo, _)| {
                primary_of_slot_seen_by(&self.wire, port, lo).is_some_and(|p| p != killed.port)
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
fn primary_of_slot_seen_by(wire: &Wire, port: u16, slot: u16) -> Option<u16> {
    let text = wire.ask(port, &["CLUSTER", "NODES"])?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn tls_cluster_forms_and_speaks_only_tls_with_its_ca() {
        let cluster = RedisCluster::start_tls();
        let ports = cluster.ports();
        assert_eq!(ports.len(), 6);
        assert!(cluster.urls().iter().all(|u| u.starts_with("rediss://")));
        let wrong = Wire::Tls {
            ca: cluster
                .wrong_ca_file()
                .expect("a TLS Cluster has a wrong CA"),
        };
        assert!(cluster.ca_file().is_some_and(|f| f.is_file()));
        let mut linked_replicas = 0;
        for &port in &ports {
            assert!(cluster.wire.pings(port), "{port} with the CA");
            assert!(!wrong.pings(port), "{port} with another CA");
            assert!(!Wire::Plain.pings(port), "{port} in plain text");
            let repl = cluster.wire.ask(port, &["INFO", "replication"]);
            if repl
                .as_deref()
                .and_then(|r| info_field(r, "master_link_status"))
                .as_deref()
                == Some("up")
            {
                linked_replicas += 1;
            }
        }
        assert_eq!(linked_replicas, 3, "a replica per primary, over TLS");
        // The slot map names the TLS ports: a client following it stays on TLS.
        assert!(
            cluster
                .primary_of_slot(0)
                .is_some_and(|p| ports.contains(&p))
        );
    }
}
