//! Composite roles against a reference model, on the memory store and on SQLite: random
//! grants, inclusions (cycles refused), enabling, disabling and deleting roles, made as the
//! admin through the use-cases; after every step the writing instance's `check` agrees with
//! the model for every user and privilege, and a second instance, fed the change log only
//! at random moments (as the change feed would), agrees with it after each catch-up.
#![cfg(feature = "sqlite")]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use rbac_core::service::LoginThrottle;
use rbac_core::store::{ChangeSink, Store};
use rbac_core::{
    AdminPrivileges, Assignment, Authorizer, AuthorizerConfig, HasherConfig, JwtCodec, JwtKey,
    MemoryStore, Principal, PrivilegeRegistry, Rbac, RbacConfig, SessionKind, User, ADMIN,
};

/// The application codes roles are granted.
const CODES: [&str; 4] = ["Read", "Write", "Publish", "Audit"];
const ROLES: usize = 5;
const USERS: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    Grant(usize, Vec<usize>),
    Include(usize, Vec<usize>),
    Enable(usize, bool),
    Delete(usize),
    /// The second instance reads the change log and applies what it has not seen.
    Sync,
}

fn op() -> impl Strategy<Value = Op> {
    let r = 0..ROLES;
    prop_oneof![
        3 => (r.clone(), proptest::collection::vec(0..CODES.len(), 0..3)).prop_map(|(r, c)| Op::Grant(r, c)),
        4 => (r.clone(), proptest::collection::vec(0..ROLES, 0..3)).prop_map(|(r, i)| Op::Include(r, i)),
        2 => (r.clone(), any::<bool>()).prop_map(|(r, e)| Op::Enable(r, e)),
        1 => r.prop_map(Op::Delete),
        2 => Just(Op::Sync),
    ]
}

/// The reference: each role's codes, includes and enabled flag (absent once deleted).
#[derive(Debug, Default, Clone)]
struct Model {
    roles: BTreeMap<usize, (BTreeSet<usize>, BTreeSet<usize>, bool)>,
}

impl Model {
    /// What role `r` confers now: nothing while disabled or gone, else its codes and those
    /// of the enabled roles it includes, transitively.
    fn confers(&self, r: usize) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut todo = vec![r];
        while let Some(next) = todo.pop() {
            if !seen.insert(next) {
                continue;
            }
            if let Some((codes, includes, true)) = self.roles.get(&next) {
                out.extend(codes.iter().copied());
                todo.extend(includes.iter().copied());
            }
        }
        out
    }
}

struct World {
    rbac: Rbac,
    second: Authorizer,
    cursor: i64,
    admin: Principal,
    /// User i holds role i (users 0..USERS), as the writer resolves them.
    users: Vec<Principal>,
    /// The same users as the second instance resolves them.
    second_users: Vec<Principal>,
}

/// The principal of `user` as `authorizer` resolves its roles.
async fn principal(authorizer: &Authorizer, user: &User) -> Principal {
    Principal {
        user_id: user.id,
        user_name: Arc::from(user.name.as_str()),
        grants: authorizer.grants_for(&user.roles).await.expect("grants"),
        session_id: Arc::from("model"),
        kind: SessionKind::Jwt,
        factors: rbac_core::factors::Factors::PASSWORD,
        verified_at: 0,
        enrolment_required: false,
        second_factor_enrolled: false,
    }
}

fn registry() -> Arc<PrivilegeRegistry> {
    let admin = AdminPrivileges::default();
    Arc::new(PrivilegeRegistry::new(
        admin.codes().into_iter().chain(CODES),
    ))
}

async fn world(store: Arc<dyn Store>) -> World {
    let config = RbacConfig {
        hasher: HasherConfig {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            workers: 1,
            queue: 16,
        },
        throttle: LoginThrottle::default(),
        ..RbacConfig::default()
    };
    let key = || JwtCodec::new(JwtKey::from_secret("inclusion-model-secret-inclusion"), []);
    let rbac = Rbac::new(store.clone(), registry(), key(), config)
        .await
        .expect("rbac");
    rbac.bootstrap(Some("admin-password"))
        .await
        .expect("bootstrap");
    let cursor = store.change_cursor().await.expect("cursor");
    let admin_user = rbac.users().named(ADMIN).await.expect("admin");
    let admin = principal(rbac.authorizer(), &admin_user).await;
    let mut role_ids = Vec::new();
    for r in 0..ROLES {
        let role = rbac
            .roles()
            .create(&admin, &format!("role{r}"), "")
            .await
            .expect("role");
        role_ids.push(role.id);
    }
    // User i holds role i.
    let mut stored = Vec::new();
    for (u, role) in role_ids.iter().enumerate().take(USERS) {
        let mut user = User::blank(format!("user{u}"), String::new());
        user.roles = vec![Assignment::global(*role)];
        let user = store
            .create_user(&user, &Default::default())
            .await
            .expect("user");
        stored.push(user);
    }
    let mut users = Vec::new();
    for user in &stored {
        users.push(principal(rbac.authorizer(), user).await);
    }
    let second = Authorizer::new(
        store,
        registry(),
        Arc::new(key()),
        &AuthorizerConfig::default(),
    );
    second.load_roles().await.expect("load");
    let mut second_users = Vec::new();
    for user in &stored {
        second_users.push(principal(&second, user).await);
    }
    World {
        rbac,
        second,
        cursor,
        admin,
        users,
        second_users,
    }
}

async fn apply(w: &mut World, model: &mut Model, op: &Op) {
    let name = |r: usize| format!("role{r}");
    let rbac = &w.rbac;
    match op {
        Op::Grant(r, codes) => {
            let wanted: Vec<String> = codes.iter().map(|c| CODES[*c].to_string()).collect();
            if rbac
                .roles()
                .grant(&w.admin, &name(*r), &wanted)
                .await
                .is_ok()
            {
                if let Some(role) = model.roles.get_mut(r) {
                    role.0 = codes.iter().copied().collect();
                }
            }
        }
        Op::Include(r, included) => {
            let names: Vec<String> = included.iter().map(|i| name(*i)).collect();
            if rbac
                .roles()
                .include(&w.admin, &name(*r), &names)
                .await
                .is_ok()
            {
                if let Some(role) = model.roles.get_mut(r) {
                    role.1 = included.iter().copied().collect();
                }
            }
        }
        Op::Enable(r, on) => {
            if rbac
                .roles()
                .set_enabled(&w.admin, &name(*r), *on)
                .await
                .is_ok()
            {
                if let Some(role) = model.roles.get_mut(r) {
                    role.2 = *on;
                }
            }
        }
        Op::Delete(r) => {
            if rbac.roles().delete(&w.admin, &name(*r)).await.is_ok() {
                model.roles.remove(r);
                for role in model.roles.values_mut() {
                    role.1.remove(r);
                }
            }
        }
        Op::Sync => {
            let changes = rbac
                .store()
                .changes_since(w.cursor, 10_000)
                .await
                .expect("changes");
            for (id, change) in changes {
                w.second.apply(&change).await;
                w.cursor = id;
            }
        }
    }
}

/// Every user and code: `check` on `authorizer` against the model.
fn agree(
    authorizer: &Authorizer,
    principals: &[Principal],
    model: &Model,
    when: &str,
) -> Result<(), TestCaseError> {
    let registry = authorizer.registry();
    for (u, principal) in principals.iter().enumerate() {
        let confers = model.confers(u);
        for (c, code) in CODES.iter().enumerate() {
            let id = registry.id(code).expect("declared");
            prop_assert_eq!(
                authorizer.check(principal, id),
                confers.contains(&c),
                "{}: user{} (role{}) {}; model {:?}",
                when,
                u,
                u,
                code,
                model
            );
        }
    }
    Ok(())
}

async fn run(store: Arc<dyn Store>, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut w = world(store).await;
    let mut model = Model::default();
    for r in 0..ROLES {
        model
            .roles
            .insert(r, (BTreeSet::new(), BTreeSet::new(), true));
    }
    for (step, op) in ops.iter().enumerate() {
        apply(&mut w, &mut model, op).await;
        agree(
            w.rbac.authorizer(),
            &w.users,
            &model,
            &format!("step {step} {op:?}, writer"),
        )?;
        if matches!(op, Op::Sync) {
            agree(
                &w.second,
                &w.second_users,
                &model,
                &format!("step {step}, second instance"),
            )?;
        }
    }
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn inclusion_agrees_with_the_model_on_memory(ops in proptest::collection::vec(op(), 1..40)) {
        runtime().block_on(run(Arc::new(MemoryStore::new()), &ops))?;
    }

    #[test]
    fn inclusion_agrees_with_the_model_on_sqlite(ops in proptest::collection::vec(op(), 1..40)) {
        runtime().block_on(async {
            let store = rbac_sqlx::SqlStore::connect("sqlite::memory:").await.expect("connect");
            store.migrate().await.expect("migrate");
            run(Arc::new(store), &ops).await
        })?;
    }
}

#[test]
fn the_model_is_not_trivial() {
    // A role including a disabled role gets nothing from it; enabling gives it back.
    let mut m = Model::default();
    m.roles
        .insert(0, (BTreeSet::from([0]), BTreeSet::from([1]), true));
    m.roles
        .insert(1, (BTreeSet::from([1]), BTreeSet::new(), false));
    assert_eq!(m.confers(0), BTreeSet::from([0]));
    m.roles.get_mut(&1).expect("role").2 = true;
    assert_eq!(m.confers(0), BTreeSet::from([0, 1]));
}
