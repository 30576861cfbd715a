//! The role snapshot: loading, reloading and reading roles.

use super::*;

impl Authorizer {
    /// Loads every role into the snapshot.
    pub async fn load_roles(&self) -> Result<()> {
        let epoch = self.role_epoch.load(Ordering::Acquire);
        let roles = self.store.roles().await?;
        let table: RoleTable = roles
            .iter()
            .map(|r| (r.id, Arc::new(self.grant_of(r, epoch))))
            .collect();
        self.snapshot.rcu(|snapshot| {
            if self.role_epoch.load(Ordering::Acquire) != epoch {
                return Snapshot::clone(snapshot);
            }
            let mut next = Snapshot {
                roles: table.clone(),
                bundles: snapshot.bundles.clone(),
                scopes: snapshot.scopes.clone(),
                parents: snapshot.parents.clone(),
            };
            next.settle(None);
            next
        });
        Ok(())
    }

    /// Puts a role in the snapshot, and every role it includes, reading each from the store
    /// if it is missing. A load that a concurrent reload overtook is not stored (it may
    /// predate that change) and is retried a few times; if changes keep racing, the role
    /// stays absent and grants nothing (nor to the roles that include it).
    pub async fn ensure_role(&self, id: RoleId) -> Result<()> {
        let snapshot = self.snapshot.load();
        let table = &snapshot.roles;
        match table.get(&id) {
            Some(grant) if grant.includes.iter().all(|i| table.contains_key(i)) => {
                self.stats.role_hits.incr();
                return Ok(());
            }
            _ => {}
        }
        drop(snapshot);
        let mut seen = std::collections::HashSet::new();
        let mut todo = vec![id];
        while let Some(next) = todo.pop() {
            if !seen.insert(next) {
                continue;
            }
            self.ensure_one_role(next).await?;
            if let Some(grant) = self.snapshot.load().roles.get(&next) {
                todo.extend(grant.includes.iter().copied());
            }
        }
        Ok(())
    }

    /// [`ensure_role`](Self::ensure_role) for one role, its inclusions aside.
    async fn ensure_one_role(&self, id: RoleId) -> Result<()> {
        if self.snapshot.load().roles.contains_key(&id) {
            self.stats.role_hits.incr();
            return Ok(());
        }
        self.stats.role_misses.incr();
        for _ in 0..3 {
            let epoch = self.role_epoch.load(Ordering::Acquire);
            let role = self.store.role(id).await?;
            let mut stored = false;
            self.snapshot.rcu(|snapshot| {
                let mut next = Snapshot::clone(snapshot);
                stored = self.role_epoch.load(Ordering::Acquire) == epoch;
                if stored {
                    match &role {
                        Some(r) => next.roles.insert(id, Arc::new(self.grant_of(r, epoch))),
                        None => next.roles.remove(&id),
                    };
                    next.settle(Some(snapshot));
                }
                next
            });
            if stored || self.snapshot.load().roles.contains_key(&id) {
                break;
            }
        }
        Ok(())
    }

    /// The grant of a stored role read at `epoch`.
    fn grant_of(&self, role: &crate::model::Role, epoch: u64) -> RoleGrant {
        let mut grant = RoleGrant::of(role, &self.registry);
        grant.epoch = epoch;
        grant
    }

    /// The snapshot entry of a role, if loaded.
    pub fn role(&self, id: RoleId) -> Option<Arc<RoleGrant>> {
        self.snapshot.load().roles.get(&id).cloned()
    }

    /// Re-reads one role into the snapshot. The entry stays as it was until the fresh one
    /// replaces it. A reload that a newer one overtook drops the entry instead of storing
    /// (it cannot tell whose read is newer, and the newer reload may not have stored yet),
    /// unless a newer reload of this role already stored it: when this returns, the entry
    /// is absent or was read after this reload began, so the very next request sees the
    /// change. If the store fails, the entry is dropped too (fail closed: re-read on the
    /// next request).
    pub(super) async fn reload_role(&self, id: RoleId) {
        let epoch = self.role_epoch.fetch_add(1, Ordering::AcqRel) + 1;
        let fresh = self.store.role(id).await;
        self.snapshot.rcu(|snapshot| {
            let mut next = Snapshot::clone(snapshot);
            match &fresh {
                Ok(role) if self.role_epoch.load(Ordering::Acquire) == epoch => match role {
                    Some(r) => {
                        next.roles.insert(id, Arc::new(self.grant_of(r, epoch)));
                    }
                    None => {
                        next.roles.remove(&id);
                    }
                },
                // Overtaken: an entry a newer reload of this role stored is at least as
                // fresh as this read, and stays; anything else is dropped.
                Ok(_) | Err(_) => {
                    if next.roles.get(&id).is_none_or(|g| g.epoch <= epoch) {
                        next.roles.remove(&id);
                    }
                }
            }
            next.settle(Some(snapshot));
            next
        });
        if let Err(e) = fresh {
            tracing::warn!(error = %e, role = id, "role reload failed; it will be re-read on use");
        }
        // A role dropped above is read again on its holders' next request; a role that
        // others include is read again now, or they would confer less until it changes.
        let snapshot = self.snapshot.load();
        let table = &snapshot.roles;
        let included = !table.contains_key(&id) && table.values().any(|g| g.includes.contains(&id));
        drop(snapshot);
        if included {
            if let Err(e) = self.ensure_role(id).await {
                tracing::warn!(error = %e, role = id, "re-reading an included role failed");
            }
        }
    }
}

/// What a role confers and reaches through the roles it includes.
type Closure = (PrivilegeSet, PrivilegeSet);

/// Settles inclusion over the snapshot: every role that includes others gets what it
/// confers now (its own privileges and its enabled included roles', transitively) and
/// everything it could confer. Roles that include nothing are settled by
/// [`RoleGrant::of`]; only includers are rebuilt, and only when they change.
pub(super) fn settle(table: &mut RoleTable) {
    let includers: Vec<RoleId> = table
        .values()
        .filter(|g| !g.includes.is_empty())
        .map(|g| g.id)
        .collect();
    if includers.is_empty() {
        return;
    }
    let mut memo: HashMap<RoleId, Closure> = HashMap::new();
    for id in &includers {
        closure(table, *id, &mut memo, &mut Vec::new());
    }
    for id in includers {
        let (Some(grant), Some((confers, reach))) = (table.get(&id), memo.remove(&id)) else {
            continue;
        };
        if grant.confers != confers || grant.reach != reach {
            let mut settled = RoleGrant::clone(grant);
            settled.confers = confers;
            settled.reach = reach;
            table.insert(id, Arc::new(settled));
        }
    }
}

/// The closure of one role, memoised; a role absent from the snapshot (deleted) or met
/// again on the way (a cycle, which stores refuse) adds nothing.
fn closure(
    table: &RoleTable,
    id: RoleId,
    memo: &mut HashMap<RoleId, Closure>,
    path: &mut Vec<RoleId>,
) -> Closure {
    if let Some(done) = memo.get(&id) {
        return done.clone();
    }
    let Some(grant) = table.get(&id) else {
        return Closure::default();
    };
    if path.contains(&id) {
        return Closure::default();
    }
    path.push(id);
    let mut confers = grant.privileges.clone();
    let mut reach = grant.privileges.clone();
    for included in &grant.includes {
        let (c, r) = closure(table, *included, memo, path);
        confers.union_with(&c);
        reach.union_with(&r);
    }
    path.pop();
    if !grant.enabled {
        confers = PrivilegeSet::default();
    }
    memo.insert(id, (confers.clone(), reach.clone()));
    (confers, reach)
}
