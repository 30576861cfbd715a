//! Fixtures for many roles per user and scoped checks.

use std::sync::Arc;

use rbac_core::store::{RoleStore, ScopeStore, Store};
use rbac_core::{
    Assignment, Authorizer, AuthorizerConfig, JwtCodec, JwtKey, MemoryStore, Principal,
    PrivilegeId, PrivilegeRegistry, Role, Scope,
};

/// Privilege codes of the scoped fixtures.
const PRIVILEGES: usize = 100;

/// An authorizer over 100 privileges and `roles` roles in the memory store, role `r`
/// holding every `P{p}` with `(p + r) % 7 == 0`, its snapshot loaded.
async fn authorizer_with(roles: usize) -> (Arc<Authorizer>, Arc<MemoryStore>, Vec<i64>) {
    let registry = Arc::new(PrivilegeRegistry::new(
        (0..PRIVILEGES).map(|i| format!("P{i}")),
    ));
    let store = Arc::new(MemoryStore::new());
    let journal = rbac_core::Journal::default();
    let mut ids = Vec::with_capacity(roles);
    for r in 0..roles {
        let mut role = Role::new(format!("role{r}"), "", "bench");
        role.privileges = (0..PRIVILEGES)
            .filter(|p| (p + r) % 7 == 0)
            .map(|p| format!("P{p}"))
            .collect();
        ids.push(store.create_role(&role, &journal).await.expect("role").id);
    }
    let dyn_store: Arc<dyn Store> = store.clone();
    let jwt = Arc::new(JwtCodec::new(
        JwtKey::from_secret("bench-secret-bench-secret-bench!"),
        [],
    ));
    let authorizer = Arc::new(Authorizer::new(
        dyn_store,
        registry,
        jwt,
        &AuthorizerConfig::default(),
    ));
    authorizer.load_roles().await.expect("roles");
    (authorizer, store, ids)
}

/// A principal holding `held` roles everywhere (of 64 roles), and a privilege its last
/// role grants (the first role to grant it, for up to 7 roles).
pub async fn many_roles(held: usize) -> (Arc<Authorizer>, Principal, PrivilegeId) {
    let (authorizer, _, ids) = authorizer_with(64).await;
    let assignments: Vec<Assignment> = ids[..held].iter().map(|r| Assignment::global(*r)).collect();
    let principal = crate::principal_holding(&authorizer, 1, &assignments).await;
    // P{p} with (p + last) % 7 == 0 and no earlier role holding it: p ≡ -last (mod 7).
    let last = held - 1;
    let wanted = (0..PRIVILEGES)
        .find(|p| (p + last).is_multiple_of(7) && (0..last).all(|r| !(p + r).is_multiple_of(7)))
        .unwrap_or((7 - last % 7) % 7);
    let id = crate::privilege(&authorizer, wanted);
    (authorizer, principal, id)
}

/// A scoped world: 90,000 organisations (UUIDs), 10,000 teams (slugs) each within one of
/// the first 1,000 organisations (100,000 scopes), 8 roles, and `principals` users each holding one role
/// everywhere and 10 scoped assignments (9 in organisations, 1 in a team's organisation),
/// resolved by the authorizer: 1,000,000 assignments for 100,000 principals.
pub struct ScopedWorld {
    /// The authorizer, scope parents loaded.
    pub authorizer: Arc<Authorizer>,
    /// The users.
    pub principals: Vec<Principal>,
    /// Per principal: a team it holds a role in through that team's organisation, and a
    /// privilege only that role grants there.
    pub asked: Vec<(Scope, PrivilegeId)>,
}

/// Organisation `n`'s id: a UUID.
fn org_id(n: i64) -> String {
    format!("{n:08x}-4b1d-4c2e-9f3a-{:012x}", n.wrapping_mul(7_919))
}

/// Team `n`'s id: a slug.
fn team_id(n: i64) -> String {
    format!("team-{n}-sports")
}

/// See [`ScopedWorld`].
pub async fn scoped_world(principals: usize) -> ScopedWorld {
    const ORGS: i64 = 90_000;
    const TEAMS: i64 = 10_000;
    let (authorizer, store, roles) = authorizer_with(8).await;
    let journal = rbac_core::Journal::default();
    for t in 0..TEAMS {
        let team = Scope::new("team", team_id(t)).expect("team");
        let org = Scope::new("org", org_id(t % 1_000)).expect("org");
        store
            .set_scope_parent(team, Some(org), &journal)
            .await
            .expect("parent");
    }
    authorizer.load_scope_parents().await.expect("parents");
    let mut all = Vec::with_capacity(principals);
    let mut asked = Vec::with_capacity(principals);
    for u in 0..principals {
        let global = roles[u % roles.len()];
        let mut held = vec![Assignment::global(global)];
        for k in 0..9 {
            let org = ((u * 9 + k) as i64 * 7_919) % ORGS;
            let role = roles[(u + k + 1) % roles.len()];
            held.push(Assignment::within(
                role,
                Scope::new("org", org_id(org)).expect("org"),
            ));
        }
        // The team's organisation: one of the first 1,000.
        let team = (u as i64 * 104_729) % TEAMS;
        let team_role_index = (u + 5) % roles.len();
        let org = Scope::new("org", org_id(team % 1_000)).expect("org");
        held.push(Assignment::within(roles[team_role_index], org));
        let principal = crate::principal_holding(&authorizer, u as i64 + 1, &held).await;
        // A privilege the team role grants and the global role does not.
        let (g, t) = (u % roles.len(), team_role_index);
        let wanted = (0..PRIVILEGES)
            .find(|p| (p + t).is_multiple_of(7) && !(p + g).is_multiple_of(7))
            .unwrap_or(0);
        asked.push((
            Scope::new("team", team_id(team)).expect("team"),
            crate::privilege(&authorizer, wanted),
        ));
        all.push(principal);
    }
    ScopedWorld {
        authorizer,
        principals: all,
        asked,
    }
}
