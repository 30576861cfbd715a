//! Effective sets: what a user holds globally and within each scope, as bundles of roles.
//!
//! A bundle is a set of role ids, interned to a number; the snapshot keeps each bundle's
//! union of what its roles confer, rebuilt in the same swap as any role it contains. A
//! principal carries the bundle numbers of its assignments (one global, one per scope it
//! holds roles in, its ancestors' roles folded in), so a check is one snapshot load, one
//! lookup and a bit test however many roles the user holds.

use std::collections::HashSet;

use super::scopes::{Numbered, ScopeNumber, ScopeNumbers, ScopeParents, UNNUMBERED};
use super::*;
use crate::authz::scope::{Assignment, Scope};

/// An interned set of role ids; 0 is the empty set.
pub(super) type BundleId = u32;

/// The bundle that holds within one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ScopedBundle {
    scope: ScopeNumber,
    bundle: BundleId,
}

/// One assignment of [`Grants`]: the role and the index of its scope's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    role_id: RoleId,
    scope: u32,
}

impl Held {
    /// The scope index of a role held everywhere.
    const EVERYWHERE: u32 = u32::MAX;
}

/// The roles a principal holds, resolved to bundles by one authorizer (another authorizer
/// finds no privilege in them: resolve a principal where it is checked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// The authorizer that resolved them (0: none; holds nothing anywhere).
    origin: u64,
    /// The assignments, as stored, each scope as the index of its entry in `scoped` (so a
    /// scope is kept once however many roles are held in it).
    held: Box<[Held]>,
    /// The bundle of the global roles.
    global: BundleId,
    /// One bit per scope held (by number, mod 64): a scope whose bit is clear is not
    /// held, and the list below is not read.
    mask: u64,
    /// Per scope the user holds roles in, by number: the bundle of its global roles, that
    /// scope's and its ancestors'.
    scoped: Box<[ScopedBundle]>,
    /// Those scopes, in the same order (read only to list the assignments).
    scopes: Box<[Scope]>,
}

impl Grants {
    /// The assignments these grants were resolved from, in their order.
    pub fn assignments(&self) -> impl Iterator<Item = Assignment> + '_ {
        self.held.iter().map(|h| Assignment {
            role_id: h.role_id,
            scope: self.scopes.get(h.scope as usize).copied(),
        })
    }

    /// The roles held, everywhere or in some scope (a role held twice is named twice).
    pub fn roles(&self) -> impl Iterator<Item = RoleId> + '_ {
        self.held.iter().map(|h| h.role_id)
    }

    /// Whether these grants hold no role at all.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Grants of no role.
    pub fn none() -> Arc<Grants> {
        Arc::new(Grants::default())
    }

    /// The bundle that holds within the scope numbered `scope`: the nearest of it and its
    /// ancestors that the user holds roles in, else the global bundle.
    #[inline]
    pub(super) fn bundle_in(
        &self,
        origin: u64,
        scope: Numbered,
        parents: &ScopeParents,
    ) -> BundleId {
        if self.origin != origin {
            return 0;
        }
        if self.scoped.is_empty() || scope.number == UNNUMBERED {
            return self.global;
        }
        let held = |at: ScopeNumber| {
            if self.mask & (1 << (at % 64)) == 0 {
                return None;
            }
            self.scoped.iter().find(|s| s.scope == at).map(|s| s.bundle)
        };
        if let Some(bundle) = held(scope.number) {
            return bundle;
        }
        // The parent came with the scope's number; further ancestors from the parents.
        let mut at = scope.parent;
        // Parents never form a cycle (stores refuse one); the bound is a second guard.
        for _ in 1..MAX_SCOPE_DEPTH {
            if at == UNNUMBERED {
                break;
            }
            if let Some(bundle) = held(at) {
                return bundle;
            }
            at = parents.get(&at).copied().unwrap_or(UNNUMBERED);
        }
        self.global
    }

    /// The bundle of the global roles, as `origin` numbers bundles.
    #[inline]
    pub(super) fn global_bundle(&self, origin: u64) -> BundleId {
        if self.origin == origin {
            self.global
        } else {
            0
        }
    }

    /// The roles held everywhere.
    pub fn global_roles(&self) -> impl Iterator<Item = RoleId> + '_ {
        self.held
            .iter()
            .filter(|h| h.scope == Held::EVERYWHERE)
            .map(|h| h.role_id)
    }

    /// Every bundle these grants name, as `origin` numbers bundles.
    pub(super) fn bundles_of(&self, origin: u64) -> impl Iterator<Item = BundleId> + '_ {
        let mine = self.origin == origin;
        self.bundles().filter(move |_| mine)
    }

    /// Every bundle these grants name.
    fn bundles(&self) -> impl Iterator<Item = BundleId> + '_ {
        std::iter::once(self.global).chain(self.scoped.iter().map(|s| s.bundle))
    }
}

/// What a bundle of roles confers.
#[derive(Debug)]
pub(super) struct Bundle {
    /// Its roles, sorted.
    roles: Box<[RoleId]>,
    /// The union of what they confer now.
    pub(super) confers: PrivilegeSet,
    /// Whether every role is in the snapshot (else it is re-read on the next use).
    complete: bool,
}

type BundleTable = HashMap<BundleId, Arc<Bundle>, BuildHasherDefault<IdHasher>>;

/// The roles and bundles, swapped together so a bundle always agrees with its roles.
#[derive(Debug, Clone, Default)]
pub(super) struct Snapshot {
    pub(super) roles: RoleTable,
    pub(super) bundles: BundleTable,
    /// Scope → its number (shared: a role change does not copy it).
    pub(super) scopes: Arc<ScopeNumbers>,
    /// Scope number → its parent's number (shared, like the numbers).
    pub(super) parents: Arc<ScopeParents>,
}

impl Snapshot {
    /// What bundle `id` confers now (none for the empty bundle or an unknown one).
    #[inline]
    pub(super) fn confers(&self, id: BundleId) -> Option<&PrivilegeSet> {
        if id == 0 {
            return None;
        }
        self.bundles.get(&id).map(|b| &b.confers)
    }

    /// Settles inclusion over the roles, then rebuilds the bundles that hold a role whose
    /// grant differs from `before` (every bundle when `before` is `None`).
    pub(super) fn settle(&mut self, before: Option<&Snapshot>) {
        super::roles::settle(&mut self.roles);
        let changed: Option<HashSet<RoleId>> = before.map(|old| {
            let mut ids: HashSet<RoleId> = HashSet::new();
            for (id, grant) in &self.roles {
                if old.roles.get(id).is_none_or(|g| !Arc::ptr_eq(g, grant)) {
                    ids.insert(*id);
                }
            }
            ids.extend(old.roles.keys().filter(|id| !self.roles.contains_key(id)));
            ids
        });
        if changed.as_ref().is_some_and(HashSet::is_empty) || self.bundles.is_empty() {
            return;
        }
        let rebuilt: Vec<(BundleId, Arc<Bundle>)> = self
            .bundles
            .iter()
            .filter(|(_, b)| {
                changed
                    .as_ref()
                    .is_none_or(|c| b.roles.iter().any(|r| c.contains(r)))
            })
            .map(|(id, b)| (*id, Arc::new(self.bundle_of(b.roles.clone()))))
            .collect();
        self.bundles.extend(rebuilt);
    }

    /// The bundle of `roles` (sorted) as the role table stands.
    fn bundle_of(&self, roles: Box<[RoleId]>) -> Bundle {
        let mut confers = PrivilegeSet::default();
        let mut complete = true;
        for role in roles.iter() {
            match self.roles.get(role) {
                Some(grant) => {
                    if let Some(set) = grant.effective() {
                        confers.union_with(set);
                    }
                    complete &= grant.includes.iter().all(|i| self.roles.contains_key(i));
                }
                None => complete = false,
            }
        }
        Bundle {
            roles,
            confers,
            complete,
        }
    }
}

/// Interns role sets to bundle numbers (off the hot path: only when grants are resolved).
#[derive(Debug, Default)]
pub(super) struct Interner {
    ids: std::sync::Mutex<HashMap<Box<[RoleId]>, BundleId>>,
}

impl Interner {
    /// The number of a sorted, deduplicated role set (0 for the empty set).
    fn intern(&self, roles: &[RoleId]) -> BundleId {
        if roles.is_empty() {
            return 0;
        }
        let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(id) = ids.get(roles) {
            return *id;
        }
        let id = BundleId::try_from(ids.len() + 1).unwrap_or(BundleId::MAX);
        ids.insert(roles.into(), id);
        id
    }

    /// How many bundles were interned.
    pub(super) fn len(&self) -> usize {
        self.ids.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl Authorizer {
    /// Resolves assignments to grants: interns the role set of the global assignments and,
    /// per scope with assignments, of the global ones with that scope's and its
    /// ancestors'; loads the roles and builds the bundles missing from the snapshot.
    pub async fn grants_for(&self, assignments: &[Assignment]) -> Result<Arc<Grants>> {
        if assignments.is_empty() {
            return Ok(Grants::none());
        }
        let mut global: Vec<RoleId> = assignments
            .iter()
            .filter(|a| a.scope.is_none())
            .map(|a| a.role_id)
            .collect();
        global.sort_unstable();
        global.dedup();
        let mut scopes: Vec<Scope> = assignments.iter().filter_map(|a| a.scope).collect();
        scopes.sort_unstable();
        scopes.dedup();
        self.number_scopes(&scopes);
        let snapshot = self.snapshot.load();
        let (numbers, parents) = (snapshot.scopes.clone(), snapshot.parents.clone());
        drop(snapshot);
        // Each assignment's scope number (UNNUMBERED for a global one).
        let held_in: Vec<ScopeNumber> = assignments
            .iter()
            .map(|a| a.scope.map_or(UNNUMBERED, |s| numbers.number(&s)))
            .collect();
        let mut scoped = Vec::with_capacity(scopes.len());
        for scope in &scopes {
            let number = numbers.number(scope);
            if number == UNNUMBERED {
                continue;
            }
            let mut chain = vec![number];
            let mut at = number;
            while let Some(parent) = parents.get(&at) {
                if chain.len() >= MAX_SCOPE_DEPTH || chain.contains(parent) {
                    break;
                }
                chain.push(*parent);
                at = *parent;
            }
            let mut roles = global.clone();
            roles.extend(
                assignments
                    .iter()
                    .zip(&held_in)
                    .filter(|(a, n)| a.scope.is_some() && chain.contains(n))
                    .map(|(a, _)| a.role_id),
            );
            roles.sort_unstable();
            roles.dedup();
            scoped.push((*scope, number, self.interner.intern(&roles), roles));
        }
        let global_id = self.interner.intern(&global);
        self.ensure_bundle(global_id, &global).await?;
        for (_, _, id, roles) in &scoped {
            self.ensure_bundle(*id, roles).await?;
        }
        let mask = scoped
            .iter()
            .fold(0u64, |m, (_, number, _, _)| m | (1 << (number % 64)));
        let held = assignments
            .iter()
            .map(|a| Held {
                role_id: a.role_id,
                scope: a
                    .scope
                    .and_then(|s| scoped.iter().position(|(held, ..)| *held == s))
                    .and_then(|i| u32::try_from(i).ok())
                    .unwrap_or(Held::EVERYWHERE),
            })
            .collect();
        Ok(Arc::new(Grants {
            origin: self.origin,
            held,
            global: global_id,
            mask,
            scopes: scoped.iter().map(|(scope, ..)| *scope).collect(),
            scoped: scoped
                .into_iter()
                .map(|(_, scope, bundle, _)| ScopedBundle { scope, bundle })
                .collect(),
        }))
    }

    /// Whether every bundle of `grants` is in the snapshot with all its roles (so nothing
    /// needs reading to check them).
    pub(super) fn grants_ready(&self, grants: &Grants) -> bool {
        let snapshot = self.snapshot.load();
        grants
            .bundles()
            .all(|id| id == 0 || snapshot.bundles.get(&id).is_some_and(|b| b.complete))
    }

    /// Makes sure every bundle of `grants` is in the snapshot with all its roles (a
    /// snapshot hit on the usual path).
    pub(super) async fn ensure_grants(&self, grants: &Grants) -> Result<()> {
        let snapshot = self.snapshot.load();
        let missing: Vec<BundleId> = grants
            .bundles()
            .filter(|id| *id != 0 && snapshot.bundles.get(id).is_none_or(|b| !b.complete))
            .collect();
        drop(snapshot);
        if missing.is_empty() {
            self.stats.role_hits.incr();
            return Ok(());
        }
        for id in missing {
            let roles = match self.snapshot.load().bundles.get(&id) {
                Some(b) => b.roles.clone(),
                None => continue,
            };
            self.ensure_bundle(id, &roles).await?;
        }
        Ok(())
    }

    /// Loads the roles of bundle `id` and puts the bundle in the snapshot.
    async fn ensure_bundle(&self, id: BundleId, roles: &[RoleId]) -> Result<()> {
        if id == 0 {
            return Ok(());
        }
        if self
            .snapshot
            .load()
            .bundles
            .get(&id)
            .is_some_and(|b| b.complete)
        {
            return Ok(());
        }
        for role in roles {
            self.ensure_role(*role).await?;
        }
        self.snapshot.rcu(|snapshot| {
            let mut next = Snapshot::clone(snapshot);
            next.bundles
                .insert(id, Arc::new(next.bundle_of(roles.into())));
            next
        });
        Ok(())
    }

    /// How many distinct role sets principals hold (bundles interned).
    pub fn bundle_count(&self) -> usize {
        self.interner.len()
    }
}
