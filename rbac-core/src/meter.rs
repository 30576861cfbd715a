//! Per-project request counting with a daily quota, batched to the store.
//!
//! Each project in use has a [`ProjectMeter`] in this process: a quota check and a count
//! are one short critical section on that project's own lock (no global lock, no store
//! write). [`RequestMeters::flush`] writes the pending counts in one batch; the server runs
//! it every second and at shutdown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::model::{utc_day, Project, ProjectId, RequestCount, Timestamp};
use crate::store::Store;

#[derive(Debug, Default)]
struct MeterState {
    /// The UTC day `used` counts.
    day: i64,
    /// Requests allowed today so far: the store's count when loaded plus ours since.
    used: i64,
    /// Counts not yet written, per day (at most two days around midnight).
    pending: Vec<(i64, i64)>,
}

/// One project's request counter and quota in this process.
#[derive(Debug)]
pub struct ProjectMeter {
    project: ProjectId,
    max: i64,
    state: Mutex<MeterState>,
}

impl ProjectMeter {
    fn lock(&self) -> MutexGuard<'_, MeterState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one request at `at` unless the day's quota is used up; `false` when it is.
    pub fn try_take(&self, at: Timestamp) -> bool {
        let day = utc_day(at);
        let mut s = self.lock();
        if day > s.day {
            s.day = day;
            s.used = 0;
        }
        if s.used >= self.max {
            return false;
        }
        s.used += 1;
        match s.pending.iter_mut().find(|(d, _)| *d == day) {
            Some((_, n)) => *n += 1,
            None => s.pending.push((day, 1)),
        }
        true
    }

    /// The daily quota.
    pub fn max(&self) -> i64 {
        self.max
    }

    /// Requests counted today (as this process knows).
    pub fn used_today(&self, at: Timestamp) -> i64 {
        let s = self.lock();
        if s.day == utc_day(at) {
            s.used
        } else {
            0
        }
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

    /// The meter of a project as just read from the store: the existing one (whose count
    /// includes requests not yet flushed), or a new one starting from the stored count.
    pub fn meter_of(&self, project: &Project, at: Timestamp) -> Arc<ProjectMeter> {
        let mut meters = self.lock();
        if let Some(m) = meters.get(&project.id) {
            if m.max == project.request_max {
                return m.clone();
            }
        }
        let today = utc_day(at);
        let previous = meters.get(&project.id).map(|m| {
            let s = m.lock();
            (s.day, s.used, s.pending.clone())
        });
        let state = match previous {
            Some((day, used, pending)) => MeterState { day, used, pending },
            None => MeterState {
                day: today,
                used: if project.request_day == today {
                    project.request_today
                } else {
                    0
                },
                pending: Vec::new(),
            },
        };
        let meter = Arc::new(ProjectMeter {
            project: project.id,
            max: project.request_max,
            state: Mutex::new(state),
        });
        meters.insert(project.id, meter.clone());
        meter
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

    /// Writes every pending count in one batch; on failure the counts stay pending.
    /// Returns how many requests were written.
    pub async fn flush(&self, store: &dyn Store) -> crate::error::Result<i64> {
        let meters: Vec<Arc<ProjectMeter>> = self.lock().values().cloned().collect();
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
