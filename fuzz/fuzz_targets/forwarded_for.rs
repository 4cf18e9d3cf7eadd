//! The `X-Forwarded-For` chain: the client counted is the peer or an address
//! one of the chain's entries spells, and an untrusted peer's chain is never
//! believed.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use libfuzzer_sys::fuzz_target;
use passport_server::fuzzing::forwarded_for;

const TRUSTED: [&str; 3] = ["10.0.0.0/8", "::1", "fd00::/8"];

/// The address an entry spells (an IP, or an IP with a port), IPv4-mapped
/// IPv6 counted as IPv4.
fn spelled(entry: &str) -> Option<IpAddr> {
    let ip = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

fuzz_target!(|data: &[u8]| {
    // Header lines split at newlines (which no header value can hold).
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let peer = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
    let client = forwarded_for(&TRUSTED, peer, &lines);
    if client != peer {
        let named = lines
            .iter()
            .filter_map(|line| std::str::from_utf8(line).ok())
            .flat_map(|line| line.split(','))
            .filter_map(|entry| spelled(entry.trim()))
            .any(|ip| ip == client);
        assert!(named, "{client} is not an entry of the chain");
    }
    let outside = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
    assert_eq!(forwarded_for(&TRUSTED, outside, &lines), outside);
});
