//! Counters that many threads bump without sharing a cache line.
//!
//! ```
//! use rbac_core::stats::ShardedCounter;
//!
//! let hits = std::sync::Arc::new(ShardedCounter::default());
//! let threads: Vec<_> = (0..4)
//!     .map(|_| {
//!         let hits = hits.clone();
//!         std::thread::spawn(move || (0..1000).for_each(|_| hits.incr()))
//!     })
//!     .collect();
//! threads.into_iter().for_each(|t| t.join().expect("thread"));
//! assert_eq!(hits.get(), 4000);
//! ```

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Shards per counter; threads are spread over them round-robin.
const SHARDS: usize = 16;

/// One shard on its own pair of cache lines (adjacent-line prefetch included).
#[derive(Default)]
#[repr(align(128))]
struct Slot(AtomicU64);

/// A monotonic counter sharded per thread, so the request path never contends on it.
#[derive(Default)]
pub struct ShardedCounter {
    slots: [Slot; SHARDS],
}

impl ShardedCounter {
    /// Adds one.
    #[inline]
    pub fn incr(&self) {
        self.slots[shard()].0.fetch_add(1, Ordering::Relaxed);
    }

    /// The sum over every shard (a consistent-enough snapshot for metrics).
    pub fn get(&self) -> u64 {
        self.slots
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .fold(0u64, u64::wrapping_add)
    }
}

impl fmt::Debug for ShardedCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// This thread's shard, assigned on first use.
#[inline]
fn shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|s| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_across_threads() {
        let c = std::sync::Arc::new(ShardedCounter::default());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || (0..1000).for_each(|_| c.incr()))
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(c.get(), 8000);
    }
}
