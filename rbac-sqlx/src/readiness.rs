//! Readiness: the database answers, its schema is current, and it takes a write.
//!
//! A store can answer reads while no write gets through (SQLite's write lock held, a
//! primary gone read-only), so the probe really writes: it takes the write lock, updates a
//! row and rolls back. An anonymous client can ask as often as it likes, so at most one
//! probe runs at a time, its answer is kept for a second, and a probe that takes longer
//! than a second answers "not ready" (the probe itself still ends on its own).

use std::time::{Duration, Instant};

use rbac_core::StoreError;
use tokio::task::JoinHandle;

use crate::dialect::SqlDialect;
use crate::{backend, SqlStore};

/// How long a probe's answer is kept.
const KEEP: Duration = Duration::from_secs(1);
/// How long a probe may take before the store counts as not ready.
const WITHIN: Duration = Duration::from_secs(1);

/// The last answer, and the probe in flight.
#[derive(Default)]
pub(crate) struct Probe {
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    last: Option<(Instant, Result<(), String>)>,
    running: Option<JoinHandle<(Instant, Result<(), StoreError>)>>,
}

impl SqlStore {
    /// Whether the database answers, every embedded migration is applied and a write gets
    /// through (a real write, rolled back): `Err` says which is not so. At most one probe
    /// runs at a time; its answer is reused for a second; one slower than a second is
    /// `Err` (see the module docs).
    pub async fn readiness(&self) -> Result<(), StoreError> {
        let mut state = self.probe.state.lock().await;
        if let Some((at, answer)) = &state.last {
            if at.elapsed() < KEEP {
                return answer.clone().map_err(StoreError::backend);
            }
        }
        // The probe lives in the state, not in this call: a caller that goes away while it
        // runs leaves it for the next caller to wait on, so no second one starts beside it.
        // A probe that ended longer ago than an answer is kept says nothing about now: it is
        // set aside and a fresh one runs.
        let answer = loop {
            let running = match &mut state.running {
                Some(running) => running,
                idle => {
                    let store = self.clone();
                    idle.insert(tokio::spawn(async move {
                        let answer = store.probe_once().await;
                        (Instant::now(), answer)
                    }))
                }
            };
            let Ok(joined) = tokio::time::timeout(WITHIN, running).await else {
                break Err(format!("the store took no write within {WITHIN:?}"));
            };
            state.running = None;
            match joined {
                Ok((ended, _)) if ended.elapsed() >= KEEP => continue,
                Ok((_, done)) => break done.map_err(|e| e.to_string()),
                Err(join) => break Err(format!("the readiness probe failed: {join}")),
            }
        };
        state.last = Some((Instant::now(), answer.clone()));
        answer.map_err(StoreError::backend)
    }

    /// One probe: the migrations, then a write rolled back.
    async fn probe_once(&self) -> Result<(), StoreError> {
        let sql = "SELECT version FROM _sqlx_migrations WHERE success = TRUE";
        let applied: Vec<i64> = self
            .detached(move |d| async move {
                on_backend!(d, pool, dialect => {
                    let mut tx = crate::tx::begin(dialect, pool).await?;
                    let applied: Vec<i64> = sqlx::query_scalar(sql)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(backend)?;
                    sqlx::query(&dialect.sql("UPDATE rbac_settings SET value = value WHERE name = ?"))
                        .bind("readiness")
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    tx.rollback().await.map_err(backend)?;
                    Ok(applied)
                })
            })
            .await?;
        // Every version the schema needs, the library's and the application's, not a
        // count (one list's rows cannot stand in for the other's).
        let expected = self.expected_versions();
        let missing: Vec<i64> = expected
            .iter()
            .copied()
            .filter(|v| !applied.contains(v))
            .collect();
        if !missing.is_empty() {
            return Err(StoreError::backend(format!(
                "schema not current: {} of {} migrations applied (missing {missing:?})",
                expected.len() - missing.len(),
                expected.len()
            )));
        }
        Ok(())
    }
}
