//! The layer over an application's own users: it keeps its users, roles and sessions in
//! its own table (a map here; its SQL table works the same way) and implements only the
//! layer's port, `AuthorizerStore`: four methods. Its test: a missing privilege is
//! refused, and a revocation acts on the next request.
//!
//! `cargo run -p rbac-tower --features axum --example own_store`, then follow what it prints.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use async_trait::async_trait;
use axum::{routing::get, Router};
use rbac_core::store::{AuthorizerStore, StoreResult};
use rbac_core::{new_opaque_token, opaque_session_id, Assignment, Authorizer, AuthorizerConfig};
use rbac_core::{JwtCodec, JwtKey, PrivilegeRegistry, Role, RoleId, Session, SessionKind, User};
use rbac_tower::RbacLayer;

/// The application's own tables: users with the roles they hold, roles, sessions.
#[derive(Default)]
struct Tables {
    users: HashMap<i64, User>,
    roles: HashMap<RoleId, Role>,
    sessions: HashMap<String, Session>,
}

#[derive(Default)]
struct OwnStore(RwLock<Tables>);

impl OwnStore {
    fn read(&self) -> RwLockReadGuard<'_, Tables> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl AuthorizerStore for OwnStore {
    async fn user(&self, id: i64) -> StoreResult<Option<User>> {
        Ok(self.read().users.get(&id).cloned())
    }
    async fn role(&self, id: RoleId) -> StoreResult<Option<Role>> {
        Ok(self.read().roles.get(&id).cloned())
    }
    async fn roles(&self) -> StoreResult<Vec<Role>> {
        Ok(self.read().roles.values().cloned().collect())
    }
    async fn session(&self, id: &str) -> StoreResult<Option<Session>> {
        Ok(self.read().sessions.get(id).cloned())
    }
}

/// `reader` (role 1: ArticleRead) and `editor` (role 2: ArticlePublish, and role 1), each
/// signed in as the application's own login would: a token, and its session stored.
fn seed(tables: &mut Tables) -> HashMap<&'static str, String> {
    let mut tokens = HashMap::new();
    for (id, name, code) in [
        (1, "reader", "ArticleRead"),
        (2, "editor", "ArticlePublish"),
    ] {
        let includes = if id == 2 { vec![1] } else { vec![] };
        let role = Role {
            id,
            privileges: vec![code.to_string()],
            includes,
            ..Role::new(name, "", "")
        };
        tables.roles.insert(id, role);
        let roles = vec![Assignment::global(id)];
        tables.users.insert(
            id,
            User {
                id,
                roles,
                ..User::blank(name, "")
            },
        );
        let token = new_opaque_token();
        let session = Session::new(opaque_session_id(&token), id, SessionKind::Opaque, i64::MAX);
        tables.sessions.insert(session.id.clone(), session);
        tokens.insert(name, token);
    }
    tokens
}

/// The authorizer over the application's store, and its routes, each checked by the layer.
async fn application(store: Arc<OwnStore>) -> Result<(Arc<Authorizer>, Router), rbac_core::Error> {
    let codes = Arc::new(PrivilegeRegistry::new(["ArticleRead", "ArticlePublish"]));
    let jwt = Arc::new(JwtCodec::new(
        JwtKey::from_secret("unused: opaque tokens only here"),
        [],
    ));
    let authorizer = Arc::new(Authorizer::new(
        store,
        codes,
        jwt,
        &AuthorizerConfig::default(),
    ));
    authorizer.load_roles().await?;
    let layer = RbacLayer::new(authorizer.clone());
    let read = get(|| async { "articles" }).layer(layer.clone().require_code("ArticleRead"));
    let publish = get(|| async { "published" }).layer(layer.require_code("ArticlePublish"));
    let router = Router::new()
        .route("/articles", read)
        .route("/publish", publish);
    Ok((authorizer, router))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(OwnStore::default());
    let tokens = seed(&mut store.0.write().unwrap_or_else(|p| p.into_inner()));
    let (_authorizer, router) = application(store).await?;
    for (name, token) in &tokens {
        println!("as {name}: curl -H 'Authorization: Bearer {token}' 127.0.0.1:3000/publish");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    Ok(axum::serve(listener, router).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{Request, StatusCode};
    use tower::ServiceExt;

    async fn status(router: &Router, path: &str, token: &str) -> StatusCode {
        let request = Request::get(path).header("authorization", format!("Bearer {token}"));
        let request = request.body(axum::body::Body::empty()).expect("request");
        router
            .clone()
            .oneshot(request)
            .await
            .expect("response")
            .status()
    }

    #[tokio::test]
    async fn a_missing_privilege_is_refused_and_a_revocation_acts_on_the_next_request() {
        let store = Arc::new(OwnStore::default());
        let tokens = seed(&mut store.0.write().expect("tables"));
        let (authorizer, app) = application(store.clone()).await.expect("application");
        let (reader, editor) = (&tokens["reader"], &tokens["editor"]);
        assert_eq!(status(&app, "/publish", editor).await, StatusCode::OK);
        assert_eq!(status(&app, "/articles", editor).await, StatusCode::OK);
        assert_eq!(status(&app, "/articles", reader).await, StatusCode::OK);
        assert_eq!(
            status(&app, "/publish", reader).await,
            StatusCode::FORBIDDEN
        );
        let stranger = new_opaque_token();
        assert_eq!(
            status(&app, "/articles", &stranger).await,
            StatusCode::UNAUTHORIZED
        );
        // The application takes the editor's role away in its own table, and says so.
        store
            .0
            .write()
            .expect("tables")
            .users
            .get_mut(&2)
            .expect("editor")
            .roles
            .clear();
        authorizer
            .apply_changes(&[rbac_core::Change::User(2)])
            .await;
        assert_eq!(
            status(&app, "/publish", editor).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(status(&app, "/articles", reader).await, StatusCode::OK);
    }
}
