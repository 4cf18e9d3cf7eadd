//! Giving memory back after a burst (glibc's allocator only).
//!
//! After 5,000 concurrent connections the server held about 73 MB against
//! 9.5 MB at rest, and kept it: `malloc_stats` then showed 85 MB taken from
//! the system and 2.9 MB in use. What the connections' buffers had used was
//! free, but spread over the worker threads' arenas in chunks glibc only
//! gives back from the top of a heap, so neither `MALLOC_ARENA_MAX=1` nor a
//! lower `M_TRIM_THRESHOLD` changed it. `malloc_trim(0)` walks every arena
//! and returns every free page in it (`MADV_DONTNEED`), wherever it lies.
//!
//! At start-up, blocks of 8 KiB and more get pages of their own, which go
//! back to the system as soon as they are freed, and the arenas are capped
//! at two. Then a thread of its own looks every [`INTERVAL`] at how much the
//! allocator holds free (`mallinfo2`, summed over every arena) and trims
//! when that passes [`THRESHOLD`]: once after a burst, never in a steady
//! state, which keeps far less free than that. Measured in
//! `docs/benchmarks.md` ("memory after a burst").
//!
//! The three calls are the workspace's only `unsafe` code: plain glibc
//! functions without arguments that point anywhere, safe to call from any
//! thread at any time.

use std::time::Duration;

/// How often the allocator's free memory is looked at.
pub const INTERVAL: Duration = Duration::from_secs(2);

/// Free memory held by the allocator above which it is given back: far
/// above what a steady load keeps free (so a busy server is not trimmed
/// over and over), far below a burst's leftovers.
pub const THRESHOLD: usize = 1024 * 1024;

/// Blocks from this size up get pages of their own (`M_MMAP_THRESHOLD`),
/// returned to the system when freed: a connection's grown read and write
/// buffers, a captcha's pixels. Left to glibc (128 KiB, then raised as large
/// blocks are freed), they are carved from the arenas and, freed, leave
/// holes pinned by the small entries written between them.
pub const MMAP_THRESHOLD: usize = 8 * 1024;

/// Most malloc arenas (`M_ARENA_MAX`): glibc makes up to eight per core,
/// and each keeps its own free memory.
pub const ARENA_MAX: usize = 2;

/// Starts the thread that gives free memory back to the system after a
/// burst, once per process (later calls do nothing). Where the allocator
/// is not glibc's, does nothing.
pub fn start_trimming() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        if !glibc::AVAILABLE {
            return;
        }
        glibc::configure();
        let spawned = std::thread::Builder::new()
            .name("heap-trim".to_owned())
            .spawn(|| {
                loop {
                    // A timer, not a wait for another thread: each turn
                    // reads the allocator's state afresh.
                    std::thread::sleep(INTERVAL);
                    if glibc::free_bytes() >= THRESHOLD {
                        glibc::trim();
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start the heap trimming thread");
        }
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
mod glibc {
    pub(super) const AVAILABLE: bool = true;

    /// Sets [`MMAP_THRESHOLD`](super::MMAP_THRESHOLD) and
    /// [`ARENA_MAX`](super::ARENA_MAX), unless the environment set them
    /// (glibc's `MALLOC_MMAP_THRESHOLD_`, `MALLOC_ARENA_MAX`).
    pub(super) fn configure() {
        for (var, param, value) in [
            (
                "MALLOC_MMAP_THRESHOLD_",
                libc::M_MMAP_THRESHOLD,
                super::MMAP_THRESHOLD,
            ),
            ("MALLOC_ARENA_MAX", libc::M_ARENA_MAX, super::ARENA_MAX),
        ] {
            if std::env::var_os(var).is_some() {
                continue;
            }
            let value = libc::c_int::try_from(value).unwrap_or(libc::c_int::MAX);
            // SAFETY: mallopt takes two plain integers and may be called at
            // any time; glibc applies them under its own locks.
            unsafe {
                libc::mallopt(param, value);
            }
        }
    }

    /// Bytes the allocator holds free, over every arena.
    pub(super) fn free_bytes() -> usize {
        // SAFETY: mallinfo2 takes no arguments and returns a struct by
        // value; glibc takes each arena's lock while it reads it.
        let info = unsafe { libc::mallinfo2() };
        info.fordblks
    }

    /// Returns every free page of every arena to the system.
    pub(super) fn trim() {
        // SAFETY: malloc_trim takes a plain integer and takes each arena's
        // lock while it trims it; it may be called at any time.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod glibc {
    pub(super) const AVAILABLE: bool = false;

    pub(super) fn configure() {}

    pub(super) fn free_bytes() -> usize {
        0
    }

    pub(super) fn trim() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resident_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// What a burst leaves: many small blocks freed around a few kept
    /// ones, which glibc cannot give back from the top of its heap. They
    /// show in `free_bytes`, and a trim returns their pages.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn free_memory_is_seen_and_a_trim_gives_its_pages_back() {
        let mut blocks: Vec<Vec<u8>> = (0..40_000).map(|_| vec![1u8; 1_000]).collect();
        let kept: Vec<Vec<u8>> = blocks.drain(..).step_by(40).collect();
        let free = glibc::free_bytes();
        assert!(free >= 30_000_000, "{free} bytes free");
        let before = resident_kib();
        glibc::trim();
        let after = resident_kib();
        assert!(
            before.saturating_sub(after) >= 20_000,
            "a trim gave back {} KiB ({before} -> {after} KiB)",
            before.saturating_sub(after)
        );
        assert_eq!(kept.len(), 1_000);
    }
}
