//! The memory store's data under its lock: the map, the deadline index, and
//! a budget per kind of entry.
//!
//! Each [`EntryKind`] has a budget of its own, so writes of one kind (say, a
//! per-IP counter for every address of an IPv6 flood) cannot take the room of
//! another (the per-mobile interval flags). Kinds the caller can lose without
//! harm give way oldest first when their budget is full: a captcha answer (the
//! user reloads it) and a per-IP counter (a per-IP limit that forgets is far
//! better than an outage). The others are never dropped: when their budget is
//! full, a new one is refused ([`StoreError::Full`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::{EntryKind, StoreError};

/// Kinds of entry, as indexes.
pub(super) const KINDS: usize = 5;

/// The index of `kind` in per-kind arrays.
pub(super) fn slot(kind: EntryKind) -> usize {
    match kind {
        EntryKind::CaptchaAnswer => 0,
        EntryKind::IpCounter => 1,
        EntryKind::MobileState => 2,
        EntryKind::SmsCode => 3,
        EntryKind::GlobalCounter => 4,
    }
}

/// Whether entries of `kind` give way, oldest first, when its budget is full.
pub(super) fn gives_way(kind: EntryKind) -> bool {
    matches!(kind, EntryKind::CaptchaAnswer | EntryKind::IpCounter)
}

/// Most entries of each kind, indexed by [`slot`].
pub(super) type Budgets = [usize; KINDS];

#[derive(Default)]
pub(super) struct State {
    // Keys are shared by the map and the indexes: one allocation each.
    entries: HashMap<Arc<str>, Entry>,
    /// Deadline index: the purge task and a full store walk it in order.
    /// The id makes equal deadlines distinct.
    deadlines: BTreeMap<(Instant, u64), Arc<str>>,
    /// Per kind that gives way: its entries, oldest first.
    oldest: [BTreeMap<u64, Arc<str>>; KINDS],
    /// Live and not yet purged entries per kind.
    counts: [usize; KINDS],
    next_id: u64,
}

pub(super) struct Entry {
    pub(super) value: String,
    /// Unique per write; orders `oldest` and breaks ties in `deadlines`.
    id: u64,
    pub(super) expires_at: Instant,
    pub(super) kind: EntryKind,
    /// Wrong checks counted against an SMS code (see `check_code`). Kept
    /// inside the code's own entry, so code and count live and die together.
    pub(super) wrong_checks: u32,
}

/// The value of a counter entry.
pub(super) fn counter(entry: &Entry) -> Result<u64, StoreError> {
    entry
        .value
        .parse::<u64>()
        .map_err(|_| StoreError::Backend("value is not a counter".to_owned()))
}

impl State {
    /// Entries held, expired ones not yet purged included.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The live entry under `key`; an expired one is removed on sight.
    pub(super) fn live(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        let expired = self.entries.get(key)?.expires_at <= now;
        if expired {
            self.remove(key);
            return None;
        }
        self.entries.get_mut(key)
    }

    pub(super) fn remove(&mut self, key: &str) -> Option<Entry> {
        let entry = self.entries.remove(key)?;
        self.deadlines.remove(&(entry.expires_at, entry.id));
        self.forget(&entry);
        Some(entry)
    }

    /// The bookkeeping of an entry that left the map.
    fn forget(&mut self, entry: &Entry) {
        let k = slot(entry.kind);
        self.counts[k] -= 1;
        if gives_way(entry.kind) {
            self.oldest[k].remove(&entry.id);
        }
    }

    pub(super) fn purge_expired(&mut self, now: Instant) {
        self.purge_expired_at_most(now, usize::MAX);
    }

    pub(super) fn purge_expired_at_most(&mut self, now: Instant, limit: usize) {
        for _ in 0..limit {
            let Some(first) = self.deadlines.first_entry() else {
                break;
            };
            if first.key().0 > now {
                break;
            }
            let key = first.remove();
            if let Some(entry) = self.entries.remove(&*key) {
                self.forget(&entry);
            }
        }
    }

    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first_key_value().map(|((when, _), _)| *when)
    }

    /// Writes `key`, replacing any entry under it. Returns whether the new
    /// deadline is now the earliest (the purge task must hear of it).
    pub(super) fn insert(
        &mut self,
        key: String,
        value: String,
        ttl: Duration,
        kind: EntryKind,
        budgets: &Budgets,
        now: Instant,
    ) -> Result<bool, StoreError> {
        self.remove(&key);
        self.make_room(kind, 1, budgets, now)?;
        let key: Arc<str> = key.into();
        let id = self.next_id;
        self.next_id += 1;
        let expires_at = now + ttl;
        let k = slot(kind);
        if gives_way(kind) {
            self.oldest[k].insert(id, key.clone());
        }
        self.counts[k] += 1;
        let earliest = self.next_deadline().is_none_or(|first| expires_at < first);
        self.deadlines.insert((expires_at, id), key.clone());
        self.entries.insert(
            key,
            Entry {
                value,
                id,
                expires_at,
                kind,
                wrong_checks: 0,
            },
        );
        Ok(earliest)
    }

    /// Frees `needed` slots of `kind` at once (for the new entries of one
    /// atomic step, so that its writes cannot run out of room halfway):
    /// expired entries go first, then, for a kind that gives way, its oldest
    /// ones; entries of other kinds are never touched.
    pub(super) fn make_room(
        &mut self,
        kind: EntryKind,
        needed: usize,
        budgets: &Budgets,
        now: Instant,
    ) -> Result<(), StoreError> {
        let k = slot(kind);
        if self.counts[k] + needed <= budgets[k] {
            return Ok(());
        }
        self.purge_expired(now);
        while self.counts[k] + needed > budgets[k] {
            // A kind that must be kept is refused rather than dropped:
            // dropping a counter or a flag would lift a limit.
            let oldest = if gives_way(kind) {
                self.oldest[k].first_key_value().map(|(_, key)| key.clone())
            } else {
                None
            };
            let Some(oldest) = oldest else {
                return Err(StoreError::Full);
            };
            self.remove(&oldest);
        }
        Ok(())
    }

    /// Whether every kind that is never dropped has room for one more entry
    /// (expired entries purged first): while one has none, its writes fail.
    pub(super) fn accepts_writes(&mut self, budgets: &Budgets, now: Instant) -> bool {
        self.purge_expired(now);
        [
            EntryKind::MobileState,
            EntryKind::SmsCode,
            EntryKind::GlobalCounter,
        ]
        .into_iter()
        .all(|kind| self.counts[slot(kind)] < budgets[slot(kind)])
    }
}
