//! A scoped requirement: `layer.require("ArticlePublish").in_scope(...)` holds for a user
//! whose role is assigned in the request's scope (or a parent of it) or globally, and for
//! no one else; an unreadable scope is refused. Each refusal has its control beside it.

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::{Request, StatusCode};
use rbac_core::service::LoginInput;
use rbac_core::{Assignment, Journal, MemoryStore, Rbac, Role, Scope, User};
use rbac_tower::{CheckedScope, Principal, RbacLayer, ScopeSource};
use tower::ServiceExt;

async fn rbac() -> Rbac {
    Rbac::builder(MemoryStore::new())
        .secret("the scoped article service's own secret")
        .privileges(["ArticleRead", "ArticlePublish"])
        .scope_kinds(["org", "team", "desk", "tenant"])
        .build()
        .await
        .expect("rbac")
}

/// A user holding a role with `codes` through `assignments` of it; its token.
async fn member(rbac: &Rbac, name: &str, codes: &[&str], scopes: &[Option<Scope>]) -> String {
    let store = rbac.store();
    let mut role = Role::new(format!("{name}s"), "", "admin");
    role.privileges = codes.iter().map(|c| c.to_string()).collect();
    let role = store
        .create_role(&role, &Journal::default())
        .await
        .expect("role");
    let password = format!("{name}-password-1");
    let mut user = User::blank(
        name,
        rbac.users().hasher().hash(&password).await.expect("hash"),
    );
    user.roles = scopes
        .iter()
        .map(|s| Assignment {
            role_id: role.id,
            scope: *s,
        })
        .collect();
    store
        .create_user(&user, &Journal::default())
        .await
        .expect("user");
    let login = LoginInput::new(name, password, "127.0.0.1");
    rbac.sessions()
        .login(&login)
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)
        .expect("login")
        .token
        .token
}

async fn call(
    app: &Router,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut req = Request::post(path).header("authorization", format!("Bearer {token}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn org(id: i64) -> Option<Scope> {
    Scope::new("org", id)
}

#[tokio::test]
async fn a_scoped_grant_publishes_in_its_own_scope_only() {
    let rbac = rbac().await;
    let layer = RbacLayer::new(&rbac).require("ArticlePublish");
    let app = Router::new()
        .route(
            "/orgs/{org}/publish",
            post(|req: Request<Body>| async move {
                let scope = req
                    .extensions()
                    .get::<CheckedScope>()
                    .map(|s| s.0.to_string());
                let who = req
                    .extensions()
                    .get::<Principal>()
                    .map(|p| p.user_name.to_string());
                format!(
                    "{} in {}",
                    who.unwrap_or_default(),
                    scope.unwrap_or_default()
                )
            })
            .layer(layer.clone().in_scope(ScopeSource::path_segment("org", 1))),
        )
        .route(
            "/publish",
            post(|| async { "published" })
                .layer(layer.clone().in_scope(ScopeSource::header("x-scope"))),
        )
        .route(
            "/everywhere/publish",
            post(|| async { "published" }).layer(layer.clone()),
        )
        .route(
            "/somewhere/publish",
            post(|| async { "published" }).layer(layer.clone().in_scope(ScopeSource::Anywhere)),
        );
    let editor = member(&rbac, "editor", &["ArticlePublish"], &[org(2)]).await;
    let chief = member(&rbac, "chief", &["ArticlePublish"], &[None]).await;
    let reader = member(&rbac, "reader", &["ArticleRead"], &[org(2)]).await;

    let (status, body) = call(&app, "/orgs/2/publish", &editor, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, "editor in org:2");
    assert_eq!(
        call(&app, "/orgs/3/publish", &editor, &[]).await.0,
        StatusCode::FORBIDDEN
    );
    // Unreadable scopes are refused, for the editor and the chief alike.
    let too_long = format!("/orgs/{}/publish", "9".repeat(65));
    for path in [
        "/orgs/%32/publish",
        "/orgs/a:b/publish",
        "/orgs//publish",
        &too_long,
    ] {
        assert_eq!(
            call(&app, path, &editor, &[]).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            call(&app, path, &chief, &[]).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    // Ids compare exactly: `org:02` is another scope, where only the chief holds.
    assert_eq!(
        call(&app, "/orgs/02/publish", &editor, &[]).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, "/orgs/02/publish", &chief, &[]).await.0,
        StatusCode::OK
    );
    // A global grant holds in every scope; a scoped one never globally.
    assert_eq!(
        call(&app, "/orgs/3/publish", &chief, &[]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "/everywhere/publish", &chief, &[]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "/everywhere/publish", &editor, &[]).await.0,
        StatusCode::FORBIDDEN
    );
    // Anywhere: a gate passed by a grant in some scope, or a global one, and no other.
    assert_eq!(
        call(&app, "/somewhere/publish", &editor, &[]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "/somewhere/publish", &chief, &[]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "/somewhere/publish", &reader, &[]).await.0,
        StatusCode::FORBIDDEN
    );
    // A role without the privilege, in the same scope, is refused.
    assert_eq!(
        call(&app, "/orgs/2/publish", &reader, &[]).await.0,
        StatusCode::FORBIDDEN
    );

    // From a header: the same answers.
    let scope = |s: &'static str| [("x-scope", s)];
    assert_eq!(
        call(&app, "/publish", &editor, &scope("org:2")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "/publish", &editor, &scope("org:3")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, "/publish", &editor, &[]).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, "/publish", &editor, &scope("team:2")).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_grant_in_a_parent_scope_holds_in_its_children() {
    let rbac = rbac().await;
    let team = Scope::new("team", 40).expect("scope");
    rbac.assignments()
        .set_scope_parent(team, org(2))
        .await
        .expect("parent");
    let layer = RbacLayer::new(&rbac).any_of(&["ArticleRead", "ArticlePublish"]);
    let app = Router::new().route(
        "/teams/{team}/read",
        post(|| async { "read" }).layer(layer.in_scope(ScopeSource::path_segment("team", 1))),
    );
    let editor = member(&rbac, "editor", &["ArticlePublish"], &[org(2)]).await;
    let outsider = member(&rbac, "outsider", &["ArticlePublish"], &[org(3)]).await;
    assert_eq!(
        call(&app, "/teams/40/read", &editor, &[]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "/teams/41/read", &editor, &[]).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, "/teams/40/read", &outsider, &[]).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn scopes_named_by_slugs_and_uuids_are_read_from_the_path_and_headers() {
    let rbac = rbac().await;
    let sports = Scope::new("desk", "sports").expect("scope");
    let tenant = "5f2c9a1e-0b7d-4c3a-9e8f-1a2b3c4d5e6f";
    let acme = Scope::new("tenant", tenant).expect("scope");
    rbac.assignments()
        .set_scope_parent(sports, Some(acme))
        .await
        .expect("parent");
    let layer = RbacLayer::new(&rbac).require("ArticlePublish");
    let app = Router::new()
        .route(
            "/desks/{desk}/publish",
            post(|req: Request<Body>| async move {
                req.extensions()
                    .get::<CheckedScope>()
                    .map(|s| s.0.to_string())
                    .unwrap_or_default()
            })
            .layer(layer.clone().in_scope(ScopeSource::path_segment("desk", 1))),
        )
        .route(
            "/publish",
            post(|| async { "published" })
                .layer(layer.in_scope(ScopeSource::header_id("x-tenant", "tenant"))),
        );
    let sub = member(&rbac, "sub", &["ArticlePublish"], &[Some(sports)]).await;
    // A principal's grants give back its assignments as stored, in order, each scope whole.
    let held = [Some(acme), None, Some(sports)];
    let editor = member(&rbac, "multi", &["ArticleRead"], &held).await;
    let principal = rbac
        .authorizer()
        .authenticate_token(&editor)
        .await
        .expect("principal");
    let scopes: Vec<Option<Scope>> = principal.grants.assignments().map(|a| a.scope).collect();
    assert_eq!(scopes, held.to_vec());
    assert_eq!(principal.grants.global_roles().count(), 1);
    let owner = member(&rbac, "owner", &["ArticlePublish"], &[Some(acme)]).await;
    let (status, body) = call(&app, "/desks/sports/publish", &sub, &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "desk:sports"));
    for other in ["/desks/politics/publish", "/desks/Sports/publish"] {
        assert_eq!(
            call(&app, other, &sub, &[]).await.0,
            StatusCode::FORBIDDEN,
            "{other}"
        );
    }
    // The tenant's grant holds in its desk, and through the header in the tenant.
    assert_eq!(
        call(&app, "/desks/sports/publish", &owner, &[]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "/publish", &owner, &[("x-tenant", tenant)])
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "/publish", &sub, &[("x-tenant", tenant)])
            .await
            .0,
        StatusCode::FORBIDDEN,
        "the desk's grant does not hold in its tenant"
    );
    assert_eq!(
        call(
            &app,
            "/publish",
            &owner,
            &[("x-tenant", &tenant.to_uppercase())]
        )
        .await
        .0,
        StatusCode::FORBIDDEN,
        "another id"
    );
}
