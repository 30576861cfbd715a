//! Opaque sessions in a tenant: the expiry slides with use, without a store write
//! per use.

use rbac_core::store::AuthorizerStore;
use std::sync::Arc;
use std::time::Duration;

use rbac_core::service::LoginInput;
use rbac_core::store::{Store, UserStore};
use rbac_core::{
    AdminPrivileges, AuthorizerConfig, HasherConfig, JwtCodec, JwtKey, MemoryStore,
    PrivilegeRegistry, Rbac, RbacConfig, Scope, SessionKind, User,
};

async fn tenant(sliding_ttl: u64, sliding_interval: u64) -> (Rbac, Arc<MemoryStore>) {
    tenant_with_max(sliding_ttl, sliding_interval, 7 * 24 * 3600).await
}

async fn tenant_with_max(
    sliding_ttl: u64,
    sliding_interval: u64,
    sliding_max: u64,
) -> (Rbac, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let config = RbacConfig {
        hasher: HasherConfig {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            workers: 2,
            queue: 64,
        },
        cache: AuthorizerConfig {
            sliding_ttl: Duration::from_secs(sliding_ttl),
            sliding_interval: Duration::from_secs(sliding_interval),
            sliding_max: Duration::from_secs(sliding_max),
            ..AuthorizerConfig::default()
        },
        ..RbacConfig::default()
    };
    let dyn_store: Arc<dyn Store> = store.clone();
    let rbac = Rbac::new(
        dyn_store,
        Arc::new(PrivilegeRegistry::new(AdminPrivileges::default().codes())),
        JwtCodec::new(JwtKey::from_secret("sliding-test-secret-sliding-test"), []),
        config,
    )
    .await
    .expect("rbac");
    rbac.bootstrap(Some("admin-password"))
        .await
        .expect("bootstrap");
    let mut user = User::blank(
        "alice",
        rbac.users().hasher().hash("pw").await.expect("hash"),
    );
    user.tenant = Scope::new("org", 2);
    store
        .create_user(&user, &Default::default())
        .await
        .expect("user");
    (rbac, store)
}

fn input() -> LoginInput {
    LoginInput {
        audience: String::new(),
        name: "alice".into(),
        password: "pw".into(),
        ip: "127.0.0.1".into(),
        user_agent: String::new(),
        tenant: None,
    }
}

/// A login into the tenant `org:ID`.
fn into_org(org: i64) -> LoginInput {
    input().tenant(Scope::new("org", org).expect("scope"))
}

#[tokio::test]
async fn using_a_token_does_not_write_until_the_interval_passes() {
    let (rbac, store) = tenant(7200, 60).await;
    let login = rbac
        .sessions()
        .login_with(&into_org(2), SessionKind::Opaque)
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)
        .expect("login");
    let token = login.token.token;
    let before = store
        .session(&login.token.session_id)
        .await
        .expect("read")
        .expect("session");
    assert_eq!(before.kind, SessionKind::Opaque);
    assert_ne!(before.id, token, "the token itself is never stored");
    for _ in 0..1000 {
        let p = rbac
            .sessions()
            .authenticate(&token)
            .await
            .expect("token accepted");
        assert_eq!(p.kind, SessionKind::Opaque);
    }
    let after = store
        .session(&login.token.session_id)
        .await
        .expect("read")
        .expect("session");
    assert_eq!(before, after, "no store write within the interval");
    // Another tenant's login is refused like a wrong password.
    assert!(rbac
        .sessions()
        .login_with(&into_org(5), SessionKind::Opaque)
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)
        .is_err());
}

#[tokio::test]
async fn a_use_after_the_interval_moves_the_stored_expiry() {
    // A 4 s lifetime: the use at 2.1 s stays clear of whole-second rounding of the expiry.
    let (rbac, store) = tenant(4, 1).await;
    let login = rbac
        .sessions()
        .login_with(&into_org(2), SessionKind::Opaque)
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)
        .expect("login");
    let first = login.token.expires_at;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    rbac.sessions()
        .authenticate(&login.token.token)
        .await
        .expect("token accepted");
    let stored = store
        .session(&login.token.session_id)
        .await
        .expect("read")
        .expect("session");
    assert!(
        stored.expires_at >= first + 2,
        "extended: {} -> {}",
        first,
        stored.expires_at
    );
    // Unused past its (extended) expiry: refused.
    tokio::time::sleep(Duration::from_millis(5100)).await;
    assert!(rbac
        .sessions()
        .authenticate(&login.token.token)
        .await
        .is_err());
}

#[tokio::test]
async fn a_token_used_often_still_ends_at_its_absolute_lifetime() {
    // Slides by 3 s on each use, but lives at most 5 s after issue.
    let (rbac, store) = tenant_with_max(3, 1, 5).await;
    let login = rbac
        .sessions()
        .login_with(&into_org(2), SessionKind::Opaque)
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)
        .expect("login");
    let issued = store
        .session(&login.token.session_id)
        .await
        .expect("read")
        .expect("session")
        .issued_at;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1600)).await;
        if rbac
            .sessions()
            .authenticate(&login.token.token)
            .await
            .is_err()
        {
            break;
        }
        let stored = store
            .session(&login.token.session_id)
            .await
            .expect("read")
            .expect("session");
        assert!(
            stored.expires_at <= issued + 5,
            "never past the absolute lifetime: {} > {}",
            stored.expires_at,
            issued + 5
        );
    }
    // Used every 1.6 s, well within its 3 s sliding lifetime, yet refused after 5 s.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(rbac
        .sessions()
        .authenticate(&login.token.token)
        .await
        .is_err());
}
