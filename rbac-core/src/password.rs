//! Password hashing: argon2id with OWASP parameters, off the async runtime, on a bounded pool.
//! Imported bcrypt hashes verify too and are flagged for rehashing.

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

/// Hashes and verifies passwords on blocking threads, bounded by a semaphore and a queue limit.
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
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
            waiting: AtomicUsize::new(0),
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
        let workers = self.permits.available_permits();
        let depth = self.waiting.fetch_add(1, Ordering::Relaxed);
        let _guard = DepthGuard(&self.waiting);
        if workers == 0 && depth >= self.queue {
            return Err(Error::Busy);
        }
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::internal("hasher closed"))?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| Error::internal(format!("hash task: {e}")))
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
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(Verified {
                ok: false,
                rehash: false,
            });
        }
        let argon = self.argon2();
        let want = self.params.clone();
        let password = password.to_owned();
        let hash = hash.to_owned();
        self.run(move || verify_blocking(&argon, &want, &password, &hash))
            .await
    }

    /// Spends the time of one verification against a fixed hash, so an unknown user costs
    /// what a known one does.
    pub async fn verify_dummy(&self, password: &str) -> Result<()> {
        let dummy = self
            .dummy
            .get_or_try_init(|| self.hash("dummy password for timing"))
            .await?
            .clone();
        self.verify(password, &dummy).await.map(|_| ())
    }
}

struct DepthGuard<'a>(&'a AtomicUsize);

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn verify_blocking(argon: &Argon2<'_>, want: &Params, password: &str, hash: &str) -> Verified {
    if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$") {
        let ok = bcrypt::verify(password, hash).unwrap_or(false);
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
