//! Random sequences of admin operations against a simple reference model.
//!
//! Invariants after every step: names unique; every user holds exactly the privileges of
//! its role (when enabled) and nothing no grant gave; revoked sessions never authenticate;
//! the built-in admin user and role survive with every privilege.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use rbac_core::service::{InquiryTarget, LoginInput, LoginThrottle, UserEdit, UserInput};
use rbac_core::{
    Error, HasherConfig, JwtCodec, JwtKey, MemoryStore, Page, Principal, PrivilegeRegistry, Rbac,
    RbacConfig, ThrottlePolicy, UserQuery,
};

/// The vocabulary: the administrative codes and one application code.
const CODES: [&str; 12] = [
    "UserAccess",
    "UserAdd",
    "UserEdit",
    "UserDelete",
    "UserEnableOrDisable",
    "RoleAccess",
    "RoleAdd",
    "RoleDelete",
    "RoleEdit",
    "RoleEnableOrDisable",
    "RoleAuthority",
    "ArticlePublish",
];

/// Failed logins never block.
const UNTHROTTLED: ThrottlePolicy = ThrottlePolicy {
    free: u32::MAX,
    max_failures: u32::MAX,
    window: 1,
    lockout: 0,
    backoff: 0,
};

const USERS: [&str; 4] = ["ann", "bob", "cyd", "dan"];
const ROLES: [&str; 3] = ["ops", "audit", "staff"];
const PW: &str = "pw-123456";

#[derive(Debug, Clone)]
enum Op {
    CreateUser(usize, Option<usize>),
    DeleteUser(usize),
    SetRole(usize, Option<usize>),
    Disable(usize, bool),
    CreateRole(usize),
    DeleteRole(usize),
    Grant(usize, Vec<usize>),
    DisableRole(usize, bool),
    LoginLogout(usize),
    ResetPassword(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let u = 0..USERS.len();
    let r = 0..ROLES.len();
    prop_oneof![
        (u.clone(), proptest::option::of(r.clone())).prop_map(|(u, r)| Op::CreateUser(u, r)),
        u.clone().prop_map(Op::DeleteUser),
        (u.clone(), proptest::option::of(r.clone())).prop_map(|(u, r)| Op::SetRole(u, r)),
        (u.clone(), any::<bool>()).prop_map(|(u, b)| Op::Disable(u, b)),
        r.clone().prop_map(Op::CreateRole),
        r.clone().prop_map(Op::DeleteRole),
        (r.clone(), proptest::collection::vec(0..CODES.len(), 0..5))
            .prop_map(|(r, ps)| Op::Grant(r, ps)),
        (r.clone(), any::<bool>()).prop_map(|(r, b)| Op::DisableRole(r, b)),
        u.clone().prop_map(Op::LoginLogout),
        u.prop_map(Op::ResetPassword),
    ]
}

#[derive(Debug, Default)]
struct Model {
    users: BTreeMap<&'static str, (Option<&'static str>, bool)>,
    roles: BTreeMap<&'static str, (BTreeSet<String>, bool)>,
}

impl Model {
    fn privileges(&self, user: &str) -> BTreeSet<String> {
        match self.users.get(user) {
            Some((Some(role), _)) => match self.roles.get(role) {
                Some((set, true)) => set.clone(),
                _ => BTreeSet::new(),
            },
            _ => BTreeSet::new(),
        }
    }
}

async fn setup() -> (Rbac, Principal) {
    let config = RbacConfig {
        hasher: HasherConfig {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            workers: 2,
            queue: 64,
        },
        // The model has no notion of throttling: logins of not-yet-created users must not
        // lock the names they will be created under.
        throttle: LoginThrottle {
            account: UNTHROTTLED,
            address: UNTHROTTLED,
            ..LoginThrottle::default()
        },
        ..RbacConfig::default()
    };
    let rbac = Rbac::new(
        Arc::new(MemoryStore::new()),
        Arc::new(PrivilegeRegistry::new(CODES)),
        JwtCodec::new(
            JwtKey::from_secret("model-test-secret-model-test-secret"),
            [],
        ),
        config,
    )
    .await
    .expect("rbac");
    rbac.bootstrap(Some("admin-pw")).await.expect("bootstrap");
    let login = rbac
        .sessions()
        .login(&LoginInput {
            audience: String::new(),
            name: "admin".into(),
            password: "admin-pw".into(),
            ip: "127.0.0.1".into(),
            user_agent: String::new(),
            tenant: None,
        })
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)
        .expect("admin login");
    let admin = rbac
        .sessions()
        .authenticate(&login.token.token)
        .await
        .expect("admin token");
    (rbac, admin)
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let (rbac, admin) = setup().await;
    let mut model = Model::default();
    let mut revoked: Vec<String> = Vec::new();
    for op in ops {
        match op {
            Op::CreateUser(u, r) => {
                let input = UserInput {
                    name: USERS[u].into(),
                    password: PW.into(),
                    roles: r.map(|r| ROLES[r].to_string()).into_iter().collect(),
                    ..UserInput::default()
                };
                let res = rbac.users().create(Some(&admin), input).await;
                let expect_ok = !model.users.contains_key(USERS[u])
                    && r.is_none_or(|r| model.roles.contains_key(ROLES[r]));
                prop_assert_eq!(res.is_ok(), expect_ok, "create user {:?}", res.err());
                if expect_ok {
                    model.users.insert(USERS[u], (r.map(|r| ROLES[r]), true));
                }
            }
            Op::DeleteUser(u) => {
                let res = rbac.users().delete(&admin, USERS[u]).await;
                prop_assert_eq!(res.is_ok(), model.users.remove(USERS[u]).is_some());
            }
            Op::SetRole(u, r) => {
                let edit = UserEdit {
                    roles: Some(r.map(|r| ROLES[r].to_string()).into_iter().collect()),
                    ..UserEdit::default()
                };
                let res = rbac.users().edit(&admin, USERS[u], edit).await;
                let expect_ok = model.users.contains_key(USERS[u])
                    && r.is_none_or(|r| model.roles.contains_key(ROLES[r]));
                prop_assert_eq!(res.is_ok(), expect_ok, "set role {:?}", res.err());
                if expect_ok {
                    if let Some(entry) = model.users.get_mut(USERS[u]) {
                        entry.0 = r.map(|r| ROLES[r]);
                    }
                }
            }
            Op::Disable(u, enabled) => {
                let res = rbac.users().set_enabled(&admin, USERS[u], enabled).await;
                prop_assert_eq!(res.is_ok(), model.users.contains_key(USERS[u]));
                if let Some(entry) = model.users.get_mut(USERS[u]) {
                    entry.1 = enabled;
                }
            }
            Op::CreateRole(r) => {
                let res = rbac.roles().create(&admin, ROLES[r], "").await;
                prop_assert_eq!(res.is_ok(), !model.roles.contains_key(ROLES[r]));
                model
                    .roles
                    .entry(ROLES[r])
                    .or_insert((BTreeSet::new(), true));
            }
            Op::DeleteRole(r) => {
                let in_use = model
                    .users
                    .values()
                    .any(|(role, _)| *role == Some(ROLES[r]));
                let res = rbac.roles().delete(&admin, ROLES[r]).await;
                let expect_ok = model.roles.contains_key(ROLES[r]) && !in_use;
                prop_assert_eq!(res.is_ok(), expect_ok, "delete role {:?}", res.err());
                if expect_ok {
                    model.roles.remove(ROLES[r]);
                }
            }
            Op::Grant(r, ps) => {
                let codes: Vec<String> = ps.iter().map(|p| CODES[*p].to_string()).collect();
                let res = rbac.roles().grant(&admin, ROLES[r], &codes).await;
                prop_assert_eq!(res.is_ok(), model.roles.contains_key(ROLES[r]));
                if let Some(entry) = model.roles.get_mut(ROLES[r]) {
                    entry.0 = codes.into_iter().collect();
                }
            }
            Op::DisableRole(r, enabled) => {
                let res = rbac.roles().set_enabled(&admin, ROLES[r], enabled).await;
                prop_assert_eq!(res.is_ok(), model.roles.contains_key(ROLES[r]));
                if let Some(entry) = model.roles.get_mut(ROLES[r]) {
                    entry.1 = enabled;
                }
            }
            Op::LoginLogout(u) => {
                let res = rbac
                    .sessions()
                    .login(&LoginInput {
                        audience: String::new(),
                        name: USERS[u].into(),
                        password: PW.into(),
                        ip: "127.0.0.1".into(),
                        user_agent: String::new(),
                        tenant: None,
                    })
                    .await
                    .and_then(rbac_core::service::LoginStep::signed_in);
                match model.users.get(USERS[u]) {
                    Some((_, true)) => {
                        let token = res
                            .map_err(|e| TestCaseError::fail(format!("login: {e}")))?
                            .token
                            .token;
                        let me = rbac
                            .sessions()
                            .authenticate(&token)
                            .await
                            .map_err(|e| TestCaseError::fail(format!("auth: {e}")))?;
                        rbac.sessions()
                            .logout(&me)
                            .await
                            .map_err(|e| TestCaseError::fail(format!("logout: {e}")))?;
                        revoked.push(token);
                    }
                    Some((_, false)) => prop_assert!(matches!(res, Err(Error::AccountDisabled))),
                    None => prop_assert!(matches!(res, Err(Error::BadCredentials))),
                }
            }
            Op::ResetPassword(u) => {
                let res = rbac.users().reset_password(&admin, USERS[u], PW).await;
                prop_assert_eq!(res.is_ok(), model.users.contains_key(USERS[u]));
            }
        }
        // Invariants.
        let users = rbac
            .users()
            .list(&admin, &UserQuery::default())
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let names: BTreeSet<&str> = users.rows.iter().map(|v| v.user.name.as_str()).collect();
        prop_assert_eq!(names.len(), users.rows.len(), "user names unique");
        for name in USERS {
            prop_assert_eq!(names.contains(name), model.users.contains_key(name));
            if model.users.contains_key(name) {
                let held: BTreeSet<String> = rbac
                    .roles()
                    .inquire(&admin, InquiryTarget::User, name)
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?
                    .into_iter()
                    .collect();
                prop_assert_eq!(held, model.privileges(name), "privileges of {}", name);
            }
        }
        let roles = rbac
            .roles()
            .list(&admin, Page::ALL)
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let role_names: BTreeSet<&str> = roles.rows.iter().map(|r| r.name.as_str()).collect();
        prop_assert_eq!(role_names.len(), roles.rows.len(), "role names unique");
        let admin_privs = rbac
            .roles()
            .inquire(&admin, InquiryTarget::User, "admin")
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(
            admin_privs.len(),
            CODES.len(),
            "admin keeps every privilege"
        );
        for token in &revoked {
            prop_assert!(
                rbac.sessions().authenticate(token).await.is_err(),
                "a revoked session authenticated"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]
    #[test]
    fn admin_operations_keep_the_invariants(ops in proptest::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(run(ops))?;
    }
}
