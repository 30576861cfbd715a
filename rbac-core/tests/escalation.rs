//! Privilege escalation, at the service level: random sequences of grants, role assignments
//! and user creations by random actors (the admin and ordinary users holding whatever their
//! roles give them). After every step, every change to the real state must be justified by
//! an admin-rooted chain: a privilege added to a role was held by the actor who added it,
//! and a role handed to a user held nothing its giver lacked. Refusals are fine; an
//! unjustified change is an escalation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use rbac_core::service::{InquiryTarget, LoginThrottle, UserEdit, UserInput};
use rbac_core::{
    HasherConfig, JwtCodec, JwtKey, MemoryStore, Principal, PrivilegeRegistry, Rbac, RbacConfig,
    SessionKind, ThrottlePolicy, UserQuery, ADMIN, BUILTIN_PRIVILEGES,
};

const USERS: [&str; 4] = ["ann", "bob", "cyd", "dan"];
const ROLES: [&str; 3] = ["ops", "audit", "staff"];
const PW: &str = "pw-123456";

/// Who acts: the admin, or one of [`USERS`].
#[derive(Debug, Clone, Copy)]
enum Actor {
    Admin,
    User(usize),
}

#[derive(Debug, Clone)]
enum Op {
    Grant(Actor, usize, Vec<usize>),
    SetRole(Actor, usize, Option<usize>),
    CreateUser(Actor, usize, Option<usize>),
    DeleteUser(Actor, usize),
}

fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        1 => Just(Actor::Admin),
        4 => (0..USERS.len()).prop_map(Actor::User),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let u = 0..USERS.len();
    let r = 0..ROLES.len();
    let codes = proptest::collection::vec(0..BUILTIN_PRIVILEGES.len(), 0..6);
    prop_oneof![
        3 => (actor(), r.clone(), codes).prop_map(|(a, r, c)| Op::Grant(a, r, c)),
        3 => (actor(), u.clone(), proptest::option::of(r.clone()))
            .prop_map(|(a, u, r)| Op::SetRole(a, u, r)),
        1 => (actor(), u.clone(), proptest::option::of(r)).prop_map(|(a, u, r)| Op::CreateUser(a, u, r)),
        1 => (actor(), u).prop_map(|(a, u)| Op::DeleteUser(a, u)),
    ]
}

/// The real state: each role's privileges, each user's role.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    roles: BTreeMap<String, BTreeSet<String>>,
    users: BTreeMap<String, Option<String>>,
}

impl State {
    /// What `actor` holds in this state.
    fn held(&self, actor: Actor) -> BTreeSet<String> {
        match actor {
            Actor::Admin => BUILTIN_PRIVILEGES.iter().map(|p| p.to_string()).collect(),
            Actor::User(u) => self
                .users
                .get(USERS[u])
                .cloned()
                .flatten()
                .and_then(|role| self.roles.get(&role).cloned())
                .unwrap_or_default(),
        }
    }
}

const UNTHROTTLED: ThrottlePolicy = ThrottlePolicy {
    max_failures: u32::MAX,
    window: 1,
    lockout: 0,
    backoff: 0,
};

async fn setup(initial: &[Vec<usize>]) -> (Rbac, Principal) {
    let config = RbacConfig {
        hasher: HasherConfig {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            workers: 2,
            queue: 64,
        },
        throttle: LoginThrottle {
            account: UNTHROTTLED,
            address: UNTHROTTLED,
        },
        ..RbacConfig::default()
    };
    let rbac = Rbac::new(
        Arc::new(MemoryStore::new()),
        Arc::new(PrivilegeRegistry::builtin()),
        JwtCodec::new(JwtKey::from_secret("escalation-test-secret-escalation"), []),
        config,
    )
    .await
    .expect("rbac");
    rbac.bootstrap(Some("admin-pw")).await.expect("bootstrap");
    let admin = principal(&rbac, ADMIN).await.expect("admin");
    // Roles with random starting grants, and every user in one of them.
    for (r, codes) in ROLES.iter().zip(initial) {
        rbac.create_role(&admin, r, "").await.expect("role");
        let codes: Vec<String> = codes
            .iter()
            .map(|c| BUILTIN_PRIVILEGES[*c].to_string())
            .collect();
        rbac.grant(&admin, r, &codes).await.expect("grant");
    }
    for (i, u) in USERS.iter().enumerate() {
        let input = UserInput {
            name: u.to_string(),
            password: PW.into(),
            role_name: ROLES[i % ROLES.len()].to_string(),
            ..UserInput::default()
        };
        rbac.create_user(Some(&admin), input).await.expect("user");
    }
    (rbac, admin)
}

/// A principal for a stored user, as authentication would build it now.
async fn principal(rbac: &Rbac, name: &str) -> Option<Principal> {
    let user = rbac.user_named(name).await.ok()?;
    Some(Principal {
        user_id: user.id,
        user_name: Arc::from(user.name.as_str()),
        role_id: user.role_id,
        session_id: Arc::from("escalation-test"),
        kind: SessionKind::Jwt,
    })
}

async fn state(rbac: &Rbac, admin: &Principal) -> State {
    let mut roles = BTreeMap::new();
    for r in ROLES {
        if let Ok(codes) = rbac.inquire(admin, InquiryTarget::Role, r).await {
            roles.insert(
                r.to_string(),
                codes.into_iter().filter(|c| c != "Null").collect(),
            );
        }
    }
    let listed = rbac
        .list_users(admin, &UserQuery::default())
        .await
        .expect("list users");
    let users = listed
        .rows
        .into_iter()
        .filter(|v| v.user.name != ADMIN)
        .map(|v| {
            (
                v.user.name,
                (!v.role_name.is_empty()).then_some(v.role_name),
            )
        })
        .collect();
    State { roles, users }
}

async fn run(initial: Vec<Vec<usize>>, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let (rbac, admin) = setup(&initial).await;
    for op in ops {
        let before = state(&rbac, &admin).await;
        let actor = match op {
            Op::Grant(a, ..)
            | Op::SetRole(a, ..)
            | Op::CreateUser(a, ..)
            | Op::DeleteUser(a, _) => a,
        };
        let Some(who) = (match actor {
            Actor::Admin => Some(admin.clone()),
            Actor::User(u) => principal(&rbac, USERS[u]).await,
        }) else {
            continue; // the actor was deleted
        };
        let held = before.held(actor);
        match &op {
            Op::Grant(_, r, codes) => {
                let codes: Vec<String> = codes
                    .iter()
                    .map(|c| BUILTIN_PRIVILEGES[*c].to_string())
                    .collect();
                let _ = rbac.grant(&who, ROLES[*r], &codes).await;
            }
            Op::SetRole(_, u, r) => {
                let edit = UserEdit {
                    role_name: Some(r.map(|r| ROLES[r].to_string()).unwrap_or_default()),
                    ..UserEdit::default()
                };
                let _ = rbac.edit_user(&who, USERS[*u], edit).await;
            }
            Op::CreateUser(_, u, r) => {
                let input = UserInput {
                    name: USERS[*u].into(),
                    password: PW.into(),
                    role_name: r.map(|r| ROLES[r].to_string()).unwrap_or_default(),
                    ..UserInput::default()
                };
                let _ = rbac.create_user(Some(&who), input).await;
            }
            Op::DeleteUser(_, u) => {
                let _ = rbac.delete_user(&who, USERS[*u]).await;
            }
        }
        let after = state(&rbac, &admin).await;

        // Privileges added to a role: only by a grant, only of what the actor held.
        for (role, codes) in &after.roles {
            let was = before.roles.get(role).cloned().unwrap_or_default();
            let added: BTreeSet<&String> = codes.difference(&was).collect();
            if added.is_empty() {
                continue;
            }
            let by_grant = matches!(&op, Op::Grant(_, r, _) if ROLES[*r] == role);
            prop_assert!(by_grant, "{op:?} added {added:?} to role {role}");
            let unheld: Vec<&&String> = added.iter().filter(|c| !held.contains(**c)).collect();
            prop_assert!(
                unheld.is_empty(),
                "{op:?}: the actor granted {unheld:?} to {role} without holding it (held {held:?})"
            );
        }
        // A role handed to a user: only by that user's edit or creation, and only a role
        // whose privileges the actor held.
        for (user, role) in &after.users {
            let was = before.users.get(user).cloned().flatten();
            let Some(role) = role else { continue };
            if was.as_ref() == Some(role) {
                continue;
            }
            let by_op = match &op {
                Op::SetRole(_, u, Some(r)) | Op::CreateUser(_, u, Some(r)) => {
                    USERS[*u] == user && ROLES[*r] == role
                }
                _ => false,
            };
            prop_assert!(by_op, "{op:?} gave {user} role {role}");
            let gives = before.roles.get(role).cloned().unwrap_or_default();
            let unheld: Vec<&String> = gives.difference(&held).collect();
            prop_assert!(
                unheld.is_empty(),
                "{op:?}: {user} got role {role} with {unheld:?}, which the actor lacks"
            );
        }
        // Nobody but the admin ever holds a privilege outside every role's grants, and the
        // built-in admin keeps everything.
        prop_assert!(state(&rbac, &admin).await.users.len() <= USERS.len());
        let admin_now = principal(&rbac, ADMIN).await;
        prop_assert!(admin_now.is_some(), "the built-in admin survives");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn no_privilege_escapes_an_admin_rooted_chain(
        initial in proptest::collection::vec(
            proptest::collection::vec(0..BUILTIN_PRIVILEGES.len(), 0..6),
            ROLES.len(),
        ),
        ops in proptest::collection::vec(op(), 1..30),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run(initial, ops))?;
    }
}
