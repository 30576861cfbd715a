//! Password hashing: argon2id with OWASP parameters, off the async runtime, on a bounded pool.
//! Imported bcrypt hashes verify too and are flagged for rehashing.
//!
//! ```
//! # async fn run() -> Result<(), rbac_core::Error> {
//! use rbac_core::{HasherConfig, PasswordHasher};
//!
//! // OWASP's parameters by default; small ones here so the example runs fast.
//! let hasher = PasswordHasher::new(&HasherConfig { memory_kib: 64, iterations: 1, parallelism: 1, ..HasherConfig::default() })?;
//! let hash = hasher.hash("House-password-1").await?;
//! assert!(hash.starts_with("$argon2id$"));
//! assert!(hasher.verify("House-password-1", &hash).await?.ok);
//! assert!(!hasher.verify("house-password-1", &hash).await?.ok);
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier, Version};
use tokio::sync::{OnceCell, Semaphore};

use crate::error::{Error, Result};

/// Longest password accepted, in bytes (hashing cost must not grow with input).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// How passwords are hashed and how much hashing may run at once.
#[derive(Debug, Clone)]
pub struct HasherConfig {
    /// argon2 memory cost in KiB (OWASP: 19456).
    pub memory_kib: u32,
    /// argon2 iterations (OWASP: 2).
    pub iterations: u32,
    /// argon2 lanes (OWASP: 1).
    pub parallelism: u32,
    /// Hashes computed at once (default: number of cores).
    pub workers: usize,
    /// Hash requests allowed to wait beyond the running ones; past it the answer is `Busy`.
    pub queue: usize,
}

impl Default for HasherConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        HasherConfig {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
            workers: cores,
            queue: 64 * cores,
        }
    }
}

/// The outcome of verifying a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The password matches.
    pub ok: bool,
    /// The hash uses an old scheme or parameters and should be replaced.
    pub rehash: bool,
}

/// The most expensive bcrypt cost a stored hash may have (2^14 rounds, about a second).
pub const MAX_BCRYPT_COST: u32 = 14;

/// Hashes and verifies passwords on blocking threads, bounded by a semaphore and a queue limit.
///
/// A stored hash is verified only when its cost lies within the policy: bcrypt cost at most
/// [`MAX_BCRYPT_COST`]; argon2 memory and iterations at most twice the configured ones
/// ([`PasswordHasher::cost_refusal`]). Anything dearer would let one anonymous login spend a
/// core for as long as the hash asks.
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    queue: usize,
    dummy: OnceCell<String>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// A hasher with these settings.
    pub fn new(config: &HasherConfig) -> Result<Self> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| Error::internal(format!("argon2 parameters: {e}")))?;
        Ok(PasswordHasher {
            params,
            permits: Arc::new(Semaphore::new(config.workers.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            queue: config.queue,
            dummy: OnceCell::new(),
        })
    }

    /// How many hash jobs are running or waiting now.
    pub fn queue_depth(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    async fn run<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.run_while_awaited(false, job)
            .await?
            .ok_or_else(|| Error::internal("hash skipped"))
    }

    /// Runs `job` on a worker; with `skippable`, answers `None` without running it when the
    /// worker comes free after nobody waits for the answer any more (a client that sent a
    /// login and went away costs no hash).
    async fn run_while_awaited<T, F>(&self, skippable: bool, job: F) -> Result<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let workers = self.permits.available_permits();
        let depth = self.waiting.fetch_add(1, Ordering::Relaxed);
        let guard = DepthGuard(self.waiting.clone());
        if workers == 0 && depth >= self.queue {
            return Err(Error::Busy);
        }
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::internal("hasher closed"))?;
        if skippable && crate::caller::gone() {
            return Ok(None);
        }
        // The worker slot and the place in the queue go with the hash, not with the caller:
        // a hash whose caller stopped waiting still runs to its end, and is counted until then.
        tokio::task::spawn_blocking(move || {
            let _held = (permit, guard);
            job()
        })
        .await
        .map(Some)
        .map_err(|e| Error::internal(format!("hash task: {e}")))
    }

    /// Why a stored hash is not verified, when its cost lies outside the policy (see the
    /// type's docs); `None` for a hash within it or one that is no hash at all.
    pub fn cost_refusal(&self, hash: &str) -> Option<String> {
        if let Some(cost) = bcrypt_cost(hash) {
            return (cost > MAX_BCRYPT_COST)
                .then(|| format!("bcrypt cost {cost} exceeds {MAX_BCRYPT_COST}"));
        }
        let parsed = PasswordHash::new(hash).ok()?;
        let params = Params::try_from(&parsed).ok()?;
        let (max_m, max_t) = (
            self.params.m_cost().saturating_mul(2),
            self.params.t_cost().saturating_mul(2),
        );
        if params.m_cost() > max_m {
            return Some(format!(
                "argon2 memory {} KiB exceeds {max_m} KiB",
                params.m_cost()
            ));
        }
        if params.t_cost() > max_t {
            return Some(format!(
                "argon2 iterations {} exceed {max_t}",
                params.t_cost()
            ));
        }
        None
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes a password into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(Error::invalid("password", "too long"));
        }
        let argon = self.argon2();
        let password = password.to_owned();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::internal(format!("argon2: {e}")))
        })
        .await?
    }

    /// Verifies a password against a stored argon2 PHC string or bcrypt hash.
    pub async fn verify(&self, password: &str, hash: &str) -> Result<Verified> {
        self.verify_while_awaited(false, password, hash)
            .await?
            .ok_or_else(|| Error::internal("hash skipped"))
    }

    /// [`PasswordHasher::verify`] for detached login work: `None`, without hashing, once
    /// nobody waits for the answer (see [`crate::caller`]).
    pub(crate) async fn verify_if_awaited(
        &self,
        password: &str,
        hash: &str,
    ) -> Result<Option<Verified>> {
        self.verify_while_awaited(true, password, hash).await
    }

    async fn verify_while_awaited(
        &self,
        skippable: bool,
        password: &str,
        hash: &str,
    ) -> Result<Option<Verified>> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(Some(Verified {
                ok: false,
                rehash: false,
            }));
        }
        if let Some(why) = self.cost_refusal(hash) {
            // Refused without computing it; the dummy verification keeps the time a
            // refusal takes the same as a wrong password's.
            tracing::warn!(reason = %why, "stored password hash outside the cost policy: refused");
            self.verify_dummy(password).await?;
            return Ok(Some(Verified {
                ok: false,
                rehash: false,
            }));
        }
        let argon = self.argon2();
        let want = self.params.clone();
        let password = password.to_owned();
        let hash = hash.to_owned();
        self.run_while_awaited(skippable, move || {
            verify_blocking(&argon, &want, &password, &hash)
        })
        .await
    }

    /// Spends the time of one verification against a fixed hash, so an unknown user costs
    /// what a known one does; nothing once nobody waits for the answer (its time then
    /// tells no one anything).
    pub async fn verify_dummy(&self, password: &str) -> Result<()> {
        let dummy = self
            .dummy
            .get_or_try_init(|| self.hash("dummy password for timing"))
            .await?
            .clone();
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(());
        }
        let argon = self.argon2();
        let want = self.params.clone();
        let password = password.to_owned();
        self.run_while_awaited(true, move || {
            verify_blocking(&argon, &want, &password, &dummy)
        })
        .await
        .map(|_| ())
    }
}

/// A hash job's place in the queue, given back when the job ends.
struct DepthGuard(Arc<AtomicUsize>);

impl Drop for DepthGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The cost of a bcrypt hash (`$2b$12$…` is 12), if it is one.
fn bcrypt_cost(hash: &str) -> Option<u32> {
    let rest = ["$2a$", "$2b$", "$2y$"]
        .iter()
        .find_map(|prefix| hash.strip_prefix(prefix))?;
    let (cost, _) = rest.split_once('$')?;
    cost.parse().ok()
}

fn verify_blocking(argon: &Argon2<'_>, want: &Params, password: &str, hash: &str) -> Verified {
    if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$") {
        // Without the `bcrypt-import` feature an imported bcrypt hash verifies nothing.
        #[cfg(feature = "bcrypt-import")]
        let ok = bcrypt::verify(password, hash).unwrap_or(false);
        #[cfg(not(feature = "bcrypt-import"))]
        let ok = false;
        return Verified { ok, rehash: ok };
    }
    let Ok(parsed) = PasswordHash::new(hash) else {
        return Verified {
            ok: false,
            rehash: false,
        };
    };
    let ok = argon.verify_password(password.as_bytes(), &parsed).is_ok();
    let current = parsed.algorithm.as_str() == "argon2id"
        && Params::try_from(&parsed).is_ok_and(|p| {
            p.m_cost() == want.m_cost()
                && p.t_cost() == want.t_cost()
                && p.p_cost() == want.p_cost()
        });
    Verified {
        ok,
        rehash: ok && !current,
    }
}

/// Whether two strings are equal, in time that depends only on their lengths.
pub fn same_text(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> HasherConfig {
        HasherConfig {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            workers: 2,
            queue: 4,
        }
    }

    #[tokio::test]
    async fn argon2_round_trip_and_rehash_on_parameter_change() {
        let h = PasswordHasher::new(&fast()).expect("params");
        let phc = h.hash("s3cret").await.expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert_eq!(
            h.verify("s3cret", &phc).await.expect("verify"),
            Verified {
                ok: true,
                rehash: false
            }
        );
        assert!(!h.verify("wrong", &phc).await.expect("verify").ok);
        let stronger = PasswordHasher::new(&HasherConfig {
            memory_kib: 128,
            ..fast()
        })
        .expect("params");
        assert_eq!(
            stronger.verify("s3cret", &phc).await.expect("verify"),
            Verified {
                ok: true,
                rehash: true
            }
        );
    }

    #[cfg(feature = "bcrypt-import")]
    #[tokio::test]
    async fn hashes_outside_the_cost_policy_are_refused_unhashed() {
        let h = PasswordHasher::new(&fast()).expect("params");
        // A cost-31 hash would run for days: refused, and quickly.
        let dear = "$2b$31$abcdefghijklmnopqrstuuKHW2OVfmiQXcoE8OTsIHGu/NzB3Axq.";
        assert!(h.cost_refusal(dear).is_some_and(|why| why.contains("31")));
        let t = std::time::Instant::now();
        assert!(!h.verify("anything", dear).await.expect("verify").ok);
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        // Positive control: cost 14 and below, and argon2 within twice the settings, verify.
        let cheap = bcrypt::hash("legacy", 4).expect("bcrypt");
        assert_eq!(h.cost_refusal(&cheap), None);
        assert!(h.verify("legacy", &cheap).await.expect("verify").ok);
        assert_eq!(h.cost_refusal("$2b$14$x"), None);
        assert!(h.cost_refusal("$2b$15$x").is_some());
        let within = PasswordHasher::new(&HasherConfig {
            memory_kib: 128,
            iterations: 2,
            ..fast()
        })
        .expect("params")
        .hash("s3cret")
        .await
        .expect("hash");
        assert_eq!(
            h.cost_refusal(&within),
            None,
            "128 KiB, t=2 is twice the settings"
        );
        assert!(h.verify("s3cret", &within).await.expect("verify").ok);
        let beyond = PasswordHasher::new(&HasherConfig {
            memory_kib: 129,
            ..fast()
        })
        .expect("params")
        .hash("s3cret")
        .await
        .expect("hash");
        assert!(h
            .cost_refusal(&beyond)
            .is_some_and(|why| why.contains("memory")));
        assert!(!h.verify("s3cret", &beyond).await.expect("verify").ok);
        let slow = PasswordHasher::new(&HasherConfig {
            iterations: 3,
            ..fast()
        })
        .expect("params")
        .hash("s3cret")
        .await
        .expect("hash");
        assert!(h
            .cost_refusal(&slow)
            .is_some_and(|why| why.contains("iterations")));
    }

    #[tokio::test]
    async fn an_abandoned_hash_keeps_its_slot_until_it_ends() {
        let h = Arc::new(
            PasswordHasher::new(&HasherConfig {
                memory_kib: 65536,
                iterations: 6,
                parallelism: 1,
                workers: 1,
                queue: 4,
            })
            .expect("params"),
        );
        let hashing = {
            let h = h.clone();
            tokio::spawn(async move { h.hash("abandoned").await })
        };
        // Wait until it runs, then abandon it: it is still counted until it really ends.
        while h.queue_depth() == 0 {
            tokio::task::yield_now().await;
        }
        hashing.abort();
        let _ = hashing.await;
        assert_eq!(
            h.queue_depth(),
            1,
            "the abandoned hash still holds its place"
        );
        assert_eq!(h.permits.available_permits(), 0, "and its worker");
        let t = std::time::Instant::now();
        while h.queue_depth() > 0 {
            assert!(t.elapsed() < std::time::Duration::from_secs(30));
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(h.permits.available_permits(), 1);
    }

    #[cfg(feature = "bcrypt-import")]
    #[tokio::test]
    async fn imported_bcrypt_verifies_and_asks_for_rehash() {
        let h = PasswordHasher::new(&fast()).expect("params");
        let bc = bcrypt::hash("legacy", 4).expect("bcrypt");
        assert_eq!(
            h.verify("legacy", &bc).await.expect("verify"),
            Verified {
                ok: true,
                rehash: true
            }
        );
        assert!(!h.verify("nope", &bc).await.expect("verify").ok);
        assert!(!h.verify("x", "garbage").await.expect("verify").ok);
    }
}
