//! The README's "Adding the layer" on SQLite, as an adopter who wants only the layer types it.

use axum::{routing::get, Router};
use rbac_core::{AdminPrivileges, Rbac};
use rbac_tower::RbacLayer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = rbac_sqlx::SqlStore::connect("sqlite::memory:").await?;
    store.migrate().await?;
    let rbac = Rbac::builder(store)
        .secret("at least 32 bytes of signing secret")
        .privileges(["ArticleRead", "DeskAdmin"])
        .admin_privileges(AdminPrivileges::all("DeskAdmin"))
        .build()
        .await?;
    let layer = RbacLayer::new(&rbac);
    let app: Router = Router::new().route(
        "/articles",
        get(|| async { "every article" }).layer(layer.require("ArticleRead")),
    );
    let system = rbac.system().await?;
    rbac.roles().define(&system, "reader", ["ArticleRead"], Vec::<&str>::new())
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("serving on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
