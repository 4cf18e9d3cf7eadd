//! The client's address: the socket peer, or, behind a trusted proxy, the
//! rightmost `X-Forwarded-For` entry that is not a trusted proxy.
//!
//! The leftmost entries are whatever the client chose to send, so they are
//! never believed; each trusted hop appends the address it saw.

use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use actix_web::HttpRequest;
use actix_web::http::header::HeaderMap;
use verify::ClientIp;

/// An IP network (`10.0.0.0/8`, `::1/128`); a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// Why an [`IpNet`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an IP address or CIDR")]
pub(crate) struct IpNetError;

impl FromStr for IpNet {
    type Err = IpNetError;
    fn from_str(s: &str) -> Result<Self, IpNetError> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = normalise(addr.parse::<IpAddr>().map_err(|_| IpNetError)?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= max)
                .ok_or(IpNetError)?,
            Some(_) => return Err(IpNetError),
        };
        Ok(Self { addr, prefix })
    }
}

impl IpNet {
    /// Whether `ip` lies in this network.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, normalise(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 client reaching a dual-stack socket shows up as `::ffff:a.b.c.d`;
/// it is counted (and matched) as the IPv4 address it is.
fn normalise(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// From the configured networks.
    pub(crate) fn new(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }

    /// Whether `ip` is one of the trusted proxies.
    pub(crate) fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client of a request that came from `peer` with `headers`.
    pub(crate) fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = normalise(peer);
        if !self.trusts(peer) {
            return peer;
        }
        // Walk from the right: each entry was appended by the hop after it.
        // The first one that is not ours is the client. A malformed entry
        // ends the walk at the last hop we trust, which is then counted as
        // the client: coarse, but nothing the client wrote is believed.
        let mut client = peer;
        let values: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        for entry in values.iter().rev().flat_map(|v| v.rsplit(',')) {
            let Some(ip) = parse_entry(entry.trim()) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }

    /// The client of `req`, as the rate limits count it.
    pub(crate) fn client_ip(&self, req: &HttpRequest) -> ClientIp {
        let peer = req
            .peer_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        ClientIp(self.client_of(peer, req.headers()))
    }
}

/// `1.2.3.4`, `::1`, and the forms some proxies write: `1.2.3.4:5678`, `[::1]:5678`.
fn parse_entry(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(normalise(ip));
    }
    if let Ok(sock) = s.parse::<std::net::SocketAddr>() {
        return Some(normalise(sock.ip()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn proxies(nets: &[&str]) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_match() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.200.1.1")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.1.2.3")));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        let v6: IpNet = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")));
        assert!(!v6.contains(ip("2001:db9::5")));
        let one: IpNet = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        for bad in [
            "",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "x",
            "::/129",
            "1.2.3.4/8/8",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_forwards() {
        let p = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            p.client_of(ip("203.0.113.9"), &headers(&["1.1.1.1"])),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client_of(ip("127.0.0.1"), &headers(&["1.1.1.1"])),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn trusted_peer_gives_the_rightmost_untrusted_entry() {
        let p = proxies(&["10.0.0.0/8"]);
        let h = headers(&["6.6.6.6, 198.51.100.7, 10.1.1.1"]);
        assert_eq!(p.client_of(ip("10.0.0.2"), &h), ip("198.51.100.7"));
        // Several header lines read as one list, in order.
        let h = headers(&["6.6.6.6", "198.51.100.7:4711, 10.1.1.1"]);
        assert_eq!(p.client_of(ip("10.0.0.2"), &h), ip("198.51.100.7"));
        // No header: the proxy itself.
        assert_eq!(p.client_of(ip("10.0.0.2"), &headers(&[])), ip("10.0.0.2"));
        // Junk ends the walk at the last trusted hop.
        let h = headers(&["198.51.100.7, junk, 10.1.1.1"]);
        assert_eq!(p.client_of(ip("10.0.0.2"), &h), ip("10.1.1.1"));
        // Mapped peers count as IPv4.
        let h = headers(&["[2001:db8::1]:80"]);
        assert_eq!(p.client_of(ip("::ffff:10.0.0.2"), &h), ip("2001:db8::1"));
    }
}
