//! Random names, passwords and phone numbers.

use crate::*;

pub(crate) static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A process-unique lowercase token: pid, a counter and randomness.
pub fn unique() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let r: u32 = rand::thread_rng().gen();
    format!("{}_{}_{:08x}", std::process::id(), n, r)
}

/// `prefix` followed by 10 random lowercase letters/digits (only `[a-z0-9]`).
pub fn unique_name(prefix: &str) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..10)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

/// A password that should satisfy any plausible policy.
pub fn gen_password() -> String {
    format!("Pw{}#9x", unique_name("S"))
}

/// A fresh 11-digit mobile-style phone number, unique within the process.
pub fn gen_phone() -> String {
    static BASE: OnceLock<u64> = OnceLock::new();
    let base = *BASE.get_or_init(|| rand::thread_rng().gen_range(0..50_000_000));
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("139{:08}", (base + n) % 100_000_000)
}

/// `bytes` random bytes as lowercase hex (a key file's contents).
pub fn random_hex(bytes: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.gen::<u8>()))
        .collect()
}
