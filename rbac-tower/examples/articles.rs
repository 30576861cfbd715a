//! An application with its own vocabulary: articles that readers read and editors
//! publish, on SQLite, through the public API only. Its database holds the admin role and
//! the application's own roles and codes, nothing of the bundled server's documents.
//!
//! `cargo run -p rbac-tower --features axum --example articles`, then follow what it prints.

use axum::routing::{get, post};
use axum::Router;
use rbac_core::service::{LoginInput, UserInput};
use rbac_core::{AdminPrivileges, Rbac};
use rbac_tower::RbacLayer;

/// The whole setup: a store, the services with the application's codes, the layer, and
/// one requirement per route.
async fn service(database: &str) -> Result<(Rbac, Router), Box<dyn std::error::Error>> {
    let store = rbac_sqlx::SqlStore::connect(database).await?;
    store.migrate().await?;
    let rbac = Rbac::builder(store)
        .secret("the article service's own signing secret")
        .privileges(["ArticleRead", "ArticlePublish", "ArticleAdmin"])
        .admin_privileges(AdminPrivileges::all("ArticleAdmin"))
        .build()
        .await?;
    let layer = RbacLayer::new(&rbac);
    let app = Router::new()
        .route(
            "/articles",
            get(|| async { "every article" }).layer(layer.clone().require("ArticleRead")),
        )
        .route(
            "/articles/publish",
            post(|| async { "published" }).layer(layer.require("ArticlePublish")),
        );
    Ok((rbac, app))
}

/// A role holding `codes` and a user in it, set up as the system; returns the user's token.
async fn member(
    rbac: &Rbac,
    name: &str,
    codes: &[&str],
) -> Result<String, Box<dyn std::error::Error>> {
    let system = rbac.system().await?;
    let role = format!("{name}s");
    rbac.roles()
        .define(&system, &role, codes, Vec::<&str>::new())
        .await?;
    let password = format!("{name}-password-1");
    let user = UserInput {
        name: name.into(),
        password: password.clone(),
        roles: vec![role],
        ..UserInput::default()
    };
    rbac.users().create(Some(&system), user).await?;
    let login = LoginInput::new(name, password, "127.0.0.1");
    Ok(rbac
        .sessions()
        .login(&login)
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)?
        .token
        .token)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (rbac, app) = service("sqlite://articles.db?mode=rwc").await?;
    let reader = member(&rbac, "reader", &["ArticleRead"]).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://127.0.0.1:3000");
    println!("curl localhost:3000/articles -H 'Authorization: Bearer {reader}'           # 200");
    println!(
        "curl -X POST localhost:3000/articles/publish -H 'Authorization: Bearer {reader}'  # 403"
    );
    axum::serve(listener, app).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http::{Request, StatusCode};
    use rbac_core::Page;
    use tower::ServiceExt;

    async fn status(app: &Router, method: &str, path: &str, token: Option<&str>) -> StatusCode {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = req.body(Body::empty()).expect("request");
        app.clone().oneshot(req).await.expect("infallible").status()
    }

    /// A database file under the temp dir, removed with its WAL files when dropped.
    struct TempDb(std::path::PathBuf);

    impl Drop for TempDb {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = self.0.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
    }

    #[tokio::test]
    async fn its_own_codes_are_enforced_and_nothing_else_is_seeded() {
        let file = TempDb(std::env::temp_dir().join(format!(
            "rbac-articles-{}-{:?}.db",
            std::process::id(),
            std::time::SystemTime::now()
        )));
        let url = format!("sqlite://{}?mode=rwc", file.0.display());
        let (rbac, app) = service(&url).await.expect("service");
        let reader = member(&rbac, "reader", &["ArticleRead"])
            .await
            .expect("reader");
        let editor = member(&rbac, "editor", &["ArticleRead", "ArticlePublish"])
            .await
            .expect("editor");

        assert_eq!(
            status(&app, "GET", "/articles", None).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status(&app, "GET", "/articles", Some(&reader)).await,
            StatusCode::OK
        );
        // The missing privilege is refused; the editor holding it is the control.
        assert_eq!(
            status(&app, "POST", "/articles/publish", Some(&reader)).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(&app, "POST", "/articles/publish", Some(&editor)).await,
            StatusCode::OK
        );

        // The database holds the application's vocabulary only.
        let store = rbac.store();
        let roles = store.list_roles(Page::ALL).await.expect("roles").rows;
        let mut names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["admin", "editors", "readers"]);
        for role in &roles {
            for code in &role.privileges {
                assert!(
                    ["ArticleRead", "ArticlePublish", "ArticleAdmin"].contains(&code.as_str()),
                    "role {} holds {code}",
                    role.name
                );
            }
        }
        let admin = roles
            .iter()
            .find(|r| r.name == "admin")
            .expect("admin role");
        assert_eq!(admin.privileges.len(), 3, "{:?}", admin.privileges);
        assert!(store.user_by_name("admin").await.expect("read").is_none());
        assert!(rbac.authorizer().registry().id("UserAdd").is_none());
    }
}
