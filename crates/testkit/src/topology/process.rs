//! What every topology shares: scratch directories, guarded server processes, free ports,
//! and a few words of RESP to ask a node how it is.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::READY_TIMEOUT;

/// A scratch directory of one topology, removed on drop, or, for a
/// topology kept in a `static`, by a guard process when the test process
/// exits (the same stdin-pipe trick as the servers').
#[derive(Debug)]
pub(super) struct Scratch {
    dir: PathBuf,
    guard: Option<(Child, ChildStdin)>,
}

impl Scratch {
    pub(super) fn new(kind: &str) -> Self {
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

    pub(super) fn path(&self) -> &Path {
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
pub(super) struct Guarded {
    pub(super) port: u16,
    guard: Child,
    /// Closing it (drop, or the test process's exit) kills the server.
    stdin: Option<ChildStdin>,
}

impl Guarded {
    pub(super) fn spawn(port: u16, args: &[String]) -> Self {
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
    pub(super) fn kill(&mut self) {
        if let Some(stdin) = self.stdin.take() {
            drop(stdin);
            let _ = self.guard.wait();
        }
    }

    pub(super) fn is_running(&self) -> bool {
        self.stdin.is_some()
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How the test kit itself talks to a topology's nodes: plain RESP on
/// their port, or `redis-cli --tls` trusting the topology's CAs (a node
/// started with `--port 0` has no plain port).
#[derive(Debug, Clone)]
pub(super) enum Wire {
    Plain,
    Tls { ca: PathBuf },
}

impl Wire {
    /// `redis-cli`, with the TLS options when the nodes speak TLS.
    pub(super) fn cli(&self) -> Command {
        let mut cli = Command::new("redis-cli");
        if let Self::Tls { ca } = self {
            cli.args(["--tls", "--cacert"]).arg(ca);
        }
        cli.stdin(Stdio::null());
        cli
    }

    /// [`ask`] over this wire. Through `redis-cli`, a reply comes as
    /// `redis-cli` prints it to a pipe: a bulk string's text, a simple
    /// string without its `+`, an array one element a line.
    pub(super) fn ask(&self, port: u16, args: &[&str]) -> Option<String> {
        if let Self::Plain = self {
            return ask(port, args);
        }
        let out = self
            .cli()
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(args)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).trim_end().to_owned();
        (out.status.success() && !text.is_empty()).then_some(text)
    }

    /// Whether the node on `port` answers `PING`.
    pub(super) fn pings(&self, port: u16) -> bool {
        self.ask(port, &["PING"])
            .is_some_and(|r| r.trim_start_matches('+') == "PONG")
    }
}

/// Sends one command over plain RESP and returns the reply's text: a bulk
/// string's contents, a simple string or an error line. Enough for `INFO`,
/// `CLUSTER INFO`, `CLUSTER NODES`, `CLUSTER MYID` and `PING`.
pub(crate) fn ask(port: u16, args: &[&str]) -> Option<String> {
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
pub(super) fn info_field(text: &str, field: &str) -> Option<String> {
    text.lines().find_map(|line| {
        line.strip_prefix(field)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(|v| v.trim().to_owned())
    })
}

/// Polls `ready` until it holds or `READY_TIMEOUT` passes.
pub(super) fn wait_until(what: &str, ready: impl FnMut() -> bool) {
    assert!(ready_in_time(ready), "timed out waiting for {what}");
}

/// Polls `ready` until it holds (true) or `READY_TIMEOUT` passes (false).
pub(super) fn ready_in_time(mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + READY_TIMEOUT;
    while !ready() {
        if Instant::now() >= deadline {
            return false;
        }
        // Polling with a deadline: each turn re-checks the real state.
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// `count` ports below 55536 whose port + 10000 (a Cluster bus port) is
/// free too, all distinct.
pub(super) fn free_port_pairs(count: usize) -> Vec<u16> {
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

pub(super) fn common_args(port: u16, dir: &Path) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
