//! System roles: keyed on a store that predates keys (a role bootstrap created is keyed in
//! place; a role that took a system role's name later is not adopted), and given more by
//! admin alone however it would arrive: granted to the role, or to a role it includes, or
//! by enabling one it includes; an included role this process has not loaded yet never
//! makes an addition look like none. Each refusal has its positive control beside it.

use rbac_core::store::AuthorizerStore;
use std::sync::Arc;

use rbac_core::factors::Factors;
use rbac_core::service::{RoleUpdate, SystemRole, UserInput};
use rbac_core::store::{RoleStore, Store};
use rbac_core::{
    AdminPrivileges, AuditCategory, Change, Error, HasherConfig, Journal, JwtCodec, JwtKey,
    MemoryStore, NewAudit, Page, Principal, PrivilegeRegistry, Rbac, RbacConfig, SessionKind,
    ADMIN,
};

/// The system role these tests key.
const REGISTERED_ROLE: &str = "registered";

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
            key: REGISTERED_ROLE,
            name: REGISTERED_ROLE,
            remark: "self-registered users",
            privileges: &[],
        }],
        ..RbacConfig::default()
    };
    let dyn_store: Arc<dyn Store> = store;
    let rbac = Rbac::new(
        dyn_store,
        Arc::new(PrivilegeRegistry::new(AdminPrivileges::default().codes())),
        JwtCodec::new(JwtKey::from_secret("system-roles-test-secret-system"), []),
        config,
    )
    .await
    .expect("rbac");
    rbac.bootstrap(Some("admin-password"))
        .await
        .expect("bootstrap");
    rbac
}

/// Removes every key but the admin role's, as a store from before keys looks.
async fn forget_keys(store: &MemoryStore) {
    for mut role in store.list_roles(Page::ALL).await.expect("roles").rows {
        if !role.builtin && role.system_key.is_some() {
            role.system_key = None;
            store
                .update_role(&role, &Journal::default())
                .await
                .expect("unkey");
        }
    }
}

#[tokio::test]
async fn a_role_bootstrap_created_is_keyed_in_place() {
    let store = Arc::new(MemoryStore::new());
    let rbac = service(store.clone()).await;
    let original = rbac.roles().named(REGISTERED_ROLE).await.expect("role");
    forget_keys(&store).await;
    assert!(store
        .role_by_key(REGISTERED_ROLE)
        .await
        .expect("by key")
        .is_none());
    let rbac = service(store.clone()).await;
    let keyed = rbac
        .roles()
        .system_role(REGISTERED_ROLE)
        .await
        .expect("keyed");
    assert_eq!(keyed.id, original.id, "the same role, keyed in place");
    assert_eq!(keyed.name, REGISTERED_ROLE);
}

#[tokio::test]
async fn a_hijacked_name_is_not_adopted() {
    let store = Arc::new(MemoryStore::new());
    let rbac = service(store.clone()).await;
    let admin = principal(&rbac, ADMIN).await;
    let original = rbac.roles().named(REGISTERED_ROLE).await.expect("role");
    let strong = rbac
        .roles()
        .create(&admin, "strong", "")
        .await
        .expect("role");
    rbac.roles()
        .grant(&admin, "strong", ["UserEdit", "UserDelete"])
        .await
        .expect("grant");
    // The hijack as the server before keys did it and logged it: the real role renamed
    // away and a strong one (made by admin moments after bootstrap) renamed into its name.
    forget_keys(&store).await;
    let renamed = |old: &str, new: &str| {
        Journal::audit(NewAudit {
            user_id: Some(admin.user_id),
            user_name: "mallory".into(),
            category: AuditCategory::System,
            content: format!("edit role {old} (now {new})"),
            success: true,
        })
    };
    let mut away = store.role(original.id).await.expect("read").expect("role");
    away.name = "renamed-away".into();
    store
        .update_role(&away, &renamed(REGISTERED_ROLE, "renamed-away"))
        .await
        .expect("rename away");
    let mut impostor = store.role(strong.id).await.expect("read").expect("role");
    impostor.name = REGISTERED_ROLE.into();
    store
        .update_role(&impostor, &renamed("strong", REGISTERED_ROLE))
        .await
        .expect("rename in");

    let rbac = service(store.clone()).await;
    let keyed = rbac
        .roles()
        .system_role(REGISTERED_ROLE)
        .await
        .expect("keyed");
    assert_ne!(keyed.id, strong.id, "the impostor is not adopted");
    assert_eq!(keyed.name, REGISTERED_ROLE);
    assert!(keyed.privileges.is_empty(), "{keyed:?}");
    let aside = store.role(strong.id).await.expect("read").expect("role");
    assert_eq!(
        aside.name,
        format!("{REGISTERED_ROLE}-unverified-{}", strong.id)
    );
    assert_eq!(aside.system_key, None);
    let log = rbac
        .store()
        .list_audit(&rbac_core::AuditQuery {
            page: Page::ALL,
            ..Default::default()
        })
        .await
        .expect("audit");
    assert!(
        log.rows
            .iter()
            .any(|e| !e.success && e.content.contains("does not match the creation record")),
        "the mismatch is audited"
    );
    // A later renaming attempt by admin into the reserved name is refused.
    let update = RoleUpdate {
        id: aside.id,
        name: REGISTERED_ROLE.into(),
        remark: None,
    };
    assert!(rbac.roles().edit(&admin, update).await.is_err());
}

/// A principal for a stored user, as authentication would build it now.
async fn principal(rbac: &Rbac, name: &str) -> Principal {
    let user = rbac.users().named(name).await.expect("user");
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
    rbac.roles()
        .create(&admin, "managers", "")
        .await
        .expect("role");
    rbac.roles()
        .grant(&admin, "managers", &codes(MANAGER))
        .await
        .expect("grant");
    let input = UserInput {
        name: "manager".into(),
        password: "manager-password-1".into(),
        roles: vec!["managers".into()],
        ..UserInput::default()
    };
    rbac.users()
        .create(Some(&admin), input)
        .await
        .expect("user");
    (admin, principal(rbac, "manager").await)
}

#[tokio::test]
async fn a_role_a_system_role_includes_is_granted_more_by_admin_alone() {
    let rbac = service(Arc::new(MemoryStore::new())).await;
    let (admin, manager) = world(&rbac).await;
    // An empty role included in the system role: nothing more yet, so allowed.
    rbac.roles()
        .create(&manager, "extras", "")
        .await
        .expect("role");
    rbac.roles()
        .include(&manager, REGISTERED_ROLE, &codes(&["extras"]))
        .await
        .expect("including an empty role adds nothing");
    // Granting to it would grant every registrant: refused to the manager...
    let refused = rbac
        .roles()
        .grant(&manager, "extras", &codes(&["UserEdit"]))
        .await
        .expect_err("more to a role the system role includes");
    assert!(matches!(refused, Error::Violation(_)), "{refused:?}");
    assert!(rbac
        .roles()
        .named("extras")
        .await
        .expect("role")
        .privileges
        .is_empty());
    // ...while the same grant to a role no system role includes goes through,
    rbac.roles()
        .create(&manager, "editors", "")
        .await
        .expect("role");
    rbac.roles()
        .grant(&manager, "editors", &codes(&["RoleAccess"]))
        .await
        .expect("a role of the manager's own");
    // and admin may grant more to the included role.
    rbac.roles()
        .grant(&admin, "extras", &codes(&["UserEdit"]))
        .await
        .expect("admin grants more");
    // Including a role that grants something the system role does not reach yet: refused
    // too, but not to admin.
    let refused = rbac
        .roles()
        .include(&manager, REGISTERED_ROLE, &codes(&["extras", "editors"]))
        .await
        .expect_err("more to the system role through inclusion");
    assert!(matches!(refused, Error::Violation(_)), "{refused:?}");
    rbac.roles()
        .include(&admin, REGISTERED_ROLE, &codes(&["extras", "editors"]))
        .await
        .expect("admin includes");
    // Through a chain: a role included by a role the system role includes.
    rbac.roles()
        .create(&manager, "deeper", "")
        .await
        .expect("role");
    rbac.roles()
        .include(&admin, "editors", &codes(&["deeper"]))
        .await
        .expect("admin includes deeper");
    let refused = rbac
        .roles()
        .grant(&manager, "deeper", &codes(&["UserEdit"]))
        .await
        .expect_err("more two inclusions down");
    assert!(matches!(refused, Error::Violation(_)), "{refused:?}");
    // Taking away stays open to whoever holds what is taken.
    rbac.roles()
        .grant(&manager, "extras", Vec::<String>::new())
        .await
        .expect("removing what the manager holds");
}

#[tokio::test]
async fn an_included_role_another_instance_made_is_loaded_before_a_grant_is_judged() {
    let store = Arc::new(MemoryStore::new());
    let here = service(store.clone()).await;
    let (admin, _) = world(&here).await;
    here.roles().create(&admin, "team", "").await.expect("role");
    here.roles()
        .grant(&admin, "team", &codes(&["UserEdit"]))
        .await
        .expect("grant");
    // Another instance over the same store, started now: it knows `team`, not what follows.
    let there = service(store).await;
    let manager = principal(&there, "manager").await;
    // On this instance: a new role, included in `team`; the change feed tells the other
    // instance that `team` changed (a new role is announced to no one).
    here.roles()
        .create(&admin, "helpers", "")
        .await
        .expect("role");
    let team = here
        .roles()
        .include(&admin, "team", &codes(&["helpers"]))
        .await
        .expect("include");
    there
        .authorizer()
        .apply_changes(&[Change::Role(team.id)])
        .await;
    let refused = there
        .roles()
        .grant(&manager, "team", &codes(&["UserEdit", "UserDelete"]))
        .await
        .expect_err("a privilege the manager does not hold");
    assert!(matches!(refused, Error::NotGrantable(_)), "{refused:?}");
    let team = there.roles().named("team").await.expect("role");
    assert_eq!(team.privileges, codes(&["UserEdit"]));
    // The positive control: what the manager holds, it may grant there.
    there
        .roles()
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
    rbac.roles()
        .create(&admin, "dormant", "")
        .await
        .expect("role");
    rbac.roles()
        .grant(&admin, "dormant", &codes(&["UserEdit"]))
        .await
        .expect("grant");
    rbac.roles()
        .set_enabled(&admin, "dormant", false)
        .await
        .expect("disable");
    rbac.roles()
        .include(&admin, REGISTERED_ROLE, &codes(&["dormant"]))
        .await
        .expect("include");
    // Enabling it would confer UserEdit on every registrant: not the manager's to do.
    let refused = rbac
        .roles()
        .set_enabled(&manager, "dormant", true)
        .await
        .expect_err("more to the system role by enabling");
    assert!(matches!(refused, Error::Violation(_)), "{refused:?}");
    assert!(!rbac.roles().named("dormant").await.expect("role").enabled);
    // Granting the system role what the disabled role holds is more too.
    let refused = rbac
        .roles()
        .grant(&manager, REGISTERED_ROLE, &codes(&["UserEdit"]))
        .await
        .expect_err("what a disabled included role holds is not conferred");
    assert!(matches!(refused, Error::Violation(_)), "{refused:?}");
    // The controls: the manager enables a role no system role reaches, and disables the
    // included one again once admin has enabled it; admin enables it.
    rbac.roles()
        .create(&manager, "own", "")
        .await
        .expect("role");
    rbac.roles()
        .set_enabled(&manager, "own", false)
        .await
        .expect("disable own");
    rbac.roles()
        .set_enabled(&manager, "own", true)
        .await
        .expect("enable own");
    rbac.roles()
        .set_enabled(&admin, "dormant", true)
        .await
        .expect("admin enables");
    rbac.roles()
        .set_enabled(&manager, "dormant", false)
        .await
        .expect("taking away stays open");
}
