//! The `X-Forwarded-For` chain: the client counted is the peer or an address
//! the chain names, and an untrusted peer's chain is never believed.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use passport_server::fuzzing::forwarded_for;

const TRUSTED: [&str; 3] = ["10.0.0.0/8", "::1", "fd00::/8"];

fuzz_target!(|data: &[u8]| {
    // Header lines split at newlines (which no header value can hold).
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let peer = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
    let client = forwarded_for(&TRUSTED, peer, &lines);
    if client != peer {
        let text = String::from_utf8_lossy(data).to_ascii_lowercase();
        let named = match client {
            IpAddr::V4(v4) => text.contains(&v4.to_string()),
            IpAddr::V6(v6) => text.contains(&v6.to_string()) || v6.to_ipv4_mapped().is_some(),
        };
        assert!(named || text.contains('['), "{client} is not in the chain");
    }
    let outside = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
    assert_eq!(forwarded_for(&TRUSTED, outside, &lines), outside);
});
