//! Shared fixtures for the benches: policies of a given size in the in-memory store, and a
//! counting allocator that proves the hot path allocates nothing.
// The counting allocator is the one place the workspace needs `unsafe`: GlobalAlloc is an
// unsafe trait, and this one only forwards to the system allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

mod scoped;
pub use scoped::{many_roles, scoped_world, ScopedWorld};

/// Counts every allocation and reallocation of the process (install it with
/// `#[global_allocator]` in the bench).
pub struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// Where criterion writes its estimates (`<workspace>/target/criterion`).
pub fn criterion_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("criterion")
}

/// Criterion's median for one benchmark (`group/id`), in nanoseconds.
pub fn median_ns(path: &str) -> Option<f64> {
    let file = criterion_dir().join(path).join("new/estimates.json");
    let text = std::fs::read_to_string(file).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// Allocations and reallocations so far.
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

use std::sync::Arc;

use rbac_core::store::{RoleStore, Store, UserStore};
use rbac_core::{
    Assignment, Authorizer, AuthorizerConfig, JwtCodec, JwtKey, MemoryStore, Principal,
    PrivilegeId, PrivilegeRegistry, Role, SessionKind,
};

/// An authorizer over `privileges` codes and `roles` roles, each role granted every
/// seventh privilege from a role-specific offset, with the role snapshot loaded, and
/// `users` users spread over the roles in the store.
pub async fn policy(
    privileges: usize,
    roles: usize,
    users: usize,
) -> (Arc<Authorizer>, Vec<Principal>) {
    let registry = Arc::new(PrivilegeRegistry::new(
        (0..privileges).map(|i| format!("P{i}")),
    ));
    let store = Arc::new(MemoryStore::new());
    let journal = rbac_core::Journal::default();
    let mut role_ids = Vec::with_capacity(roles);
    for r in 0..roles {
        let mut role = Role::new(format!("role{r}"), "", "bench");
        role.privileges = (0..privileges)
            .filter(|p| (p + r) % 7 == 0)
            .map(|p| format!("P{p}"))
            .collect();
        role_ids.push(store.create_role(&role, &journal).await.expect("role").id);
    }
    for u in 0..users {
        let mut user = rbac_core::User::blank(format!("member{u}"), String::new());
        user.roles = vec![Assignment::global(role_ids[u % role_ids.len()])];
        store.create_user(&user, &journal).await.expect("user");
    }
    let store: Arc<dyn Store> = store;
    let jwt = Arc::new(JwtCodec::new(
        JwtKey::from_secret("bench-secret-bench-secret-bench!"),
        [],
    ));
    let authorizer = Arc::new(Authorizer::new(
        store,
        registry,
        jwt,
        &AuthorizerConfig::default(),
    ));
    authorizer.load_roles().await.expect("roles");
    let mut principals = Vec::with_capacity(roles);
    for (r, role) in role_ids.iter().enumerate() {
        principals
            .push(principal_holding(&authorizer, r as i64 + 1, &[Assignment::global(*role)]).await);
    }
    (authorizer, principals)
}

/// A principal (user `id`) holding `assignments`, resolved by `authorizer`.
pub async fn principal_holding(
    authorizer: &Authorizer,
    id: i64,
    assignments: &[Assignment],
) -> Principal {
    Principal {
        user_id: id,
        user_name: Arc::from(format!("user{id}")),
        grants: authorizer.grants_for(assignments).await.expect("grants"),
        session_id: Arc::from(format!("s{id}")),
        kind: SessionKind::Jwt,
        factors: rbac_core::factors::Factors::PASSWORD,
        verified_at: 0,
        enrolment_required: false,
        second_factor_enrolled: false,
    }
}

/// The id of privilege code `P{i}`.
pub fn privilege(authorizer: &Authorizer, i: usize) -> PrivilegeId {
    authorizer
        .registry()
        .id(&format!("P{i}"))
        .expect("registered privilege")
}

/// An authorizer over 12 privileges where role `chain0` includes `chain1`, which includes
/// `chain2`, … down to `chain{depth}`, the only one granted `P0`; and the principal of a
/// user in `chain0` (so its check of `P0` reaches `depth` inclusions down).
pub async fn inclusion_chain(depth: usize) -> (Arc<Authorizer>, Principal) {
    let registry = Arc::new(PrivilegeRegistry::new((0..12).map(|i| format!("P{i}"))));
    let store = Arc::new(MemoryStore::new());
    let journal = rbac_core::Journal::default();
    let mut below: Option<i64> = None;
    for level in (0..=depth).rev() {
        let mut role = Role::new(format!("chain{level}"), "", "bench");
        if level == depth {
            role.privileges = vec!["P0".to_string()];
        }
        role.includes = below.into_iter().collect();
        below = Some(store.create_role(&role, &journal).await.expect("role").id);
    }
    let store: Arc<dyn Store> = store;
    let jwt = Arc::new(JwtCodec::new(
        JwtKey::from_secret("bench-secret-bench-secret-bench!"),
        [],
    ));
    let authorizer = Arc::new(Authorizer::new(
        store,
        registry,
        jwt,
        &AuthorizerConfig::default(),
    ));
    authorizer.load_roles().await.expect("roles");
    let held: Vec<Assignment> = below.into_iter().map(Assignment::global).collect();
    let principal = principal_holding(&authorizer, 1, &held).await;
    (authorizer, principal)
}
