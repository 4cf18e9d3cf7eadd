//! Per-client-IP counters in a fixed number of buckets, so that a flood from
//! many addresses cannot grow Redis.
//!
//! A counter per address (`SMSPerIp_<ip>`, one key each) lets whoever has
//! 100,000 addresses (cheap with IPv6 /64s) write 100,000 keys an hour; on a
//! Redis with `maxmemory` that either fails every write (`noeviction`) or
//! evicts whatever the policy picks, interval flags and daily counts
//! included. Redis has no per-kind budgets, so the bound is kept here:
//! each per-IP key is hashed, under a secret, into one of
//! `ip_counter_buckets` buckets, and a bucket is a field of a small hash of
//! [`GROUP`] buckets (`<prefix><name>_g<n>`, a listpack of a few bytes per
//! field), so the per-IP counters of one kind take at most
//! `ip_counter_buckets / GROUP` keys whatever the traffic.
//!
//! The price is that clients sharing a bucket share a count: a flood of `F`
//! requests in a window puts `F / ip_counter_buckets` of them in each
//! bucket on average, and an honest client is wrongly limited only when
//! its bucket alone holds a whole limit (20 an hour for SMS). The hash is
//! keyed (HMAC-SHA-256 under a random secret kept in Redis and shared by
//! every instance), so an attacker cannot aim at the bucket of a given
//! address. A group's window begins with its first count and ends for all
//! its buckets at once.
//!
//! Each script touches one key, so every call stays in one Cluster slot.
//!
//! The secret is written without `WAIT`: should a failover lose it, the
//! next instance to ask writes a new one, and the others adopt it at their
//! next hourly read. Until then they count an address in different buckets,
//! so its limit is counted per instance for at most an hour.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt;
use sha2::Sha256;

/// Buckets per hash key: well under Redis's `hash-max-listpack-entries`
/// (128 by default), so every group stays a compact listpack.
pub(super) const GROUP: u32 = 100;

/// The key (after the prefix) of the shared secret.
pub(super) const SECRET_KEY: &str = "IpCounterSecret";

/// How long the secret lives unread; every instance renews it each
/// [`REREAD`], so it lives as long as any instance runs.
pub(super) const SECRET_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// How often an instance reads the secret again (and renews its TTL): an
/// instance that finds a new one (after Redis lost its data) adopts it.
const REREAD: Duration = Duration::from_secs(60 * 60);

/// The bucket layout and this process's copy of the shared secret.
#[derive(Debug)]
pub(super) struct IpBuckets {
    buckets: u32,
    secret: Mutex<Option<(Vec<u8>, Instant)>>,
}

/// Where one per-IP key is counted: the hash key and its field.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Place {
    /// `<name>_g<group>`, unprefixed.
    pub(super) key: String,
    /// The bucket within the group, in decimal.
    pub(super) field: String,
}

impl IpBuckets {
    pub(super) fn new(buckets: u32) -> Self {
        Self {
            buckets,
            secret: Mutex::new(None),
        }
    }

    /// The cached secret, unless it is due to be read again.
    pub(super) fn cached_secret(&self) -> Option<Vec<u8>> {
        let cached = self.secret.lock().unwrap_or_else(|e| e.into_inner());
        cached
            .as_ref()
            .filter(|(_, read)| read.elapsed() < REREAD)
            .map(|(secret, _)| secret.clone())
    }

    pub(super) fn remember(&self, secret: Vec<u8>) {
        *self.secret.lock().unwrap_or_else(|e| e.into_inner()) = Some((secret, Instant::now()));
    }

    /// A new secret to offer, in case none is stored: 32 random bytes, hex.
    pub(super) fn candidate() -> String {
        let bytes: [u8; 32] = rand::rng().random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The bucket of `key` (`SMSPerIp_<ip>` and the like) under `secret`.
    /// The name before the first `_` names the group keys, so each kind of
    /// counter has buckets of its own.
    pub(super) fn place(&self, secret: &[u8], key: &str) -> Place {
        let name = key.split_once('_').map_or(key, |(name, _)| name);
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("hmac accepts any key length"));
        mac.update(key.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        let bucket = u64::from_le_bytes(first) % u64::from(self.buckets);
        let group = bucket / u64::from(GROUP);
        Place {
            key: format!("{name}_g{group}"),
            field: (bucket % u64::from(GROUP)).to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn places_are_bounded_and_kept_per_kind() {
        let buckets = IpBuckets::new(1_000);
        let secret = b"0123456789abcdef";
        let mut keys = HashSet::new();
        let mut places = HashSet::new();
        for n in 0..20_000 {
            let place = buckets.place(secret, &format!("SMSPerIp_10.0.{}.{}", n / 256, n % 256));
            assert!(place.key.starts_with("SMSPerIp_g"), "{place:?}");
            assert!(place.field.parse::<u32>().unwrap() < GROUP);
            keys.insert(place.key.clone());
            places.insert((place.key, place.field));
        }
        assert_eq!(keys.len(), 10, "1,000 buckets in groups of {GROUP}");
        assert!(
            places.len() > 990,
            "20,000 addresses reach nearly every bucket"
        );
        let image = buckets.place(secret, "ImageCodePerIp_10.0.0.1");
        assert!(image.key.starts_with("ImageCodePerIp_g"));
    }

    #[test]
    fn the_secret_decides_the_bucket() {
        let buckets = IpBuckets::new(1 << 20);
        let key = "SMSPerIp_192.0.2.1";
        let same = buckets.place(b"secret one", key) == buckets.place(b"secret one", key);
        assert!(same);
        let moved = (0..20)
            .filter(|n| buckets.place(format!("s{n}").as_bytes(), key) != buckets.place(b"x", key))
            .count();
        assert!(moved >= 19, "another secret, another bucket: {moved} of 20");
        assert_eq!(IpBuckets::candidate().len(), 64);
        assert_ne!(IpBuckets::candidate(), IpBuckets::candidate());
    }
}
