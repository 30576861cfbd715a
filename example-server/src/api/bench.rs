//! Load-test routes, mounted only with `--bench-routes`: one read handler mounted with and
//! without `RbacLayer`, so `benches/http.sh` measures the layer's cost inside the real
//! server (same router, same handler, same store read).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rbac_tower::{CredentialSource, RbacLayer};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::guarded;
use crate::state::AppState;

/// `GET /bench/checked/users/{id}` (UserAccess), `GET /bench/open/users/{id}`, and
/// `GET /bench/sleep/{ms}` (answers after `ms` milliseconds, at most a minute: a slow
/// handler for the request-timeout test).
pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    let layer = RbacLayer::new(state.rbac.authorizer().clone())
        .sources([CredentialSource::Bearer, CredentialSource::auth_token()])
        .require_code("UserAccess");
    OpenApiRouter::new()
        .routes(guarded(routes!(checked_user), layer))
        .routes(routes!(open_user))
        .routes(routes!(sleep))
}

/// Reads one user from the store: its id and name.
async fn read_user(app: &AppState, id: i64) -> Response {
    match app.rbac.users().by_id(id).await {
        Ok(user) => Json(json!({ "id": user.id, "name": user.name })).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The read behind the privilege check.
#[utoipa::path(
    get,
    path = "/bench/checked/users/{id}",
    tag = "bench",
    operation_id = "bench_checked_user",
    summary = "Read a user's id and name, behind the `UserAccess` check",
    extensions(("x-rbac-privilege" = json!("UserAccess"))),
    params(("id" = i64, Path, description = "A user id")),
    security(("bearer" = []), ("auth_token" = [])),
    responses(
        (status = 200, description = "`{id, name}`", content_type = "application/json"),
        (status = 401, description = "Missing or bad token"),
        (status = 404, description = "No such user")
    )
)]
async fn checked_user(State(app): State<AppState>, Path(id): Path<i64>) -> Response {
    read_user(&app, id).await
}

/// The same read with no check.
#[utoipa::path(
    get,
    path = "/bench/open/users/{id}",
    tag = "bench",
    operation_id = "bench_open_user",
    summary = "Read a user's id and name, with no check",
    params(("id" = i64, Path, description = "A user id")),
    responses(
        (status = 200, description = "`{id, name}`", content_type = "application/json"),
        (status = 404, description = "No such user")
    )
)]
async fn open_user(State(app): State<AppState>, Path(id): Path<i64>) -> Response {
    read_user(&app, id).await
}

/// Sleeps, then answers 200.
#[utoipa::path(
    get,
    path = "/bench/sleep/{ms}",
    tag = "bench",
    operation_id = "bench_sleep",
    summary = "Answer after `ms` milliseconds (at most a minute)",
    params(("ms" = u64, Path, description = "Milliseconds")),
    responses((status = 200, description = "Slept"))
)]
async fn sleep(Path(ms): Path<u64>) -> StatusCode {
    tokio::time::sleep(std::time::Duration::from_millis(ms.min(60_000))).await;
    StatusCode::OK
}
