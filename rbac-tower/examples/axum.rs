//! `RbacLayer` in an axum service: a public route, a route for any logged-in user, routes
//! that need one privilege or several, and one that also needs a second factor proven
//! within five minutes, with the caller extracted in the handler.
//!
//! `cargo run -p rbac-tower --features axum --example axum`, then follow what it prints.

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use rbac_core::service::LoginInput;
use rbac_core::store::Store;
use rbac_core::{
    Journal, JwtCodec, JwtKey, MemoryStore, PrivilegeRegistry, Rbac, RbacConfig, Role, User,
};
use rbac_tower::extract::Caller;
use rbac_tower::{CredentialSource, RbacLayer};

/// The routes, each with the requirement declared where the route is.
fn router(rbac: &Rbac) -> Router {
    let layer = RbacLayer::new(rbac.authorizer().clone()).sources([CredentialSource::Bearer]);
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/me", get(me).layer(layer.clone().authenticated()))
        .route(
            "/users",
            get(|| async { "every user" }).layer(layer.clone().require_code("UserAccess")),
        )
        .route(
            "/users/purge",
            get(|| async { "purged" }).layer(layer.clone().all_of(&["UserEdit", "UserDelete"])),
        )
        .route(
            "/users/erase",
            get(|| async { "erased" }).layer(
                layer
                    .require_code("UserDelete")
                    .second_factor()
                    .fresh_within(std::time::Duration::from_secs(300)),
            ),
        )
}

async fn me(Caller(me): Caller) -> String {
    format!("you are {} (user {})", me.user_name, me.user_id)
}

/// An in-memory deployment: `admin` (every privilege) and `reader` (UserAccess only).
async fn deployment() -> Result<(Rbac, String, String), rbac_core::Error> {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let jwt = JwtCodec::new(JwtKey::from_secret("example-secret-example-secret-32"), []);
    let rbac = Rbac::new(
        store.clone(),
        Arc::new(PrivilegeRegistry::new(
            rbac_core::AdminPrivileges::default().codes(),
        )),
        jwt,
        RbacConfig {
            secrets_key: Some(rbac_core::SecretsKey::generate()),
            ..RbacConfig::default()
        },
    )
    .await?;
    rbac.bootstrap(Some("admin-password")).await?;
    let mut role = Role::new("reader", "reads users", "admin");
    role.privileges = vec!["UserAccess".into()];
    let role = store.create_role(&role, &Journal::default()).await?;
    let mut reader = User::blank(
        "reader",
        rbac.users().hasher().hash("reader-password").await?,
    );
    reader.roles = vec![rbac_core::Assignment::global(role.id)];
    store.create_user(&reader, &Journal::default()).await?;
    rbac.authorizer().load_roles().await?;
    let login = |name: &str, password: &str| LoginInput::new(name, password, "127.0.0.1");
    let admin = rbac
        .sessions()
        .login(&login("admin", "admin-password"))
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)?
        .token
        .token;
    let reader = rbac
        .sessions()
        .login(&login("reader", "reader-password"))
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)?
        .token
        .token;
    Ok((rbac, admin, reader))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (rbac, admin, reader) = deployment().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://127.0.0.1:3000");
    println!("curl localhost:3000/users -H 'Authorization: Bearer {reader}'        # 200");
    println!("curl localhost:3000/users/purge -H 'Authorization: Bearer {reader}'  # 403");
    println!("curl localhost:3000/users/purge -H 'Authorization: Bearer {admin}'   # 200");
    axum::serve(listener, router(&rbac)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http::{Request, StatusCode};
    use tower::ServiceExt;

    async fn status(app: &Router, path: &str, token: Option<&str>) -> StatusCode {
        let mut req = Request::get(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = req.body(Body::empty()).expect("request");
        app.clone().oneshot(req).await.expect("infallible").status()
    }

    #[tokio::test]
    async fn a_missing_privilege_is_refused() {
        let (rbac, admin, reader) = deployment().await.expect("deployment");
        let app = router(&rbac);
        assert_eq!(status(&app, "/health", None).await, StatusCode::OK);
        assert_eq!(status(&app, "/me", None).await, StatusCode::UNAUTHORIZED);
        assert_eq!(status(&app, "/me", Some(&reader)).await, StatusCode::OK);
        assert_eq!(status(&app, "/users", Some(&reader)).await, StatusCode::OK);
        assert_eq!(
            status(&app, "/users/purge", Some(&reader)).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(&app, "/users/purge", Some(&admin)).await,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn a_route_needing_a_second_factor_refuses_a_password_alone() {
        let (rbac, admin, _) = deployment().await.expect("deployment");
        let app = router(&rbac);
        // Every privilege, but a session proven by a password alone.
        assert_eq!(
            status(&app, "/users/purge", Some(&admin)).await,
            StatusCode::OK
        );
        assert_eq!(
            status(&app, "/users/erase", Some(&admin)).await,
            StatusCode::FORBIDDEN
        );
        // Enrol TOTP, then sign in with the password and a code.
        let me = rbac
            .sessions()
            .authenticate(&admin)
            .await
            .expect("principal");
        let enrolment = rbac
            .factors()
            .begin_totp(&me, None, "127.0.0.1")
            .await
            .expect("begin");
        let secret = rbac_core::factors::decode_totp_secret(&enrolment.secret).expect("secret");
        let step = rbac_core::factors::totp_step(rbac_core::now());
        let code = |s: i64| rbac_core::factors::totp_code(&secret, s);
        rbac.factors()
            .confirm_totp(&me, &code(step))
            .await
            .expect("confirm");
        let input = LoginInput::new("admin", "admin-password", "127.0.0.1");
        let challenge = match rbac.sessions().login(&input).await {
            Ok(rbac_core::service::LoginStep::SecondFactor(c)) => c,
            other => panic!("expected a challenge, got {other:?}"),
        };
        let second = rbac_core::service::SecondFactorInput::new(
            challenge.token,
            code(step + 1),
            "127.0.0.1",
        );
        let token = rbac
            .sessions()
            .complete_login(&second, rbac_core::SessionKind::Jwt)
            .await
            .expect("complete")
            .token
            .token;
        assert_eq!(
            status(&app, "/users/erase", Some(&token)).await,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn the_caller_without_the_layer_is_a_clear_500() {
        let app: Router = Router::new().route("/me", get(me));
        let resp = app
            .oneshot(Request::get("/me").body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(resp.into_body(), 1024)
            .await
            .expect("body");
        assert!(String::from_utf8_lossy(&body).contains("RbacLayer is not installed"));
    }
}
