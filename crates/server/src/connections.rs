//! Caps on open connections: per client address
//! (`server.max_connections_per_ip`) and in all (`server.max_connections`).
//!
//! actix-web's own `max_connections` is per worker and, once reached, stops
//! accepting: one address holding its connections open then locks everybody
//! out. Here every accepted connection is counted in one map shared by the
//! workers (`HttpServer::on_connect`), and a guard kept in the connection's
//! data gives its place back when actix drops the connection. One over a cap
//! is answered at once with the contract's 429/4201 (written straight to the
//! fresh socket, whose send buffer is empty) and shut down both ways, so the
//! listener goes on accepting and serving everybody else.
//!
//! After the shutdown, a byte the client still sends makes the kernel reset
//! the connection, and actix drops it; a request already read in full before
//! that is answered 429 by [`crate::observe`], never by a handler.
//!
//! The per-address count takes an IPv6 client's /64, as the per-IP rate
//! limits do; the socket peer is counted (a proxy's `X-Forwarded-For` is not
//! known yet when a connection opens), and trusted proxies are counted only
//! in the total.

use std::any::Any;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, Shutdown};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;
use verify::{Answer, Lang};

use crate::client_ip::TrustedProxies;

/// Descriptors kept back from the derived total for the listeners, Redis,
/// the SMS gateway, the log and the runtime's own (on top of the Redis pool).
pub(crate) const RESERVED_DESCRIPTORS: usize = 64;

/// The derived total never goes below this, however low the descriptor limit.
pub(crate) const MIN_DERIVED_TOTAL: usize = 32;

/// The descriptor limit assumed when `/proc/self/limits` cannot be read.
const FALLBACK_DESCRIPTOR_LIMIT: usize = 1024;

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Its address already holds `server.max_connections_per_ip`.
    PerIp,
    /// `server.max_connections` are open.
    Total,
}

/// Marks a connection that was refused: a request read from it anyway is
/// answered 429 before any handler runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refused;

/// The counts, and the limits they are held to.
#[derive(Debug)]
pub(crate) struct ConnectionCaps {
    per_ip: usize,
    total: usize,
    proxies: TrustedProxies,
    counts: Mutex<Counts>,
    refused_per_ip: AtomicU64,
    refused_total: AtomicU64,
    /// The whole answer written to a refused connection.
    refusal: Vec<u8>,
}

#[derive(Debug, Default)]
struct Counts {
    open: usize,
    by_ip: HashMap<IpAddr, usize>,
}

/// A connection's place under the caps, given back when it is dropped.
#[derive(Debug)]
struct Admitted {
    caps: Arc<ConnectionCaps>,
    /// `None` for a trusted proxy, counted in the total only.
    ip: Option<IpAddr>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut counts = self.caps.lock();
        counts.open = counts.open.saturating_sub(1);
        if let Some(ip) = self.ip
            && let Some(n) = counts.by_ip.get_mut(&ip)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.by_ip.remove(&ip);
            }
        }
    }
}

impl ConnectionCaps {
    /// At most `per_ip` connections per client address (trusted proxies
    /// exempt) and `total` in all; refusals answered in `lang`, with HTTP 200
    /// when `errors_as_200`.
    pub(crate) fn new(
        per_ip: usize,
        total: usize,
        proxies: TrustedProxies,
        lang: Lang,
        errors_as_200: bool,
    ) -> Self {
        Self {
            per_ip,
            total,
            proxies,
            counts: Mutex::default(),
            refused_per_ip: AtomicU64::new(0),
            refused_total: AtomicU64::new(0),
            refusal: refusal_bytes(lang, errors_as_200),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while counting leaves the counts usable.
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a connection from `peer`, or says which cap it is over.
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Admitted, Refusal> {
        let ip = (!self.proxies.trusts(peer)).then(|| cap_key(peer));
        let mut counts = self.lock();
        if counts.open >= self.total {
            return Err(Refusal::Total);
        }
        if let Some(ip) = ip {
            if counts.by_ip.get(&ip).copied().unwrap_or(0) >= self.per_ip {
                return Err(Refusal::PerIp);
            }
            *counts.by_ip.entry(ip).or_insert(0) += 1;
        }
        counts.open += 1;
        drop(counts);
        Ok(Admitted {
            caps: Arc::clone(self),
            ip,
        })
    }

    /// The `on_connect` callback: counts the connection, or refuses it.
    pub(crate) fn on_connect(self: &Arc<Self>, io: &dyn Any, data: &mut Extensions) {
        // Only plain TCP is served; anything else is not ours to count.
        let Some(stream) = io.downcast_ref::<TcpStream>() else {
            return;
        };
        // No peer: the connection is already gone, and actix will see it.
        let Ok(peer) = stream.peer_addr() else {
            return;
        };
        match self.admit(peer.ip()) {
            Ok(admitted) => {
                data.insert(admitted);
            }
            Err(why) => {
                let counter = match why {
                    Refusal::PerIp => &self.refused_per_ip,
                    Refusal::Total => &self.refused_total,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                data.insert(Refused);
                // Straight to the socket: tokio's `try_write` would refuse
                // until its reactor has seen the socket writable. A fresh
                // socket's send buffer is empty, so the short answer fits;
                // if it does not, the client sees the connection close.
                let socket = socket2::SockRef::from(stream);
                let _ = socket.send(&self.refusal);
                let _ = socket.shutdown(Shutdown::Both);
                tracing::debug!(?why, "connection refused over its cap");
            }
        }
    }

    /// Connections open now (for `/metrics`).
    pub(crate) fn open(&self) -> usize {
        self.lock().open
    }

    /// Connections refused so far: over the per-address cap, over the total.
    pub(crate) fn refused(&self) -> (u64, u64) {
        (
            self.refused_per_ip.load(Ordering::Relaxed),
            self.refused_total.load(Ordering::Relaxed),
        )
    }
}

/// What a client address counts as: an IPv4 address (mapped ones included)
/// itself, an IPv6 address its /64.
fn cap_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// The 429/4201 written to a refused connection, `Connection: close`.
fn refusal_bytes(lang: Lang, errors_as_200: bool) -> Vec<u8> {
    let answer = Answer::RateLimited;
    let body = serde_json::json!({
        "errno": answer.errno().code(),
        "errmsg": answer.text(lang),
    })
    .to_string();
    let status = if errors_as_200 {
        "200 OK"
    } else {
        "429 Too Many Requests"
    };
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         retry-after: 1\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// `server.max_connections` when it is 0: the soft descriptor limit less
/// [`RESERVED_DESCRIPTORS`] and the Redis pool, at least
/// [`MIN_DERIVED_TOTAL`].
pub(crate) fn derived_total(redis_pool: usize) -> usize {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| soft_descriptor_limit(&text))
        .unwrap_or(FALLBACK_DESCRIPTOR_LIMIT);
    limit
        .saturating_sub(RESERVED_DESCRIPTORS + redis_pool)
        .max(MIN_DERIVED_TOTAL)
}

/// The soft "Max open files" of a `/proc/<pid>/limits` text; "unlimited"
/// counts as a million (no real process gets further).
fn soft_descriptor_limit(limits: &str) -> Option<usize> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    match soft {
        "unlimited" => Some(1_000_000),
        n => n.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(per_ip: usize, total: usize, proxies: &[&str]) -> Arc<ConnectionCaps> {
        let proxies = TrustedProxies::new(proxies.iter().map(|p| p.parse().unwrap()).collect());
        Arc::new(ConnectionCaps::new(per_ip, total, proxies, Lang::Zh, false))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn caps_count_per_address_and_in_all_and_give_places_back() {
        let c = caps(2, 3, &["10.0.0.1"]);
        let a1 = c.admit(ip("192.0.2.1")).unwrap();
        let _a2 = c.admit(ip("::ffff:192.0.2.1")).unwrap();
        assert_eq!(c.admit(ip("192.0.2.1")).unwrap_err(), Refusal::PerIp);
        drop(a1);
        let _a3 = c.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(c.open(), 2);
        // A trusted proxy is not held to the per-address cap...
        let _p = c.admit(ip("10.0.0.1")).unwrap();
        // ...but counts in the total.
        assert_eq!(c.admit(ip("10.0.0.1")).unwrap_err(), Refusal::Total);
        assert_eq!(c.admit(ip("192.0.2.9")).unwrap_err(), Refusal::Total);
    }

    #[test]
    fn an_ipv6_client_counts_as_its_64() {
        let c = caps(1, 10, &[]);
        let _a = c.admit(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(
            c.admit(ip("2001:db8:1:2:ffff::9")).unwrap_err(),
            Refusal::PerIp
        );
        assert!(c.admit(ip("2001:db8:1:3::1")).is_ok());
    }

    #[test]
    fn the_map_forgets_addresses_with_nothing_open() {
        let c = caps(4, 10, &[]);
        drop(c.admit(ip("192.0.2.1")).unwrap());
        assert!(c.lock().by_ip.is_empty());
        assert_eq!(c.open(), 0);
    }

    #[test]
    fn the_refusal_is_the_contracts_json() {
        let text = String::from_utf8(refusal_bytes(Lang::En, false)).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 429 "), "{head}");
        assert!(head.contains(&format!("content-length: {}\r\n", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["errno"], Answer::RateLimited.errno().code());
        assert_eq!(json["errmsg"], Answer::RateLimited.text(Lang::En));
        let compat = String::from_utf8(refusal_bytes(Lang::Zh, true)).unwrap();
        assert!(compat.starts_with("HTTP/1.1 200 OK\r\n"));
    }

    #[test]
    fn the_soft_descriptor_limit_is_read() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max processes             63439                63439                processes\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(soft_descriptor_limit(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(soft_descriptor_limit(unlimited), Some(1_000_000));
        assert_eq!(soft_descriptor_limit("nothing here"), None);
        assert_eq!(soft_descriptor_limit("Max open files  junk  1 files"), None);
        assert!(derived_total(16) >= MIN_DERIVED_TOTAL);
    }
}
