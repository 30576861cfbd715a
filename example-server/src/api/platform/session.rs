//! Signing in and out, who the caller is, passwords and token refresh.

use super::*;
use rbac_core::service::{Challenge, LoginStep};

/// Code 1033's `data`: the challenge that completes the login.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::ChallengeData)]
pub struct ChallengeData {
    /// Single use; send it with a code to `login/mfa` within `expires_in` seconds.
    mfa_token: String,
    expires_in: i64,
    /// What completes it: `totp`, `recovery_code`, `passkey`.
    methods: Vec<String>,
    /// With `passkey` among them: the options for `navigator.credentials.get()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    passkey: Option<Value>,
}

impl From<Challenge> for ChallengeData {
    fn from(c: Challenge) -> Self {
        ChallengeData {
            expires_in: (c.expires_at - rbac_core::now()).max(0),
            mfa_token: c.token,
            methods: c.methods.iter().map(|m| m.to_string()).collect(),
            passkey: c.passkey,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::LoginReq)]
pub(super) struct LoginReq {
    name: Option<String>,
    user_name: Option<String>,
    password: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/login",
    tag = "platform",
    operation_id = "platform_login",
    summary = "Log in with a name (or user_name) and password",
    description = "Answers a JWT in `auth_token` with the role and privileges. Repeated failures back off and lock (code 1028). Beyond the document: an account with a second factor answers code 1033 with `data.mfa_token`, which `login/mfa` completes.",
    request_body = LoginReq,
    responses(
        (status = 200, description = "Success (`header.code` 0), 1033 with the challenge, or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<LoginData>),
    )
)]
pub(super) async fn login(
    State(app): State<AppState>,
    addr: ClientAddr,
    UserAgent(user_agent): UserAgent,
    JsonBody(req): JsonBody<LoginReq>,
) -> Result<Reply> {
    let name = required("name", req.name.or(req.user_name))?;
    let password = required("password", req.password)?;
    let login = app
        .rbac
        .sessions()
        .login(&LoginInput {
            audience: "platform".into(),
            name,
            password,
            ip: addr.ip(),
            user_agent,
            tenant: None,
        })
        .await;
    match login {
        Ok(LoginStep::SecondFactor(challenge)) => Ok(Reply::coded(
            Code::SecondFactorRequired,
            ChallengeData::from(*challenge),
        )),
        step => Ok(Reply::of(login_data(
            &app,
            step.and_then(LoginStep::signed_in)?,
        ))),
    }
}

/// The answer of a completed login.
pub(super) fn login_data(app: &AppState, outcome: rbac_core::service::LoginOutcome) -> LoginData {
    LoginData {
        version: app.rbac.config().version.clone(),
        user_name: outcome.user.name,
        auth_token: outcome.token.token,
        login_ip: outcome.user.login_ip,
        login_time: outcome.user.login_time.unwrap_or(0),
        role: super::role_list::render(&outcome.roles),
        privilege: outcome.privileges,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::Nothing)]
pub(super) struct Nothing {}

#[utoipa::path(
    post,
    path = "/api/v1/platform/logout",
    tag = "platform",
    operation_id = "platform_logout",
    summary = "Log out: the token stops working at once, on every instance",
    description = "Any logged-in user.",
    request_body = Nothing,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn logout(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(_): JsonBody<Nothing>,
) -> Result<Reply> {
    app.rbac.sessions().logout(&actor).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::InquireReq)]
pub(super) struct InquireReq {
    name: Option<String>,
    name_type: Option<i64>,
    /// Beyond the document: the privileges within this scope (`kind:id`); absent or empty,
    /// everywhere.
    scope: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/inquire/auth",
    tag = "platform",
    operation_id = "platform_inquire_auth",
    summary = "The privileges of a user or a role",
    description = "Any logged-in user.",
    request_body = InquireReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Privileges>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn inquire_auth(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<InquireReq>,
) -> Result<Reply> {
    let name = required("name", req.name)?;
    let target = match required("name_type", req.name_type)? {
        0 => InquiryTarget::User,
        1 => InquiryTarget::Role,
        _ => return Err(Error::invalid("name_type", "must be 0 (user) or 1 (role)").into()),
    };
    let scope = super::assignments::scope_of(&app, req.scope)?;
    let codes = app
        .rbac
        .roles()
        .inquire_in(&actor, target, &name, scope)
        .await?;
    Ok(Reply::of(Privileges { privilege: codes }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::ChangePasswordReq)]
pub(super) struct ChangePasswordReq {
    old_password: Option<String>,
    new_password: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/change/password",
    tag = "platform",
    operation_id = "platform_change_password",
    summary = "Change the caller's own password",
    description = "Any logged-in user.",
    request_body = ChangePasswordReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn change_password(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
    JsonBody(req): JsonBody<ChangePasswordReq>,
) -> Result<Reply> {
    let old = required("old_password", req.old_password)?;
    let new = required("new_password", req.new_password)?;
    app.rbac
        .users()
        .change_password(&actor, &old, &new, &addr.ip())
        .await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::ResetPasswordReq)]
pub(super) struct ResetPasswordReq {
    user_name: Option<String>,
    new_password: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/reset/password",
    tag = "platform",
    operation_id = "platform_reset_password",
    summary = "Reset another user's password",
    description = "Requires the privilege `UserEdit`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("UserEdit"))),
    request_body = ResetPasswordReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn reset_password(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<ResetPasswordReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    let new = required("new_password", req.new_password)?;
    app.rbac.users().reset_password(&actor, &name, &new).await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/refresh/token",
    tag = "platform",
    operation_id = "platform_refresh_token",
    summary = "Exchange the token for a fresh one (the old one ends)",
    description = "Any logged-in user.",
    request_body = Nothing,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Refreshed>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn refresh_token(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
    JsonBody(_): JsonBody<Nothing>,
) -> Result<Reply> {
    let token = app.rbac.sessions().refresh(&actor, &addr.ip()).await?;
    Ok(Reply::of(Refreshed {
        auth_token: token.token,
    }))
}
