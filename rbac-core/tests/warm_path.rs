//! The warm path: `authenticate_token_now` answers from the caches alone, exactly as the
//! async path does, and stands aside (None) whenever only the store can tell: a token not
//! seen yet, a session revoked since, an opaque session due to slide.

mod support;

use rbac_core::service::{LoginInput, LoginStep, UserInput};
use rbac_core::{MemoryStore, Rbac};

async fn newsroom() -> Rbac {
    Rbac::builder(MemoryStore::new())
        .secret("warm-path-test-secret-warm-path-test")
        .privileges(["ArticleRead"])
        .config(support::fast())
        .build()
        .await
        .expect("rbac")
}

async fn token_of(rbac: &Rbac, name: &str) -> String {
    let system = rbac.system().await.expect("system");
    rbac.roles()
        .define(&system, "reader", ["ArticleRead"], Vec::<&str>::new())
        .await
        .expect("reader");
    let user = UserInput {
        name: name.into(),
        password: "Reader-password-1".into(),
        roles: vec!["reader".into()],
        ..Default::default()
    };
    rbac.users()
        .create(Some(&system), user)
        .await
        .expect("user");
    rbac.sessions()
        .login(&LoginInput::new(name, "Reader-password-1", "10.0.0.7"))
        .await
        .and_then(LoginStep::signed_in)
        .expect("login")
        .token
        .token
}

#[tokio::test]
async fn a_warm_token_is_settled_at_once_and_as_the_async_path_settles_it() {
    let rbac = newsroom().await;
    let token = token_of(&rbac, "erin").await;
    let authorizer = rbac.authorizer();
    // Not verified yet: only the async path can tell (it verifies the signature).
    assert!(authorizer.authenticate_token_now(&token).is_none());
    let waited = authorizer.authenticate_token(&token).await.expect("valid");
    let now = authorizer
        .authenticate_token_now(&token)
        .expect("cached")
        .expect("valid");
    assert_eq!(now, waited);
    assert!(authorizer.require_code(&now, "ArticleRead").is_ok());
    // Another token, never verified: not settled from the caches.
    let last = if token.ends_with('A') { "B" } else { "A" };
    let forged = format!("{}{last}", &token[..token.len() - 1]);
    assert!(authorizer.authenticate_token_now(&forged).is_none());
    assert!(authorizer.authenticate_token(&forged).await.is_err());
}

#[tokio::test]
async fn a_revoked_session_is_never_admitted_from_the_caches() {
    let rbac = newsroom().await;
    let token = token_of(&rbac, "erin").await;
    let authorizer = rbac.authorizer();
    let erin = authorizer.authenticate_token(&token).await.expect("valid");
    assert!(matches!(
        authorizer.authenticate_token_now(&token),
        Some(Ok(_))
    ));
    rbac.sessions().logout(&erin).await.expect("logout");
    // The session cache forgot it: the async path reads the store and refuses.
    assert!(!matches!(
        authorizer.authenticate_token_now(&token),
        Some(Ok(_))
    ));
    assert!(authorizer.authenticate_token(&token).await.is_err());
    // Now the refusal is cached, and settled at once as a refusal.
    assert!(matches!(
        authorizer.authenticate_token_now(&token),
        Some(Err(_))
    ));
    // The control: erin's next session is admitted, from the caches once warm.
    let again = support::signed_in(&rbac, "erin", "Reader-password-1").await;
    assert!(authorizer.require_code(&again, "ArticleRead").is_ok());
}
