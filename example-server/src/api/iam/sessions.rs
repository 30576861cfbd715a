//! Beyond the document: a user's sessions, listed and ended (`/v1/users/{name}/sessions`).
//! One's own need nothing more; another user's need UserAccess to list, UserEdit to end,
//! and a user holding nothing the caller lacks.

use super::*;
use rbac_core::service::SessionView;

/// One live session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = iam::SessionItem)]
pub struct SessionItem {
    /// The handle that ends it.
    id: String,
    /// `jwt` or `opaque`.
    kind: &'static str,
    /// RFC 3339, UTC.
    created_at: String,
    last_seen: String,
    expires_at: String,
    ip: String,
    user_agent: String,
    /// `password`, `totp`, `recovery_code`, `passkey`.
    factors: Vec<&'static str>,
    /// RFC 3339, UTC: when the factors were proven.
    verified_at: String,
    /// Whether it is the caller's own session.
    current: bool,
}

/// `GET /v1/users/{name}/sessions`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = iam::SessionList)]
pub struct SessionList {
    total_count: u64,
    items: Vec<SessionItem>,
}

fn item(v: SessionView) -> SessionItem {
    SessionItem {
        id: v.handle,
        kind: v.kind,
        created_at: rfc3339(v.created_at),
        last_seen: rfc3339(v.last_seen),
        expires_at: rfc3339(v.expires_at),
        ip: v.ip,
        user_agent: v.user_agent,
        factors: v.factors.names(),
        verified_at: rfc3339(v.verified_at),
        current: v.current,
    }
}

/// How many sessions ended.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = iam::SessionsEnded)]
pub struct SessionsEnded {
    ended: u64,
}

#[utoipa::path(
    get,
    path = "/v1/users/{name}/sessions",
    tag = "iam",
    operation_id = "iam_list_sessions",
    summary = "A user's live sessions, newest first",
    description = "Beyond the document. One's own, or another user's with UserAccess when that user holds nothing the caller lacks.",
    params(("name" = String, Path, description = "The user's name")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The sessions", body = SessionList),
        (status = 401, description = "Missing or bad token", body = ErrorBody),
        (status = 403, description = "No privilege, or a stronger user (100207)", body = ErrorBody),
        (status = 404, description = "No such user (110001)", body = ErrorBody),
    )
)]
pub(super) async fn list_sessions(
    State(app): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
) -> Result<Json<SessionList>> {
    let sessions = app.rbac.sessions().of_user(&actor, &name).await?;
    Ok(Json(SessionList {
        total_count: sessions.len() as u64,
        items: sessions.into_iter().map(item).collect(),
    }))
}

#[utoipa::path(
    delete,
    path = "/v1/users/{name}/sessions",
    tag = "iam",
    operation_id = "iam_end_sessions",
    summary = "End a user's sessions: one's own others, or all of another user's",
    description = "Beyond the document. Another user's need UserEdit and a user holding nothing the caller lacks. Acts on the next request, on every instance.",
    params(("name" = String, Path, description = "The user's name")),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "How many ended", body = SessionsEnded),
        (status = 401, description = "Missing or bad token", body = ErrorBody),
        (status = 403, description = "No privilege, or a stronger user (100207)", body = ErrorBody),
        (status = 404, description = "No such user (110001)", body = ErrorBody),
    )
)]
pub(super) async fn end_sessions(
    State(app): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
) -> Result<Json<SessionsEnded>> {
    let ended = app.rbac.sessions().end(&actor, Some(&name), None).await?;
    Ok(Json(SessionsEnded { ended }))
}

#[utoipa::path(
    delete,
    path = "/v1/users/{name}/sessions/{id}",
    tag = "iam",
    operation_id = "iam_end_session",
    summary = "End one session of a user",
    description = "Beyond the document. `id` is the handle the list shows. Another user's need UserEdit and a user holding nothing the caller lacks.",
    params(
        ("name" = String, Path, description = "The user's name"),
        ("id" = String, Path, description = "The session's handle"),
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "How many ended (1)", body = SessionsEnded),
        (status = 401, description = "Missing or bad token", body = ErrorBody),
        (status = 403, description = "No privilege, or a stronger user (100207)", body = ErrorBody),
        (status = 404, description = "No such user or session", body = ErrorBody),
    )
)]
pub(super) async fn end_session(
    State(app): State<AppState>,
    Actor(actor): Actor,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<SessionsEnded>> {
    let ended = app
        .rbac
        .sessions()
        .end(&actor, Some(&name), Some(&id))
        .await?;
    Ok(Json(SessionsEnded { ended }))
}
