//! Beyond the document: sessions people can see and end. One's own need nothing more;
//! another user's need UserAccess to list, UserEdit to end, and a user holding nothing the
//! caller lacks (else 1021).

use super::*;
use rbac_core::service::SessionView;

/// One live session.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::SessionRow)]
pub struct SessionRow {
    /// The handle that ends it.
    session_id: String,
    /// `jwt` or `opaque`.
    kind: &'static str,
    /// Unix seconds.
    created_at: i64,
    last_seen: i64,
    expires_at: i64,
    login_ip: String,
    user_agent: String,
    /// `password`, `totp`, `recovery_code`, `passkey`.
    factors: Vec<&'static str>,
    /// Unix seconds: when the factors were proven.
    verified_at: i64,
    /// Whether it is the caller's own session.
    current: bool,
}

/// `list/session`: the sessions, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::SessionPage)]
pub struct SessionPage {
    sessions: Vec<SessionRow>,
}

/// `end/session`: how many ended.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::SessionsEnded)]
pub struct SessionsEnded {
    ended: u64,
}

fn row(v: SessionView) -> SessionRow {
    SessionRow {
        session_id: v.handle,
        kind: v.kind,
        created_at: v.created_at,
        last_seen: v.last_seen,
        expires_at: v.expires_at,
        login_ip: v.ip,
        user_agent: v.user_agent,
        factors: v.factors.names(),
        verified_at: v.verified_at,
        current: v.current,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::ListSessionReq)]
pub(super) struct ListSessionReq {
    /// Another user's name; absent for one's own.
    user_name: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/list/session",
    tag = "platform",
    operation_id = "platform_list_session",
    summary = "Live sessions: one's own, or another user's",
    description = "Beyond the document. Another user's need UserAccess (else 1000) and a user holding no privilege the caller lacks (else 1021).",
    request_body = ListSessionReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<SessionPage>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn list_session(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<ListSessionReq>,
) -> Result<Reply> {
    let sessions = match req.user_name.filter(|n| !n.is_empty()) {
        Some(name) => app.rbac.sessions().of_user(&actor, &name).await?,
        None => app.rbac.sessions().mine(&actor).await?,
    };
    let count = sessions.len();
    Ok(Reply::page_of(
        SessionPage {
            sessions: sessions.into_iter().map(row).collect(),
        },
        count as u64,
        count,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::EndSessionReq)]
pub(super) struct EndSessionReq {
    /// Another user's name; absent for one's own.
    user_name: Option<String>,
    /// The session to end; absent for all (of one's own: all but the current one).
    session_id: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/end/session",
    tag = "platform",
    operation_id = "platform_end_session",
    summary = "End a session, or all (one's own others, or all of another user's)",
    description = "Beyond the document. Acts on the next request, on every instance. Another user's need UserEdit (else 1000) and a user holding no privilege the caller lacks (else 1021); an unknown `session_id` answers 1006.",
    request_body = EndSessionReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<SessionsEnded>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn end_session(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<EndSessionReq>,
) -> Result<Reply> {
    let user = req.user_name.filter(|n| !n.is_empty());
    let handle = req.session_id.filter(|h| !h.is_empty());
    let ended = app
        .rbac
        .sessions()
        .end(&actor, user.as_deref(), handle.as_deref())
        .await?;
    Ok(Reply::of(SessionsEnded { ended }))
}
