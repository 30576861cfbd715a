//! Keying the system roles on a store that predates keys: a role bootstrap created is
//! keyed in place; a role that took a system role's name later is not adopted.

use std::sync::Arc;

use rbac_core::service::{RoleUpdate, SystemRole};
use rbac_core::{
    AdminPrivileges, AuditCategory, HasherConfig, Journal, JwtCodec, JwtKey, MemoryStore, NewAudit,
    Page, PrivilegeRegistry, Rbac, RbacConfig, RoleStore, Store, ADMIN,
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
    let original = rbac.role_named(REGISTERED_ROLE).await.expect("role");
    forget_keys(&store).await;
    assert!(store
        .role_by_key(REGISTERED_ROLE)
        .await
        .expect("by key")
        .is_none());
    let rbac = service(store.clone()).await;
    let keyed = rbac.system_role(REGISTERED_ROLE).await.expect("keyed");
    assert_eq!(keyed.id, original.id, "the same role, keyed in place");
    assert_eq!(keyed.name, REGISTERED_ROLE);
}

#[tokio::test]
async fn a_hijacked_name_is_not_adopted() {
    let store = Arc::new(MemoryStore::new());
    let rbac = service(store.clone()).await;
    let admin = {
        let user = rbac.user_named(ADMIN).await.expect("admin");
        rbac_core::Principal {
            user_id: user.id,
            user_name: Arc::from(ADMIN),
            grants: rbac
                .authorizer()
                .grants_for(&user.roles)
                .await
                .expect("grants"),
            session_id: Arc::from("test"),
            kind: rbac_core::SessionKind::Jwt,
            factors: rbac_core::Factors::PASSWORD,
            verified_at: 0,
            enrolment_required: false,
            second_factor_enrolled: false,
        }
    };
    let original = rbac.role_named(REGISTERED_ROLE).await.expect("role");
    let strong = rbac.create_role(&admin, "strong", "").await.expect("role");
    rbac.grant(&admin, "strong", &["UserEdit".into(), "UserDelete".into()])
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
    let keyed = rbac.system_role(REGISTERED_ROLE).await.expect("keyed");
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
    assert!(rbac.edit_role(&admin, update).await.is_err());
}
