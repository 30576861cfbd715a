//! More to a system role is admin's alone, however it would arrive: granted to the role,
//! or to a role it includes; and an included role this process has not loaded yet never
//! makes an addition look like none. Each refusal has its positive control beside it.

use std::sync::Arc;

use rbac_core::service::{SystemRole, UserInput};
use rbac_core::{
    AdminPrivileges, Change, Error, Factors, HasherConfig, JwtCodec, JwtKey, MemoryStore,
    Principal, PrivilegeRegistry, Rbac, RbacConfig, SessionKind, Store, ADMIN,
};

/// The system role every self-registered user holds.
const REGISTERED: &str = "registered";

async fn service(store: Arc<MemoryStore>) -> Rbac {
    let config = RbacConfig {
        hasher: HasherConfig {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            workers: 2,
            queue: 64,
        },
        system_roles: vec![SystemRole {
            key: REGISTERED,
            name: REGISTERED,
            remark: "self-registered users",
            privileges: &[],
        }],
        ..RbacConfig::default()
    };
    let dyn_store: Arc<dyn Store> = store;
    let rbac = Rbac::new(
        dyn_store,
        Arc::new(PrivilegeRegistry::new(AdminPrivileges::default().codes())),
        JwtCodec::new(JwtKey::from_secret("system-reach-test-secret-of-32b"), []),
        config,
    )
    .await
    .expect("rbac");
    rbac.bootstrap(Some("admin-password"))
        .await
        .expect("bootstrap");
    rbac
}

/// A principal for a stored user, as authentication would build it now.
async fn principal(rbac: &Rbac, name: &str) -> Principal {
    let user = rbac.user_named(name).await.expect("user");
    Principal {
        user_id: user.id,
        user_name: Arc::from(user.name.as_str()),
        grants: rbac
            .authorizer()
            .grants_for(&user.roles)
            .await
            .expect("grants"),
        session_id: Arc::from("system-reach-test"),
        kind: SessionKind::Jwt,
        factors: Factors::PASSWORD,
        verified_at: 0,
        enrolment_required: false,
        second_factor_enrolled: false,
    }
}

fn codes(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| c.to_string()).collect()
}

/// What a role manager holds: role authority and the user privileges it hands out.
const MANAGER: &[&str] = &[
    "RoleAuthority",
    "RoleAdd",
    "RoleAccess",
    "RoleEnableOrDisable",
    "UserEdit",
];

/// The built-in admin, and `manager` holding [`MANAGER`] through role `managers`.
async fn world(rbac: &Rbac) -> (Principal, Principal) {
    let admin = principal(rbac, ADMIN).await;
    rbac.create_role(&admin, "managers", "")
        .await
        .expect("role");
    rbac.grant(&admin, "managers", &codes(MANAGER))
        .await
        .expect("grant");
    let input = UserInput {
        name: "manager".into(),
        password: "manager-password-1".into(),
        roles: vec!["managers".into()],
        ..UserInput::default()
    };
    rbac.create_user(Some(&admin), input).await.expect("user");
    (admin, principal(rbac, "manager").await)
}

#[tokio::test]
async fn a_role_a_system_role_includes_is_granted_more_by_admin_alone() {
    let rbac = service(Arc::new(MemoryStore::new())).await;
    let (admin, manager) = world(&rbac).await;
    // An empty role included in the system role: nothing more yet, so allowed.
    rbac.create_role(&manager, "extras", "")
        .await
        .expect("role");
    rbac.include_roles(&manager, REGISTERED, &codes(&["extras"]))
        .await
        .expect("including an empty role adds nothing");
    // Granting to it would grant every registrant: refused to the manager...
    let refused = rbac
        .grant(&manager, "extras", &codes(&["UserEdit"]))
        .await
        .expect_err("more to a role the system role includes");
    assert!(matches!(refused, Error::Violation(_)), "{refused:?}");
    assert!(rbac
        .role_named("extras")
        .await
        .expect("role")
        .privileges
        .is_empty());
    // ...while the same grant to a role no system role includes goes through,
    rbac.create_role(&manager, "editors", "")
        .await
        .expect("role");
    rbac.grant(&manager, "editors", &codes(&["RoleAccess"]))
        .await
        .expect("a role of the manager's own");
    // and admin may grant more to the included role.
    rbac.grant(&admin, "extras", &codes(&["UserEdit"]))
        .await
        .expect("admin grants more");
    // Including a role that grants something the system role does not reach yet: refused
    // too, but not to admin.
    let refused = rbac
        .include_roles(&manager, REGISTERED, &codes(&["extras", "editors"]))
        .await
        .expect_err("more to the system role through inclusion");
    assert!(matches!(refused, Error::Violation(_)), "{refused:?}");
    rbac.include_roles(&admin, REGISTERED, &codes(&["extras", "editors"]))
        .await
        .expect("admin includes");
    // Through a chain: a role included by a role the system role includes.
    rbac.create_role(&manager, "deeper", "")
        .await
        .expect("role");
    rbac.include_roles(&admin, "editors", &codes(&["deeper"]))
        .await
        .expect("admin includes deeper");
    let refused = rbac
        .grant(&manager, "deeper", &codes(&["UserEdit"]))
        .await
        .expect_err("more two inclusions down");
    assert!(matches!(refused, Error::Violation(_)), "{refused:?}");
    // Taking away stays open to whoever holds what is taken.
    rbac.grant(&manager, "extras", &[])
        .await
        .expect("removing what the manager holds");
}

#[tokio::test]
async fn an_included_role_another_instance_made_is_loaded_before_a_grant_is_judged() {
    let store = Arc::new(MemoryStore::new());
    let here = service(store.clone()).await;
    let (admin, _) = world(&here).await;
    here.create_role(&admin, "team", "").await.expect("role");
    here.grant(&admin, "team", &codes(&["UserEdit"]))
        .await
        .expect("grant");
    // Another instance over the same store, started now: it knows `team`, not what follows.
    let there = service(store).await;
    let manager = principal(&there, "manager").await;
    // On this instance: a new role, included in `team`; the change feed tells the other
    // instance that `team` changed (a new role is announced to no one).
    here.create_role(&admin, "helpers", "").await.expect("role");
    let team = here
        .include_roles(&admin, "team", &codes(&["helpers"]))
        .await
        .expect("include");
    there
        .authorizer()
        .apply_changes(&[Change::Role(team.id)])
        .await;
    let refused = there
        .grant(&manager, "team", &codes(&["UserEdit", "UserDelete"]))
        .await
        .expect_err("a privilege the manager does not hold");
    assert!(matches!(refused, Error::NotGrantable(_)), "{refused:?}");
    let team = there.role_named("team").await.expect("role");
    assert_eq!(team.privileges, codes(&["UserEdit"]));
    // The positive control: what the manager holds, it may grant there.
    there
        .grant(&manager, "team", &codes(&["UserEdit", "RoleAccess"]))
        .await
        .expect("held privileges");
}

#[tokio::test]
async fn enabling_a_role_a_system_role_includes_is_admins_alone() {
    let rbac = service(Arc::new(MemoryStore::new())).await;
    let (admin, manager) = world(&rbac).await;
    // A disabled role granting what the manager holds, included in the system role by
    // admin: it confers nothing yet.
    rbac.create_role(&admin, "dormant", "").await.expect("role");
    rbac.grant(&admin, "dormant", &codes(&["UserEdit"]))
        .await
        .expect("grant");
    rbac.set_role_enabled(&admin, "dormant", false)
        .await
        .expect("disable");
    rbac.include_roles(&admin, REGISTERED, &codes(&["dormant"]))
        .await
        .expect("include");
    // Enabling it would confer UserEdit on every registrant: not the manager's to do.
    let refused = rbac
        .set_role_enabled(&manager, "dormant", true)
        .await
        .expect_err("more to the system role by enabling");
    assert!(matches!(refused, Error::Violation(_)), "{refused:?}");
    assert!(!rbac.role_named("dormant").await.expect("role").enabled);
    // Granting the system role what the disabled role holds is more too.
    let refused = rbac
        .grant(&manager, REGISTERED, &codes(&["UserEdit"]))
        .await
        .expect_err("what a disabled included role holds is not conferred");
    assert!(matches!(refused, Error::Violation(_)), "{refused:?}");
    // The controls: the manager enables a role no system role reaches, and disables the
    // included one again once admin has enabled it; admin enables it.
    rbac.create_role(&manager, "own", "").await.expect("role");
    rbac.set_role_enabled(&manager, "own", false)
        .await
        .expect("disable own");
    rbac.set_role_enabled(&manager, "own", true)
        .await
        .expect("enable own");
    rbac.set_role_enabled(&admin, "dormant", true)
        .await
        .expect("admin enables");
    rbac.set_role_enabled(&manager, "dormant", false)
        .await
        .expect("taking away stays open");
}
