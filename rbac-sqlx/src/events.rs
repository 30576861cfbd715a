//! Security events and their delivery queue: rows made per target on demand, claimed
//! under a lease by a conditional update (two instances never hold one delivery), settled
//! by the lease holder only.

use crate::detached::Direct;
use crate::dialect::SqlDialect;
use async_trait::async_trait;
use rbac_core::events::{Attempt, Delivery, DeliveryStatus, NewEvent, SecurityEvent};
use rbac_core::store::{EventStore, StoreResult};
use rbac_core::Timestamp;

use crate::backend;
use crate::row::Columns;

/// The columns an event row is read from, prefixed `e.`.
const EVENT_COLUMNS: &str =
    "e.id, e.event_id, e.kind, e.subject, e.actor, e.ip, e.detail, e.created_at";

fn event<R: Columns>(r: &R) -> Result<SecurityEvent, sqlx::Error> {
    Ok(SecurityEvent {
        id: r.int("id")?,
        event_id: r.text("event_id")?,
        kind: r.text("kind")?,
        subject: r.text("subject")?,
        actor: r.text("actor")?,
        ip: r.text("ip")?,
        detail: r.text("detail")?,
        created_at: r.int("created_at")?,
    })
}

#[async_trait]
impl EventStore for Direct {
    async fn append_events(&self, events: &[NewEvent]) -> StoreResult<()> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            insert_events!(d, tx, events, rbac_core::now());
            tx.commit().await.map_err(backend)?;
            Ok(())
        })
    }

    async fn claim_deliveries(
        &self,
        target: &str,
        owner: &str,
        at: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        max_attempts: u32,
    ) -> StoreResult<Vec<Delivery>> {
        on_backend!(self, pool, d => {
            // Only events near or past the target's newest delivery row are looked at (an
            // event committed out of id order within 1,000 ids is still found), so a poll
            // costs the same however long the log is.
            let newest: Option<i64> = sqlx::query_scalar(&d.sql(
                "SELECT MAX(event_id) FROM rbac_deliveries WHERE target = ?",
            ))
            .bind(target)
            .fetch_one(pool)
            .await
            .map_err(backend)?;
            let missing: Vec<(i64, i64)> = sqlx::query_as(&d.sql(
                "SELECT e.id, e.created_at FROM rbac_events e WHERE e.id > ? AND NOT EXISTS \
                 (SELECT 1 FROM rbac_deliveries d WHERE d.event_id = e.id AND d.target = ?) \
                 ORDER BY e.id LIMIT 500",
            ))
            .bind(newest.unwrap_or(0) - 1000)
            .bind(target)
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            for (id, created_at) in missing {
                sqlx::query(&d.sql(d.insert_delivery()))
                    .bind(id)
                    .bind(target)
                    .bind(created_at)
                    .execute(pool)
                    .await
                    .map_err(backend)?;
            }
            let due: Vec<(i64, i32)> = sqlx::query_as(&d.sql(
                "SELECT event_id, attempts FROM rbac_deliveries \
                 WHERE target = ? AND delivered_at IS NULL AND next_at <= ? AND lease_until < ? \
                 AND attempts < ? ORDER BY event_id LIMIT ?",
            ))
            .bind(target)
            .bind(at)
            .bind(at)
            .bind(i64::from(max_attempts))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            let mut claimed = Vec::new();
            for (id, attempts) in due {
                // The claim: of two instances, the second matches nothing.
                let done = sqlx::query(&d.sql(
                    "UPDATE rbac_deliveries SET lease_owner = ?, lease_until = ? \
                     WHERE event_id = ? AND target = ? AND delivered_at IS NULL AND lease_until < ? \
                     AND next_at <= ? AND attempts < ?",
                ))
                .bind(owner)
                .bind(lease_until)
                .bind(id)
                .bind(target)
                .bind(at)
                .bind(at)
                .bind(i64::from(max_attempts))
                .execute(pool)
                .await
                .map_err(backend)?;
                if done.rows_affected() != 1 {
                    continue;
                }
                let sql = format!("SELECT {EVENT_COLUMNS} FROM rbac_events e WHERE e.id = ?");
                let r = sqlx::query(&d.sql(&sql))
                    .bind(id)
                    .fetch_one(pool)
                    .await
                    .map_err(backend)?;
                claimed.push(Delivery {
                    event: event(&r).map_err(backend)?,
                    target: target.to_string(),
                    attempts: u32::try_from(attempts).unwrap_or(0),
                });
            }
            Ok(claimed)
        })
    }

    async fn settle_delivery(
        &self,
        event: i64,
        target: &str,
        owner: &str,
        attempt: &Attempt,
    ) -> StoreResult<bool> {
        on_backend!(self, pool, d => {
            let (delivered_at, next_at, error): (Option<Timestamp>, Option<Timestamp>, String) =
                match attempt {
                    Attempt::Delivered(at) => (Some(*at), None, String::new()),
                    Attempt::Failed { next_at, error } => {
                        (None, Some(*next_at), error.chars().take(500).collect())
                    }
                };
            let done = sqlx::query(&d.sql(
                "UPDATE rbac_deliveries SET attempts = attempts + 1, lease_owner = '', \
                 lease_until = 0, delivered_at = ?, next_at = COALESCE(?, next_at), last_error = ? \
                 WHERE event_id = ? AND target = ? AND lease_owner = ? AND delivered_at IS NULL",
            ))
            .bind(delivered_at)
            .bind(next_at)
            .bind(error)
            .bind(event)
            .bind(target)
            .bind(owner)
            .execute(pool)
            .await
            .map_err(backend)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn prune_events(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        on_backend!(self, pool, d => {
            let mut tx = crate::tx::begin(d, pool).await?;
            let ids: Vec<i64> = sqlx::query_scalar(&d.sql(
                "SELECT id FROM rbac_events WHERE created_at < ? ORDER BY id LIMIT ?",
            ))
            .bind(before)
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
            if ids.is_empty() {
                return Ok(0);
            }
            let marks = vec!["?"; ids.len()].join(", ");
            let mut deleted = 0;
            for table in ["rbac_deliveries WHERE event_id", "rbac_events WHERE id"] {
                let sql = format!("DELETE FROM {table} IN ({marks})");
                let sql = d.sql_once(&sql);
                let mut query = sqlx::query(&sql);
                for id in &ids {
                    query = query.bind(*id);
                }
                deleted = query.execute(&mut *tx).await.map_err(backend)?.rows_affected();
            }
            tx.commit().await.map_err(backend)?;
            Ok(deleted)
        })
    }

    async fn recent_events(&self, limit: u32) -> StoreResult<Vec<SecurityEvent>> {
        on_backend!(self, pool, d => {
            let rows = sqlx::query(&d.sql(&format!(
                "SELECT {EVENT_COLUMNS} FROM rbac_events e ORDER BY e.id DESC LIMIT ?"
            )))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            rows.iter().map(|r| event(r).map_err(backend)).collect()
        })
    }

    async fn deliveries(&self, limit: u32) -> StoreResult<Vec<DeliveryStatus>> {
        on_backend!(self, pool, d => {
            let rows = sqlx::query(&d.sql(
                "SELECT e.event_id, e.kind, e.created_at, d.target, d.attempts, d.delivered_at, \
                 d.next_at, d.last_error FROM rbac_deliveries d \
                 JOIN rbac_events e ON e.id = d.event_id \
                 ORDER BY d.event_id DESC, d.target LIMIT ?",
            ))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(backend)?;
            rows.iter()
                .map(|r| {
                    Ok(DeliveryStatus {
                        event_id: r.text("event_id")?,
                        kind: r.text("kind")?,
                        created_at: r.int("created_at")?,
                        target: r.text("target")?,
                        attempts: u32::try_from(r.int32("attempts")?).unwrap_or(0),
                        delivered_at: r.opt_int("delivered_at")?,
                        next_at: r.int("next_at")?,
                        last_error: r.text("last_error")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(backend)
        })
    }
}
