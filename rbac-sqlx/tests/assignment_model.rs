//! Many roles per user, scopes and inclusion against a reference model, on the memory store
//! and on SQLite (PostgreSQL and MariaDB with `RBAC_TEST_POSTGRES_URL` /
//! `RBAC_TEST_MYSQL_URL`, fewer cases): random assignments and revocations (global or in a
//! scope), grants, inclusions, enabling, disabling and deleting roles, and moving a scope
//! under another, made as the admin through the use-cases. After every step the writing
//! instance, asked through its session cache as a request would be, agrees with the model
//! on every (user, privilege, scope); a second instance, fed the change log at random
//! moments, agrees after each catch-up.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;

#[cfg(any(feature = "postgres", feature = "mysql"))]
mod common;
use rbac_core::service::LoginThrottle;
use rbac_core::store::{ChangeSink, Store};
use rbac_core::{
    now, AdminPrivileges, Authorizer, AuthorizerConfig, HasherConfig, JwtCodec, JwtKey,
    MemoryStore, PrivilegeRegistry, Rbac, RbacConfig, Scope, ScopeKinds, Session, SessionKind,
    User, ADMIN,
};

const CODES: [&str; 3] = ["Read", "Write", "Publish"];
const ROLES: usize = 4;
const USERS: usize = 3;
/// The scopes assignments name: two organisations whose ids differ only in case and a team
/// (a UUID) that may lie within either.
const SCOPES: [(&str, &str); 3] = [
    ("org", "acme"),
    ("org", "Acme"),
    ("team", "5f2c9a1e-0b7d-4c3a-9e8f-1a2b3c4d5e6f"),
];
/// Where checks are asked: everywhere, each scope, and scopes no one is assigned in: an
/// organisation whose id is a prefix of one, another team, and numeric ids that differ
/// only by a leading zero.
const ASKED: [Option<(&str, &str)>; 8] = [
    None,
    Some(("org", "acme")),
    Some(("org", "Acme")),
    Some(("team", "5f2c9a1e-0b7d-4c3a-9e8f-1a2b3c4d5e6f")),
    Some(("team", "5f2c9a1e-0b7d-4c3a-9e8f-1a2b3c4d5e6e")),
    Some(("org", "acm")),
    Some(("org", "7")),
    Some(("org", "007")),
];

#[derive(Debug, Clone)]
enum Op {
    Assign(usize, usize, Option<usize>),
    Revoke(usize, usize, Option<usize>),
    Grant(usize, Vec<usize>),
    Include(usize, Vec<usize>),
    Enable(usize, bool),
    Delete(usize),
    /// the team lies within org:acme, org:Acme or nothing.
    Parent(Option<usize>),
    /// The second instance reads the change log and applies what it has not seen.
    Sync,
}

fn op() -> impl Strategy<Value = Op> {
    let (u, r) = (0..USERS, 0..ROLES);
    let scope = proptest::option::of(0..SCOPES.len());
    prop_oneof![
        5 => (u.clone(), r.clone(), scope.clone()).prop_map(|(u, r, s)| Op::Assign(u, r, s)),
        3 => (u, r.clone(), scope).prop_map(|(u, r, s)| Op::Revoke(u, r, s)),
        3 => (r.clone(), proptest::collection::vec(0..CODES.len(), 0..3)).prop_map(|(r, c)| Op::Grant(r, c)),
        2 => (r.clone(), proptest::collection::vec(0..ROLES, 0..2)).prop_map(|(r, i)| Op::Include(r, i)),
        2 => (r.clone(), any::<bool>()).prop_map(|(r, e)| Op::Enable(r, e)),
        1 => r.prop_map(Op::Delete),
        2 => proptest::option::of(0..2usize).prop_map(Op::Parent),
        2 => Just(Op::Sync),
    ]
}

fn scope(i: usize) -> Scope {
    let (kind, id) = SCOPES[i];
    Scope::new(kind, id).expect("scope")
}

/// The reference: roles (codes, includes, enabled), assignments, the team's parent.
#[derive(Debug, Default, Clone)]
struct Model {
    roles: BTreeMap<usize, (BTreeSet<usize>, BTreeSet<usize>, bool)>,
    /// (user, role, scope index or global).
    held: BTreeSet<(usize, usize, Option<usize>)>,
    /// The organisation (index into SCOPES) the team lies within.
    team_parent: Option<usize>,
}

impl Model {
    /// What role `r` confers now.
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

    /// The scopes whose assignments count at `asked`: it and its ancestors.
    fn chain(&self, asked: Option<(&str, &str)>) -> Vec<usize> {
        let Some(asked) = asked else {
            return Vec::new();
        };
        let Some(i) = SCOPES.iter().position(|s| *s == asked) else {
            return Vec::new();
        };
        let mut chain = vec![i];
        if i == 2 {
            chain.extend(self.team_parent);
        }
        chain
    }

    /// What `user` holds at `asked`.
    fn holds(&self, user: usize, asked: Option<(&str, &str)>) -> BTreeSet<usize> {
        let chain = self.chain(asked);
        self.held
            .iter()
            .filter(|(u, _, s)| *u == user && s.is_none_or(|s| chain.contains(&s)))
            .flat_map(|(_, r, _)| self.confers(*r))
            .collect()
    }
}

struct World {
    rbac: Rbac,
    second: Authorizer,
    cursor: i64,
    admin: rbac_core::Principal,
    /// Each user's name and session id.
    users: Vec<(String, String)>,
}

fn registry() -> Arc<PrivilegeRegistry> {
    Arc::new(PrivilegeRegistry::new(
        AdminPrivileges::default().codes().into_iter().chain(CODES),
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
        scope_kinds: ScopeKinds::new(["org", "team"]),
        ..RbacConfig::default()
    };
    let key = || {
        JwtCodec::new(
            JwtKey::from_secret("assignment-model-secret-assignment"),
            [],
        )
    };
    let rbac = Rbac::new(store.clone(), registry(), key(), config)
        .await
        .expect("rbac");
    rbac.bootstrap(Some("admin-password"))
        .await
        .expect("bootstrap");
    let cursor = store.change_cursor().await.expect("cursor");
    let admin_user = rbac.users().named(ADMIN).await.expect("admin");
    let admin = rbac_core::Principal {
        user_id: admin_user.id,
        user_name: Arc::from(ADMIN),
        grants: rbac
            .authorizer()
            .grants_for(&admin_user.roles)
            .await
            .expect("grants"),
        session_id: Arc::from("model"),
        kind: SessionKind::Jwt,
        factors: rbac_core::factors::Factors::PASSWORD,
        verified_at: 0,
        enrolment_required: false,
        second_factor_enrolled: false,
    };
    let tag = format!("{:x}", rand_tag());
    for r in 0..ROLES {
        rbac.roles()
            .create(&admin, &format!("role{r}{tag}"), "")
            .await
            .expect("role");
    }
    let mut users = Vec::new();
    for u in 0..USERS {
        let user = store
            .create_user(
                &User::blank(format!("user{u}{tag}"), String::new()),
                &Default::default(),
            )
            .await
            .expect("user");
        let t = now();
        let session = Session {
            id: format!("session-{u}-{tag}"),
            user_id: user.id,
            kind: SessionKind::Jwt,
            issued_at: t,
            expires_at: t + 3600,
            last_seen: t,
            revoked: false,
            ip: "127.0.0.1".into(),
            factors: rbac_core::factors::Factors::PASSWORD,
            verified_at: t,
            user_agent: String::new(),
        };
        store
            .create_session(&session, &Default::default())
            .await
            .expect("session");
        users.push((user.name, session.id));
    }
    let second = Authorizer::new(
        store,
        registry(),
        Arc::new(key()),
        &AuthorizerConfig::default(),
    );
    second.load_roles().await.expect("load");
    second.load_scope_parents().await.expect("parents");
    World {
        rbac,
        second,
        cursor,
        admin,
        users,
    }
}

fn rand_tag() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

/// The role names of this world (made unique, so runs may share a database).
fn role_name(w: &World, r: usize) -> String {
    let tag = w.users[0].0.trim_start_matches("user0");
    format!("role{r}{tag}")
}

async fn apply(w: &mut World, model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    let rbac = w.rbac.clone();
    let admin = w.admin.clone();
    match op {
        Op::Assign(u, r, s) => {
            let done = rbac
                .assignments()
                .assign(&admin, &w.users[*u].0, &role_name(w, *r), s.map(scope))
                .await;
            prop_assert_eq!(
                done.is_ok(),
                model.roles.contains_key(r),
                "{:?}: {:?}",
                op,
                done
            );
            if done.is_ok() {
                model.held.insert((*u, *r, *s));
            }
        }
        Op::Revoke(u, r, s) => {
            let done = rbac
                .assignments()
                .revoke(&admin, &w.users[*u].0, &role_name(w, *r), s.map(scope))
                .await;
            if done.is_ok() {
                model.held.remove(&(*u, *r, *s));
            }
        }
        Op::Grant(r, codes) => {
            let wanted: Vec<String> = codes.iter().map(|c| CODES[*c].to_string()).collect();
            if rbac
                .roles()
                .grant(&admin, &role_name(w, *r), &wanted)
                .await
                .is_ok()
            {
                if let Some(role) = model.roles.get_mut(r) {
                    role.0 = codes.iter().copied().collect();
                }
            }
        }
        Op::Include(r, included) => {
            let names: Vec<String> = included.iter().map(|i| role_name(w, *i)).collect();
            if rbac
                .roles()
                .include(&admin, &role_name(w, *r), &names)
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
                .set_enabled(&admin, &role_name(w, *r), *on)
                .await
                .is_ok()
            {
                if let Some(role) = model.roles.get_mut(r) {
                    role.2 = *on;
                }
            }
        }
        Op::Delete(r) => {
            if rbac.roles().delete(&admin, &role_name(w, *r)).await.is_ok() {
                prop_assert!(
                    !model.held.iter().any(|(_, held, _)| held == r),
                    "role{} deleted while held: {:?}",
                    r,
                    model
                );
                model.roles.remove(r);
                for role in model.roles.values_mut() {
                    role.1.remove(r);
                }
            }
        }
        Op::Parent(org) => {
            let team = scope(2);
            rbac.assignments()
                .set_scope_parent(team, org.map(scope))
                .await
                .expect("a team within an organisation");
            model.team_parent = *org;
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
    Ok(())
}

/// Every user, code and scope asked: the authorizer, through its session cache, against
/// the model.
async fn agree(
    authorizer: &Authorizer,
    w: &World,
    model: &Model,
    when: &str,
) -> Result<(), TestCaseError> {
    let registry = authorizer.registry();
    for (u, (_, session)) in w.users.iter().enumerate() {
        let principal = authorizer
            .session_principal(session)
            .await
            .expect("the session authenticates");
        for asked in ASKED {
            let holds = model.holds(u, asked);
            for (c, code) in CODES.iter().enumerate() {
                let id = registry.id(code).expect("declared");
                let got = match asked {
                    None => authorizer.check(&principal, id),
                    Some((kind, sid)) => {
                        authorizer.check_in(&principal, id, &Scope::new(kind, sid).expect("scope"))
                    }
                };
                prop_assert_eq!(
                    got,
                    holds.contains(&c),
                    "{}: user{} {} at {:?}; model {:?}",
                    when,
                    u,
                    code,
                    asked,
                    model
                );
            }
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
        apply(&mut w, &mut model, op).await?;
        agree(
            w.rbac.authorizer(),
            &w,
            &model,
            &format!("step {step} {op:?}, writer"),
        )
        .await?;
        if matches!(op, Op::Sync) {
            agree(
                &w.second,
                &w,
                &model,
                &format!("step {step}, second instance"),
            )
            .await?;
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

/// A store on `url`, migrated.
async fn on_url(url: &str, ops: &[Op]) -> Result<(), TestCaseError> {
    let store = rbac_sqlx::SqlStore::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let outcome = run(Arc::new(store.clone()), ops).await;
    store.close().await;
    outcome
}

/// A fresh database on the server `var` names, for one case, dropped after (nothing when
/// the variable is unset; an unreachable server fails).
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn on_server(
    var: &str,
    backend: rbac_sqlx::Backend,
    ops: &[Op],
) -> Result<(), TestCaseError> {
    let Some(admin) = common::server_url(var, "assignment model") else {
        return Ok(());
    };
    let db = common::TempDb::create(&admin, backend).await;
    let outcome = on_url(&db.url, ops).await;
    db.drop_now().await;
    outcome
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, .. ProptestConfig::default() })]

    #[test]
    fn assignments_agree_with_the_model_on_memory(ops in proptest::collection::vec(op(), 1..40)) {
        runtime().block_on(run(Arc::new(MemoryStore::new()), &ops))?;
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn assignments_agree_with_the_model_on_sqlite(ops in proptest::collection::vec(op(), 1..40)) {
        runtime().block_on(on_url("sqlite::memory:", &ops))?;
    }
}

proptest! {
    // A shared server: fewer cases (each makes its own roles and users, uniquely named).
    #![proptest_config(ProptestConfig { cases: 8, .. ProptestConfig::default() })]

    #[cfg(feature = "postgres")]
    #[test]
    fn assignments_agree_with_the_model_on_postgres(ops in proptest::collection::vec(op(), 1..30)) {
        runtime().block_on(on_server("RBAC_TEST_POSTGRES_URL", rbac_sqlx::Backend::Postgres, &ops))?;
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn assignments_agree_with_the_model_on_mysql(ops in proptest::collection::vec(op(), 1..30)) {
        runtime().block_on(on_server("RBAC_TEST_MYSQL_URL", rbac_sqlx::Backend::MySql, &ops))?;
    }
}

#[test]
fn the_model_is_not_trivial() {
    let mut m = Model::default();
    m.roles
        .insert(0, (BTreeSet::from([0]), BTreeSet::new(), true));
    m.held.insert((0, 0, Some(0)));
    // Held in org:acme: there, and in the team only while it lies within org:acme.
    assert_eq!(m.holds(0, ASKED[1]), BTreeSet::from([0]));
    assert!(m.holds(0, None).is_empty());
    assert!(m.holds(0, ASKED[2]).is_empty(), "Acme is not acme");
    assert!(m.holds(0, ASKED[5]).is_empty(), "acm is not acme");
    assert!(m.holds(0, ASKED[3]).is_empty());
    m.team_parent = Some(0);
    assert_eq!(m.holds(0, ASKED[3]), BTreeSet::from([0]));
    assert!(m.holds(0, ASKED[4]).is_empty());
}
