//! Per-project request counting against a daily quota that holds across instances.
//!
//! The quota is kept in the store: an instance reserves a slice of it at a time
//! ([`ProjectStore::reserve_project_quota`](super::port::ProjectStore), atomic on every
//! backend) and spends the slice locally, so a request costs one short critical section on
//! its project's own lock, and only the first request of each slice a store round trip
//! (slices start at 64 and double, up to 4096, while a project uses one in under 100 ms).
//! Slices shrink as the quota runs out (a quarter of what is left), so the instances
//! sharing a store together allow exactly the quota, never more; an instance that stops
//! using a project gives its unused slice back at the next flush, so none is lost to it.
//! Counts for reporting (`request_total`, `request_today`) reach the store in batches:
//! [`RequestMeters::flush`], which the server runs every second and at shutdown.
//!
//! ```
//! # async fn run() -> Result<(), rbac_core::Error> {
//! use rbac_core::meter::RequestMeters;
//! use rbac_core::service::LoginInput;
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
//! let project = rbac.keys().create(&admin, "maps", 1).await?;
//!
//! // One meter per project in this process, shared by its requests.
//! let meters = RequestMeters::default();
//! let meter = meters.meter_of(&project, rbac_core::now());
//! assert_eq!(meter.max(), project.request_max);
//! assert!(meter.try_take(rbac.store().as_ref(), rbac_core::now()).await?);
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::port::ProjectStore;
use crate::model::{utc_day, Project, ProjectId, RequestCount, Timestamp};

/// Requests the first reservation of a project asks for: the store sees one round trip
/// per slice.
pub const QUOTA_SLICE: i64 = 64;

/// The most one reservation asks for: a project used faster than a slice per
/// [`QUOTA_REFILL_AIM`] doubles its slices up to this.
pub const QUOTA_SLICE_MAX: i64 = 4096;

/// How often at most a busy project should need a reservation in one process.
pub const QUOTA_REFILL_AIM: Duration = Duration::from_millis(100);

/// How long a used-up quota is refused from memory before the store is asked again.
pub const EXHAUSTED_RECHECK: Duration = Duration::from_secs(1);

/// How long a project's slice may sit unused in this process before a flush gives it back.
pub const QUOTA_IDLE: Duration = Duration::from_secs(2);

#[derive(Debug)]
struct MeterState {
    /// The UTC day `lease` was reserved for.
    day: i64,
    /// Requests reserved in the store for `day` and not yet used here.
    lease: i64,
    /// Counts not yet written, per day (at most two days around midnight).
    pending: Vec<(i64, i64)>,
    /// When this process last allowed a request of the project.
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

/// One project's share of its daily quota in this process, and its uncounted requests.
#[derive(Debug)]
pub struct ProjectMeter {
    project: ProjectId,
    max: AtomicI64,
    state: Mutex<MeterState>,
    /// One reservation at a time per project in this process; the others wait for it and
    /// then spend the slice it brought.
    refill: tokio::sync::Mutex<()>,
}

impl ProjectMeter {
    fn new(project: ProjectId, max: i64, day: i64) -> Self {
        ProjectMeter {
            project,
            max: AtomicI64::new(max),
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
        store: &dyn ProjectStore,
        at: Timestamp,
    ) -> crate::error::Result<bool> {
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
        let granted = store.reserve_project_quota(self.project, day, want).await?;
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

    /// The daily quota.
    pub fn max(&self) -> i64 {
        self.max.load(Ordering::Relaxed)
    }
}

/// Every project meter of this process.
#[derive(Debug, Default)]
pub struct RequestMeters {
    meters: Mutex<HashMap<ProjectId, Arc<ProjectMeter>>>,
}

impl RequestMeters {
    fn lock(&self) -> MutexGuard<'_, HashMap<ProjectId, Arc<ProjectMeter>>> {
        self.meters.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The meter of a project as just read from the store (its slice and uncounted
    /// requests kept when it exists; the quota as the store has it now).
    pub fn meter_of(&self, project: &Project, at: Timestamp) -> Arc<ProjectMeter> {
        let mut meters = self.lock();
        let meter = meters.entry(project.id).or_insert_with(|| {
            Arc::new(ProjectMeter::new(
                project.id,
                project.request_max,
                utc_day(at),
            ))
        });
        if meter.max.swap(project.request_max, Ordering::Relaxed) != project.request_max {
            meter.lock().exhausted = None;
        }
        meter.clone()
    }

    /// Drops a project's meter once its counts are flushed (a deleted project).
    pub fn forget(&self, project: ProjectId) {
        let mut meters = self.lock();
        if meters
            .get(&project)
            .is_some_and(|m| m.lock().pending.is_empty())
        {
            meters.remove(&project);
        }
    }

    /// Writes every pending count in one batch (on failure the counts stay pending), and
    /// gives back the slices of projects unused here for `idle` (zero: all of them, as at
    /// shutdown). Returns how many requests were written.
    pub async fn flush(
        &self,
        store: &dyn ProjectStore,
        idle: Duration,
    ) -> crate::error::Result<i64> {
        let meters: Vec<Arc<ProjectMeter>> = self.lock().values().cloned().collect();
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
                if let Err(e) = store.release_project_quota(m.project, day, unused).await {
                    tracing::warn!(project = m.project, unused, error = %e, "giving back a quota slice failed");
                }
            }
        }
        let mut batch = Vec::new();
        for m in &meters {
            let pending = std::mem::take(&mut m.lock().pending);
            batch.extend(pending.into_iter().map(|(day, requests)| RequestCount {
                project: m.project,
                day,
                requests,
            }));
        }
        if batch.is_empty() {
            return Ok(0);
        }
        let written: i64 = batch.iter().map(|c| c.requests).sum();
        if let Err(e) = store.add_project_requests(&batch).await {
            for c in batch {
                if let Some(m) = meters.iter().find(|m| m.project == c.project) {
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
