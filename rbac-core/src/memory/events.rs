//! Security events and their deliveries in memory.

use async_trait::async_trait;

use super::{MemoryDelivery, MemoryStore};
use crate::events::{Attempt, Delivery, DeliveryStatus, NewEvent};
use crate::model::*;
use crate::store::*;

#[async_trait]
impl EventStore for MemoryStore {
    async fn append_events(&self, events: &[NewEvent]) -> StoreResult<()> {
        let mut t = self.lock();
        for e in events {
            t.record_event(e);
        }
        Ok(())
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
        let mut t = self.lock();
        let mut claimed = Vec::new();
        let events = t.events.clone();
        for event in events {
            if claimed.len() >= limit as usize {
                break;
            }
            let d = t
                .deliveries
                .entry((event.id, target.to_string()))
                .or_insert_with(|| MemoryDelivery {
                    next_at: event.created_at,
                    ..MemoryDelivery::default()
                });
            if d.delivered_at.is_some()
                || d.next_at > at
                || d.lease_until >= at
                || d.attempts >= max_attempts
            {
                continue;
            }
            d.lease_owner = owner.to_string();
            d.lease_until = lease_until;
            claimed.push(Delivery {
                attempts: d.attempts,
                event,
                target: target.to_string(),
            });
        }
        Ok(claimed)
    }

    async fn settle_delivery(
        &self,
        event: i64,
        target: &str,
        owner: &str,
        attempt: &Attempt,
    ) -> StoreResult<bool> {
        let mut t = self.lock();
        let Some(d) = t.deliveries.get_mut(&(event, target.to_string())) else {
            return Ok(false);
        };
        if d.lease_owner != owner || d.delivered_at.is_some() {
            return Ok(false);
        }
        d.attempts += 1;
        d.lease_owner.clear();
        d.lease_until = 0;
        match attempt {
            Attempt::Delivered(at) => d.delivered_at = Some(*at),
            Attempt::Failed { next_at, error } => {
                d.next_at = *next_at;
                d.last_error = error.chars().take(500).collect();
            }
        }
        Ok(true)
    }

    async fn prune_events(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        let mut t = self.lock();
        let gone: Vec<i64> = t
            .events
            .iter()
            .filter(|e| e.created_at < before)
            .take(limit as usize)
            .map(|e| e.id)
            .collect();
        t.events.retain(|e| !gone.contains(&e.id));
        t.deliveries.retain(|(id, _), _| !gone.contains(id));
        Ok(gone.len() as u64)
    }

    async fn recent_events(&self, limit: u32) -> StoreResult<Vec<crate::events::SecurityEvent>> {
        let t = self.lock();
        Ok(t.events
            .iter()
            .rev()
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn deliveries(&self, limit: u32) -> StoreResult<Vec<DeliveryStatus>> {
        let t = self.lock();
        let mut out: Vec<DeliveryStatus> = t
            .deliveries
            .iter()
            .filter_map(|((id, target), d)| {
                let e = t.events.iter().find(|e| e.id == *id)?;
                Some(DeliveryStatus {
                    event_id: e.event_id.clone(),
                    kind: e.kind.clone(),
                    created_at: e.created_at,
                    target: target.clone(),
                    attempts: d.attempts,
                    delivered_at: d.delivered_at,
                    next_at: d.next_at,
                    last_error: d.last_error.clone(),
                })
            })
            .collect();
        out.sort_by(|a, b| (b.created_at, &b.event_id).cmp(&(a.created_at, &a.event_id)));
        out.truncate(limit as usize);
        Ok(out)
    }
}
