//! Password attempts that protect the owner: typos are free, guesses back off and then
//! lock, every attempt is reserved in the store before its hash, concurrent attempts on one
//! account wait their turn in a short queue, and an address the account logged in from
//! recently keeps working while others have it locked.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::facet::Sessions;
use crate::error::{Error, Result};
use crate::model::{now, ThrottlePolicy, User};

/// Failed-login throttling: one policy per account, one per client address (looser and
/// without backoff, so clients behind a shared address do not slow each other down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Per account (`user:<name>`).
    pub account: ThrottlePolicy,
    /// Per client address (`ip:<address>`).
    pub address: ThrottlePolicy,
    /// Seconds an address stays known to an account after a successful login from it
    /// (0: never): attempts from it are counted apart and are not locked out by others.
    pub known_address_secs: i64,
    /// Attempts on one account that may wait for their turn in this process.
    pub queue: usize,
    /// Password attempts from one client address hashed at once in this process: one
    /// address cannot take the whole hashing capacity, so others' logins go through.
    pub address_concurrency: usize,
    /// How long an attempt waits for its turn before it is answered as throttled.
    pub queue_wait: Duration,
}

impl Default for LoginThrottle {
    /// Four failures per account cost nothing; the fifth waits 1 s, then 2 s, 4 s, …; ten in
    /// 15 minutes lock the account for 15 minutes; twenty from one address lock the
    /// address; an address that logged in within 30 days keeps working.
    fn default() -> Self {
        let account = ThrottlePolicy {
            free: 4,
            max_failures: 10,
            window: 900,
            lockout: 900,
            backoff: 1,
        };
        LoginThrottle {
            account,
            address: ThrottlePolicy {
                free: 20,
                max_failures: 20,
                backoff: 0,
                ..account
            },
            known_address_secs: 30 * 24 * 3600,
            queue: 64,
            address_concurrency: 4,
            queue_wait: Duration::from_secs(5),
        }
    }
}

/// The throttling key of an account name: the same account however it is cased or
/// written (its NFKC case fold).
pub fn account_key(name: &str) -> String {
    format!("user:{}", crate::identity::name_key(name))
}

/// The key of an account's attempts from one address it is known at.
fn known_key(name: &str, address: &str) -> String {
    format!("user:{}@{address}", crate::identity::name_key(name))
}

/// One account's turn-taking in this process.
#[derive(Debug)]
struct Lane {
    turn: Arc<Semaphore>,
    waiting: AtomicUsize,
}

/// Turn-taking queues: one attempt of an account at a time in this process (a few per
/// client address), a bounded number waiting, each for a bounded time.
#[derive(Debug, Default)]
pub(crate) struct LoginGate {
    lanes: Mutex<HashMap<String, Arc<Lane>>>,
}

/// An attempt's turn; dropping it lets the next one in.
pub(crate) struct Turn {
    _permit: OwnedSemaphorePermit,
    lane: Arc<Lane>,
    key: String,
    gate: Arc<LoginGate>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut lanes = self.gate.lanes.lock().unwrap_or_else(|p| p.into_inner());
        // The map's and this turn's references only: nobody waits, forget the lane.
        if Arc::strong_count(&self.lane) <= 2 && self.lane.waiting.load(Ordering::Acquire) == 0 {
            lanes.remove(&self.key);
        }
    }
}

impl LoginGate {
    /// Waits for one of `key`'s `turns`; `Throttled` when the queue is full or the wait too
    /// long.
    async fn enter(
        self: &Arc<Self>,
        key: &str,
        turns: usize,
        policy: &LoginThrottle,
    ) -> Result<Turn> {
        let lane = {
            let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
            lanes
                .entry(key.to_string())
                .or_insert_with(|| {
                    Arc::new(Lane {
                        turn: Arc::new(Semaphore::new(turns.max(1))),
                        waiting: AtomicUsize::new(0),
                    })
                })
                .clone()
        };
        let busy = Error::Throttled {
            retry_after: policy.queue_wait.as_secs().max(1) as i64,
        };
        if lane.waiting.fetch_add(1, Ordering::AcqRel) >= policy.queue.max(1) {
            lane.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(busy);
        }
        let acquired =
            tokio::time::timeout(policy.queue_wait, lane.turn.clone().acquire_owned()).await;
        lane.waiting.fetch_sub(1, Ordering::AcqRel);
        match acquired {
            Ok(Ok(permit)) => Ok(Turn {
                _permit: permit,
                lane,
                key: key.to_string(),
                gate: self.clone(),
            }),
            _ => Err(busy),
        }
    }
}

/// A password attempt whose turns have come and whose reservation is held.
pub(crate) struct Attempt {
    key: String,
    /// Whether the address was already known to the account (nothing to remember then).
    known: bool,
    /// Seconds the key stays blocked if this attempt fails (its reservation counted it as a
    /// failure already), or `None` when that failure costs no wait.
    blocks_for: Option<i64>,
    _turn: Turn,
    _address_turn: Option<Turn>,
}

impl Sessions<'_> {
    /// Takes a turn and reserves an attempt on the account `name` (as typed, or the found
    /// user's name) from `address`, before any hashing: refused as `Throttled` while the
    /// address or the account is blocked. An address the account logged in from recently
    /// is counted apart, so others' failures do not lock the owner out.
    pub(crate) async fn reserve_attempt(
        self,
        name: &str,
        found: Option<&User>,
        address: &str,
    ) -> Result<Attempt> {
        let store = &self.rbac.store();
        let policy = self.rbac.config().throttle;
        let at = now();
        if !address.is_empty() {
            if let Some(until) = store.login_blocked(&[&address_key(address)], at).await? {
                return Err(Error::Throttled {
                    retry_after: (until - at).max(1),
                });
            }
        }
        let known = match found {
            Some(user) if !address.is_empty() && policy.known_address_secs > 0 => {
                store
                    .login_address_known(
                        &crate::identity::name_key(&user.name),
                        address,
                        at - policy.known_address_secs,
                    )
                    .await?
            }
            _ => false,
        };
        let key = if known {
            known_key(name, address)
        } else {
            account_key(name)
        };
        let gate = &self.rbac.inner.gate;
        let address_turn = if address.is_empty() {
            None
        } else {
            let key = address_key(address);
            Some(
                gate.enter(&key, policy.address_concurrency, &policy)
                    .await?,
            )
        };
        let turn = gate.enter(&key, 1, &policy).await?;
        let reserved_at = now();
        match store
            .reserve_login_attempt(&key, reserved_at, &policy.account)
            .await?
        {
            Ok(failures) => Ok(Attempt {
                key,
                known,
                blocks_for: Some(policy.account.blocked_until(failures, reserved_at) - reserved_at)
                    .filter(|secs| *secs > 0),
                _turn: turn,
                _address_turn: address_turn,
            }),
            Err(until) => Err(Error::Throttled {
                retry_after: (until - now()).max(1),
            }),
        }
    }

    /// The attempt failed: it stays counted against the account, and counts against the
    /// address.
    pub(crate) async fn attempt_failed(self, attempt: Attempt, address: &str) -> Result<()> {
        let key = attempt.key.clone();
        let blocks_for = attempt.blocks_for;
        drop(attempt);
        // Each failure that leaves the account blocked is a security event (attempts
        // while it is blocked are refused before they get here: no flood). Judged from the
        // reservation that counted it, not from the clock after hashing: a slow hash could
        // outlast a short block and hide the lock.
        if let Some(secs) = blocks_for {
            let account = key.strip_prefix("user:").unwrap_or(&key);
            let event =
                crate::events::NewEvent::new(crate::events::kind::ACCOUNT_LOCKED, account, "")
                    .from_ip(address)
                    .detail(format!("blocked for {secs} s"));
            if let Err(e) = self.rbac.store().append_events(&[event]).await {
                tracing::warn!(error = %e, "security event append failed");
            }
        }
        if !address.is_empty() {
            self.rbac
                .store()
                .record_login_failure(
                    &address_key(address),
                    now(),
                    &self.rbac.config().throttle.address,
                )
                .await?;
        }
        Ok(())
    }

    /// The password was right: the reservation and the account's failures are released,
    /// and the address becomes known to the account.
    pub(crate) async fn attempt_succeeded(
        self,
        attempt: Attempt,
        user: &User,
        address: &str,
    ) -> Result<()> {
        let store = &self.rbac.store();
        store.clear_login_failures(&attempt.key).await?;
        let known = attempt.known;
        drop(attempt);
        // An address already known is not written again on every success (HTTP Basic
        // authenticates each request): it is remembered anew once it has aged out.
        if !known && !address.is_empty() && self.rbac.config().throttle.known_address_secs > 0 {
            store
                .remember_login_address(&crate::identity::name_key(&user.name), address, now())
                .await?;
        }
        Ok(())
    }

    /// Verifies `password` for the account typed as `name` (`found` when it names a user)
    /// from `address`, under the throttle: the user when the password is right;
    /// `BadCredentials` (counted) when it is not; `Throttled` before any hashing while
    /// blocked. The second value says the stored hash should be upgraded.
    pub(crate) async fn verify_attempt(
        self,
        name: &str,
        found: Option<User>,
        password: &str,
        address: &str,
    ) -> Result<(User, bool)> {
        let (user, rehash, attempt) = self.verify_password(name, found, password, address).await?;
        if self.second_factor_methods(user.id).await?.is_empty() {
            self.attempt_succeeded(attempt, &user, address).await?;
        } else {
            // For an account with a second factor only a right code clears its failures:
            // a known password must not reset the count of code guesses.
            drop(attempt);
        }
        Ok((user, rehash))
    }

    /// [`Rbac::verify_attempt`] leaving a right password's attempt reserved: the caller
    /// settles it ([`Rbac::attempt_succeeded`]) or drops it (it stays counted).
    ///
    /// The reservation, the hash and the failure's record run on a task of their own: a
    /// caller that stops waiting (a client gone mid-hash) leaves the attempt counted against
    /// the address and the account exactly as if it had waited.
    pub(crate) async fn verify_password(
        self,
        name: &str,
        found: Option<User>,
        password: &str,
        address: &str,
    ) -> Result<(User, bool, Attempt)> {
        let rbac = self.rbac.clone();
        let (name, password, address) = (name.to_owned(), password.to_owned(), address.to_owned());
        crate::caller::detached(async move {
            rbac.sessions()
                .verify_password_now(&name, found, &password, &address)
                .await
        })
        .await
    }

    /// [`Rbac::verify_password`] on the caller's task.
    async fn verify_password_now(
        self,
        name: &str,
        found: Option<User>,
        password: &str,
        address: &str,
    ) -> Result<(User, bool, Attempt)> {
        let hasher = &self.rbac.inner.hasher;
        let attempt = self.reserve_attempt(name, found.as_ref(), address).await?;
        let Some(user) = found else {
            hasher.verify_dummy(password).await?;
            self.attempt_failed(attempt, address).await?;
            return Err(Error::BadCredentials);
        };
        // A client gone before its hash began gets no hash: the attempt counts as failed.
        let verified = hasher
            .verify_if_awaited(password, &user.password_hash)
            .await?;
        if !verified.is_some_and(|v| v.ok) {
            self.attempt_failed(attempt, address).await?;
            return Err(Error::BadCredentials);
        }
        Ok((user, verified.is_some_and(|v| v.rehash), attempt))
    }
}

/// The throttling key of a client address.
fn address_key(address: &str) -> String {
    format!("ip:{address}")
}
