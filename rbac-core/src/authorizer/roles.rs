//! The role snapshot: loading, reloading and reading roles.

use super::*;

impl Authorizer {
    /// Loads every role into the snapshot.
    pub async fn load_roles(&self) -> Result<()> {
        let epoch = self.role_epoch.load(Ordering::Acquire);
        let roles = self.store.list_roles(Page::ALL).await?;
        let table: RoleTable = roles
            .rows
            .iter()
            .map(|r| (r.id, Arc::new(RoleGrant::of(r, &self.registry))))
            .collect();
        if self.role_epoch.load(Ordering::Acquire) == epoch {
            self.roles.store(Arc::new(table));
        }
        Ok(())
    }

    /// Puts one role in the snapshot, reading it from the store if it is missing. A load
    /// that a concurrent reload overtook is not stored (it may predate that change) and is
    /// retried a few times; if changes keep racing, the role stays absent and is denied.
    pub async fn ensure_role(&self, id: RoleId) -> Result<()> {
        if self.roles.load().contains_key(&id) {
            self.stats.role_hits.incr();
            return Ok(());
        }
        self.stats.role_misses.incr();
        for _ in 0..3 {
            let epoch = self.role_epoch.load(Ordering::Acquire);
            let role = self.store.role(id).await?;
            let mut stored = false;
            self.roles.rcu(|table| {
                let mut next = RoleTable::clone(table);
                stored = self.role_epoch.load(Ordering::Acquire) == epoch;
                if stored {
                    match &role {
                        Some(r) => next.insert(id, Arc::new(RoleGrant::of(r, &self.registry))),
                        None => next.remove(&id),
                    };
                }
                next
            });
            if stored || self.roles.load().contains_key(&id) {
                break;
            }
        }
        Ok(())
    }

    /// The snapshot entry of a role, if loaded.
    pub fn role(&self, id: RoleId) -> Option<Arc<RoleGrant>> {
        self.roles.load().get(&id).cloned()
    }

    /// Re-reads one role into the snapshot. The entry stays as it was until the fresh one
    /// replaces it. A reload that a newer one overtook drops the entry instead of storing
    /// (it cannot tell whose read is newer, and the newer reload may not have stored yet):
    /// when this returns, the entry is absent or was read after this reload began, so the
    /// very next request sees the change. If the store fails, the entry is dropped too
    /// (fail closed: re-read on the next request).
    pub(super) async fn reload_role(&self, id: RoleId) {
        let epoch = self.role_epoch.fetch_add(1, Ordering::AcqRel) + 1;
        let fresh = self.store.role(id).await;
        self.roles.rcu(|table| {
            let mut next = RoleTable::clone(table);
            match &fresh {
                Ok(role) if self.role_epoch.load(Ordering::Acquire) == epoch => match role {
                    Some(r) => {
                        next.insert(id, Arc::new(RoleGrant::of(r, &self.registry)));
                    }
                    None => {
                        next.remove(&id);
                    }
                },
                Ok(_) | Err(_) => {
                    next.remove(&id);
                }
            }
            next
        });
        if let Err(e) = fresh {
            tracing::warn!(error = %e, role = id, "role reload failed; it will be re-read on use");
        }
    }
}
