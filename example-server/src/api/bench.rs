//! Load-test routes, mounted only with `--bench-routes`: one read handler mounted with and
//! without `RbacLayer`, so `benches/http.sh` measures the layer's cost inside the real
//! server (same router, same handler, same store read).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rbac_tower::{CredentialSource, RbacLayer};
use serde_json::json;

use crate::app::AppState;

/// `GET /bench/checked/users/{id}` (UserAccess), `GET /bench/open/users/{id}`, and
/// `GET /bench/sleep/{ms}` (answers after `ms` milliseconds, at most a minute: a slow
/// handler for the request-timeout test).
pub fn routes(state: &AppState) -> Router<AppState> {
    let layer = RbacLayer::new(state.rbac.authorizer().clone())
        .sources([CredentialSource::Bearer, CredentialSource::auth_token()])
        .require_code("UserAccess");
    Router::new()
        .route("/bench/checked/users/{id}", get(read_user).layer(layer))
        .route("/bench/open/users/{id}", get(read_user))
        .route("/bench/sleep/{ms}", get(sleep))
}

/// Reads one user from the store: its id and name.
async fn read_user(State(app): State<AppState>, Path(id): Path<i64>) -> Response {
    match app.rbac.user_by_id(id).await {
        Ok(user) => Json(json!({ "id": user.id, "name": user.name })).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Sleeps, then answers 200.
async fn sleep(Path(ms): Path<u64>) -> StatusCode {
    tokio::time::sleep(std::time::Duration::from_millis(ms.min(60_000))).await;
    StatusCode::OK
}
