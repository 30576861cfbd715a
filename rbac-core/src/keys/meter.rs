//! Per-key request counting against a daily limit that holds across instances.
//!
//! The limit is kept in the store: an instance reserves a slice of it at a time
//! ([`ApiKeyStore::reserve_key_quota`](super::port::ApiKeyStore), atomic on every
//! backend) and spends the slice locally, so a request costs one short critical section on
//! its key's own lock, and only the first request of each slice a store round trip
//! (slices start at 64 and double, up to 4096, while a key uses one in under 100 ms).
//! Slices shrink as the quota runs out (a quarter of what is left), so the instances
//! sharing a store together allow exactly the quota, never more; an instance that stops
//! using a key gives its unused slice back at the next flush, so none is lost to it.
//! Counts for reporting (`request_total`, `request_today`) reach the store in batches:
//! [`RequestMeters::flush`], which the server runs every second and at shutdown.
//!
//! ```
//! # async fn run() -> Result<(), rbac_core::Error> {
//! use rbac_core::meter::RequestMeters;
//! use rbac_core::service::{LoginInput, NewApiKey};
//! use rbac_core::{MemoryStore, Rbac};
//!
//! # let config = rbac_core::RbacConfig { hasher: rbac_core::HasherConfig { memory_kib: 64, iterations: 1, parallelism: 1, ..Default::default() }, ..Default::default() };
//! let rbac = Rbac::builder(MemoryStore::new())
//!     .secret("at least 32 bytes of signing secret")
//!     .privileges(["MapRead"])
//!     .admin_password("Admin-password-1")
//! #   .config(config)
//!     .build()
//!     .await?;
//! let login = LoginInput::new("admin", "Admin-password-1", "10.0.0.7");
//! let token = rbac.sessions().login(&login).await?.signed_in()?.token.token;
//! let admin = rbac.authorizer().authenticate_token(&token).await?;
//! let key = rbac.keys().create(&admin, NewApiKey::new("maps").daily_limit(1000)).await?;
//!
//! // One meter per key in this process, shared by its requests.
//! let meters = RequestMeters::default();
//! let meter = meters.meter_of(&key, rbac_core::now());
//! assert_eq!(meter.limit(), Some(1000));
//! assert!(meter.try_take(rbac.store().as_ref(), rbac_core::now()).await?);
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::port::ApiKeyStore;
use crate::model::{utc_day, ApiKey, ApiKeyId, RequestCount, Timestamp};

/// Requests the first reservation of a key asks for: the store sees one round trip
/// per slice.
pub const QUOTA_SLICE: i64 = 64;

/// The most one reservation asks for: a key used faster than a slice per
/// [`QUOTA_REFILL_AIM`] doubles its slices up to this.
pub const QUOTA_SLICE_MAX: i64 = 4096;

/// How often at most a busy key should need a reservation in one process.
pub const QUOTA_REFILL_AIM: Duration = Duration::from_millis(100);

/// The stored limit of a key that is counted, not limited.
const NO_LIMIT: i64 = -1;

/// How long a used-up quota is refused from memory before the store is asked again.
pub const EXHAUSTED_RECHECK: Duration = Duration::from_secs(1);

/// How long a key's slice may sit unused in this process before a flush gives it back.
pub const QUOTA_IDLE: Duration = Duration::from_secs(2);

#[derive(Debug)]
struct MeterState {
    /// The UTC day `lease` was reserved for.
    day: i64,
    /// Requests reserved in the store for `day` and not yet used here.
    lease: i64,
    /// Counts not yet written, per day (at most two days around midnight).
    pending: Vec<(i64, i64)>,
    /// When this process last allowed a request of the key.
    last_take: Instant,
    /// What the next reservation asks for (doubling while slices go fast, halving while
    /// they last long).
    want: i64,
    /// When the last reservation was granted.
    last_refill: Option<Instant>,
    /// When the store last said `day`'s quota was used up: until a second has passed,
    /// refusals need no store round trip (an instance giving a slice back is seen after).
    exhausted: Option<Instant>,
}

impl MeterState {
    /// Moves to `day` if it is later (yesterday's slice is worth nothing today); returns
    /// the day to count in (a clock that steps back keeps the later day).
    fn roll(&mut self, day: i64) -> i64 {
        if day > self.day {
            self.day = day;
            self.lease = 0;
            self.exhausted = None;
        }
        self.day
    }

    fn count(&mut self, day: i64) {
        self.last_take = Instant::now();
        match self.pending.iter_mut().find(|(d, _)| *d == day) {
            Some((_, n)) => *n += 1,
            None => self.pending.push((day, 1)),
        }
    }
}

/// One key's share of its daily quota in this process, and its uncounted requests.
#[derive(Debug)]
pub struct KeyMeter {
    key: ApiKeyId,
    /// The daily limit; [`NO_LIMIT`] for a key that is counted, not limited.
    limit: AtomicI64,
    state: Mutex<MeterState>,
    /// One reservation at a time per key in this process; the others wait for it and
    /// then spend the slice it brought.
    refill: tokio::sync::Mutex<()>,
}

impl KeyMeter {
    fn new(key: ApiKeyId, limit: Option<i64>, day: i64) -> Self {
        KeyMeter {
            key,
            limit: AtomicI64::new(limit.unwrap_or(NO_LIMIT)),
            state: Mutex::new(MeterState {
                day,
                lease: 0,
                pending: Vec::new(),
                last_take: Instant::now(),
                want: QUOTA_SLICE,
                last_refill: None,
                exhausted: None,
            }),
            refill: tokio::sync::Mutex::new(()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, MeterState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Spends one request of the slice held for `at`'s day: `Some(true)`; `Some(false)`
    /// when the store said the quota is used up less than [`EXHAUSTED_RECHECK`] ago;
    /// `None` when a reservation must decide.
    fn take_leased(&self, at: Timestamp) -> Option<bool> {
        let mut s = self.lock();
        let day = s.roll(utc_day(at));
        if s.lease == 0 {
            let recent = s.exhausted.is_some_and(|t| t.elapsed() < EXHAUSTED_RECHECK);
            return recent.then_some(false);
        }
        s.lease -= 1;
        s.count(day);
        Some(true)
    }

    /// Counts one request at `at` unless the day's quota is used up across every instance
    /// on the store: `Ok(false)` when it is, and the request is not counted.
    pub async fn try_take(
        &self,
        store: &dyn ApiKeyStore,
        at: Timestamp,
    ) -> crate::error::Result<bool> {
        if self.limit().is_none() {
            let mut s = self.lock();
            let day = s.roll(utc_day(at));
            s.count(day);
            return Ok(true);
        }
        if let Some(taken) = self.take_leased(at) {
            return Ok(taken);
        }
        let _turn = self.refill.lock().await;
        // Another request may have brought a slice (or the refusal) while this one waited.
        if let Some(taken) = self.take_leased(at) {
            return Ok(taken);
        }
        let (day, want) = {
            let mut s = self.lock();
            let day = s.roll(utc_day(at));
            if let Some(last) = s.last_refill {
                let took = last.elapsed();
                s.want = if took < QUOTA_REFILL_AIM {
                    (s.want * 2).min(QUOTA_SLICE_MAX)
                } else if took > QUOTA_REFILL_AIM * 10 {
                    (s.want / 2).max(QUOTA_SLICE)
                } else {
                    s.want
                };
            }
            (day, s.want)
        };
        let granted = store.reserve_key_quota(self.key, day, want).await?;
        let mut s = self.lock();
        if granted == 0 {
            if s.day == day {
                s.exhausted = Some(Instant::now());
            }
            return Ok(false);
        }
        s.exhausted = None;
        s.last_refill = Some(Instant::now());
        if s.day == day {
            s.lease += granted - 1;
        }
        // Else midnight passed during the reservation: this request was allowed within
        // yesterday's quota, and the rest of that slice is worth nothing today.
        s.count(day);
        Ok(true)
    }

    /// The daily limit (`None`: counted, not limited).
    pub fn limit(&self) -> Option<i64> {
        Some(self.limit.load(Ordering::Relaxed)).filter(|l| *l != NO_LIMIT)
    }
}

/// Every key meter of this process.
#[derive(Debug, Default)]
pub struct RequestMeters {
    meters: Mutex<HashMap<ApiKeyId, Arc<KeyMeter>>>,
}

impl RequestMeters {
    fn lock(&self) -> MutexGuard<'_, HashMap<ApiKeyId, Arc<KeyMeter>>> {
        self.meters.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The meter of a key as just read from the store (its slice and uncounted
    /// requests kept when it exists; the quota as the store has it now).
    pub fn meter_of(&self, api_key: &ApiKey, at: Timestamp) -> Arc<KeyMeter> {
        let mut meters = self.lock();
        let meter = meters.entry(api_key.id).or_insert_with(|| {
            Arc::new(KeyMeter::new(api_key.id, api_key.daily_limit, utc_day(at)))
        });
        let limit = api_key.daily_limit.unwrap_or(NO_LIMIT);
        if meter.limit.swap(limit, Ordering::Relaxed) != limit {
            meter.lock().exhausted = None;
        }
        meter.clone()
    }

    /// Drops a key's meter once its counts are flushed (a deleted key).
    pub fn forget(&self, key: ApiKeyId) {
        let mut meters = self.lock();
        if meters
            .get(&key)
            .is_some_and(|m| m.lock().pending.is_empty())
        {
            meters.remove(&key);
        }
    }

    /// Writes every pending count in one batch (on failure the counts stay pending), and
    /// gives back the slices of keys unused here for `idle` (zero: all of them, as at
    /// shutdown). Returns how many requests were written.
    pub async fn flush(
        &self,
        store: &dyn ApiKeyStore,
        idle: Duration,
    ) -> crate::error::Result<i64> {
        let meters: Vec<Arc<KeyMeter>> = self.lock().values().cloned().collect();
        for m in &meters {
            let unused = {
                let mut s = m.lock();
                if s.lease > 0 && s.last_take.elapsed() >= idle {
                    Some((s.day, std::mem::take(&mut s.lease)))
                } else {
                    None
                }
            };
            if let Some((day, unused)) = unused {
                // A failed release leaves the quota under-used for the day, never over.
                if let Err(e) = store.release_key_quota(m.key, day, unused).await {
                    tracing::warn!(key = m.key, unused, error = %e, "giving back a quota slice failed");
                }
            }
        }
        let mut batch = Vec::new();
        for m in &meters {
            let pending = std::mem::take(&mut m.lock().pending);
            batch.extend(pending.into_iter().map(|(day, requests)| RequestCount {
                key: m.key,
                day,
                requests,
            }));
        }
        if batch.is_empty() {
            return Ok(0);
        }
        let written: i64 = batch.iter().map(|c| c.requests).sum();
        if let Err(e) = store.add_key_requests(&batch).await {
            for c in batch {
                if let Some(m) = meters.iter().find(|m| m.key == c.key) {
                    let mut s = m.lock();
                    match s.pending.iter_mut().find(|(d, _)| *d == c.day) {
                        Some((_, n)) => *n += c.requests,
                        None => s.pending.push((c.day, c.requests)),
                    }
                }
            }
            return Err(e.into());
        }
        Ok(written)
    }
}
