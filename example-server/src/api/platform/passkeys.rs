//! Beyond the document: passkeys (WebAuthn). Registering them (named, listed, removed),
//! a passkey as a step-up, and signing in with one alone. A login's second step takes a
//! passkey at `login/mfa`, with the options its 1033 answer carried.

use super::*;
use rbac_core::service::{PasskeyOptions, PasskeyView};
use rbac_core::SessionKind;
use serde_json::Value;

/// A WebAuthn ceremony begun: the options for the browser and the token that completes it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::PasskeyCeremony)]
pub struct PasskeyCeremony {
    /// Single use, for 5 minutes: send it back with the browser's answer.
    passkey_token: String,
    /// For `navigator.credentials.create()` or `.get()`: `{"publicKey":{…}}` (binary
    /// fields in base64url, as `PublicKeyCredential.parseCreationOptionsFromJSON` takes them).
    #[schema(value_type = Object)]
    options: Value,
}

impl From<PasskeyOptions> for PasskeyCeremony {
    fn from(o: PasskeyOptions) -> Self {
        PasskeyCeremony {
            passkey_token: o.token,
            options: o.options,
        }
    }
}

/// A registered passkey (nothing of its key).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::PasskeyItem)]
pub struct PasskeyItem {
    id: i64,
    name: String,
    /// Unix seconds.
    created_at: i64,
    /// Unix seconds; 0 if it never signed in.
    last_used_at: i64,
    /// The authenticator may back it up (a synced passkey).
    backup_eligible: bool,
    /// It is backed up.
    backup_state: bool,
}

impl From<PasskeyView> for PasskeyItem {
    fn from(v: PasskeyView) -> Self {
        PasskeyItem {
            id: v.id,
            name: v.name,
            created_at: v.created_at,
            last_used_at: v.last_used_at,
            backup_eligible: v.backup_eligible,
            backup_state: v.backup_state,
        }
    }
}

/// The caller's passkeys, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::PasskeyList)]
pub struct PasskeyList {
    passkeys: Vec<PasskeyItem>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::BeginPasskeyReq)]
pub(super) struct BeginPasskeyReq {
    /// Needed when the session signed in more than 10 minutes ago.
    password: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/mfa/passkey/begin",
    tag = "platform",
    operation_id = "platform_mfa_passkey_begin",
    summary = "Begin registering a passkey for yourself",
    description = "Beyond the document. Any logged-in user; a session signed in more than 10 minutes ago gives the password too (else 1003; a wrong one 1007). A user with a second factor must have proven one on this session within 10 minutes (else 1033: `mfa/verify`). At most 10 passkeys (1009).",
    request_body = BeginPasskeyReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<PasskeyCeremony>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn begin_passkey(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
    JsonBody(req): JsonBody<BeginPasskeyReq>,
) -> Result<Reply> {
    let options = app
        .rbac
        .factors()
        .begin_passkey_registration(&actor, req.password.as_deref(), &addr.ip())
        .await?;
    Ok(Reply::of(PasskeyCeremony::from(options)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::FinishPasskeyReq)]
pub(super) struct FinishPasskeyReq {
    passkey_token: Option<String>,
    /// What the owner calls it (1 to 64 characters).
    name: Option<String>,
    /// The browser's new credential (`PublicKeyCredential.toJSON()`).
    #[schema(value_type = Object)]
    credential: Option<Value>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/mfa/passkey/finish",
    tag = "platform",
    operation_id = "platform_mfa_passkey_finish",
    summary = "Finish registering a passkey, on the session that began it",
    description = "Beyond the document. A credential the relying party refuses answers 1003; no registration open on this session, or one registered already, 1009. The user's first second factor ends their other sessions.",
    request_body = FinishPasskeyReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<PasskeyItem>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn finish_passkey(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<FinishPasskeyReq>,
) -> Result<Reply> {
    let token = required("passkey_token", req.passkey_token)?;
    let name = required("name", req.name)?;
    let credential = required("credential", req.credential)?;
    let view = app
        .rbac
        .factors()
        .finish_passkey_registration(&actor, &token, &name, &credential)
        .await?;
    Ok(Reply::of(PasskeyItem::from(view)))
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/mfa/passkey/list",
    tag = "platform",
    operation_id = "platform_mfa_passkey_list",
    summary = "List your passkeys",
    description = "Beyond the document.",
    request_body = super::session::Nothing,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<PasskeyList>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn list_passkey(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(_): JsonBody<super::session::Nothing>,
) -> Result<Reply> {
    let rows = app.rbac.factors().passkeys(&actor).await?;
    let passkeys: Vec<PasskeyItem> = rows.into_iter().map(PasskeyItem::from).collect();
    let count = passkeys.len();
    Ok(Reply::page_of(
        PasskeyList { passkeys },
        count as u64,
        count,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::RemovePasskeyReq)]
pub(super) struct RemovePasskeyReq {
    id: Option<i64>,
    password: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/mfa/passkey/remove",
    tag = "platform",
    operation_id = "platform_mfa_passkey_remove",
    summary = "Remove one of your passkeys, with the password",
    description = "Beyond the document. Needs a second factor proven on this session within 10 minutes (else 1033: `mfa/verify`). A wrong password answers 1007 and counts as a failed login; an id that is not one of yours, 1006.",
    request_body = RemovePasskeyReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn remove_passkey(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
    JsonBody(req): JsonBody<RemovePasskeyReq>,
) -> Result<Reply> {
    let id = required("id", req.id)?;
    let password = required("password", req.password)?;
    app.rbac
        .factors()
        .remove_passkey(&actor, id, &password, &addr.ip())
        .await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/mfa/passkey/challenge",
    tag = "platform",
    operation_id = "platform_mfa_passkey_challenge",
    summary = "Begin a step-up with one of your passkeys",
    description = "Beyond the document. The options for `navigator.credentials.get()`; `mfa/verify` completes it with `passkey_token` and `passkey`. Without a passkey, 1009.",
    request_body = super::session::Nothing,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<PasskeyCeremony>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn passkey_challenge(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(_): JsonBody<super::session::Nothing>,
) -> Result<Reply> {
    let options = app.rbac.factors().begin_passkey_step_up(&actor).await?;
    Ok(Reply::of(PasskeyCeremony::from(options)))
}

#[utoipa::path(
    post,
    path = "/api/v1/login/passkey/begin",
    tag = "platform",
    operation_id = "platform_login_passkey_begin",
    summary = "Begin signing in with a passkey alone",
    description = "Beyond the document. Options for any passkey the browser holds for this site (a discoverable credential): no name or password is asked. At most 120 per client address per hour (then 1009).",
    request_body = super::session::Nothing,
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<PasskeyCeremony>),
    )
)]
pub(super) async fn begin_passkey_login(
    State(app): State<AppState>,
    addr: ClientAddr,
    JsonBody(_): JsonBody<super::session::Nothing>,
) -> Result<Reply> {
    let options = app.rbac.factors().begin_passkey_sign_in(&addr.ip()).await?;
    Ok(Reply::of(PasskeyCeremony::from(options)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::PasskeyLoginReq)]
pub(super) struct PasskeyLoginReq {
    passkey_token: Option<String>,
    /// The browser's assertion (`PublicKeyCredential.toJSON()`).
    #[schema(value_type = Object)]
    passkey: Option<Value>,
}

#[utoipa::path(
    post,
    path = "/api/v1/login/passkey",
    tag = "platform",
    operation_id = "platform_login_passkey",
    summary = "Sign in with a passkey alone",
    description = "Beyond the document. Answers as `login` does. A refused assertion answers 1008 and counts as a failed login of the passkey's owner; an unknown, used or expired `passkey_token` answers 1001.",
    request_body = PasskeyLoginReq,
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<LoginData>),
        (status = 401, description = "Unknown, used or expired ceremony (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn login_passkey(
    State(app): State<AppState>,
    addr: ClientAddr,
    UserAgent(user_agent): UserAgent,
    JsonBody(req): JsonBody<PasskeyLoginReq>,
) -> Result<Reply> {
    let token = required("passkey_token", req.passkey_token)?;
    let assertion = required("passkey", req.passkey)?;
    let outcome = app
        .rbac
        .factors()
        .finish_passkey_sign_in(
            &token,
            &assertion,
            &addr.ip(),
            &user_agent,
            SessionKind::Jwt,
            None,
        )
        .await?;
    Ok(Reply::of(super::session::login_data(&app, outcome)))
}
