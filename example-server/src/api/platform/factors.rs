//! Beyond the document: second factors. Completing a login with a TOTP or recovery code,
//! enrolling TOTP (secret, URI, QR code, recovery codes), removing it, and an admin's reset
//! of another user's factors (within the containment rule).

use super::*;
use rbac_core::service::SecondFactorInput;
use rbac_core::SessionKind;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::LoginMfaReq)]
pub(super) struct LoginMfaReq {
    mfa_token: Option<String>,
    /// A six-digit TOTP code, or a recovery code.
    code: Option<String>,
    /// Or a passkey's assertion (`PublicKeyCredential.toJSON()`) for the challenge's options.
    #[schema(value_type = Option<Object>)]
    passkey: Option<Value>,
}

#[utoipa::path(
    post,
    path = "/api/v1/login/mfa",
    tag = "platform",
    operation_id = "platform_login_mfa",
    summary = "Complete a login with its challenge and a TOTP code, recovery code or passkey",
    description = "Beyond the document. Answers as `login` does. `code`, or `passkey` with the assertion for the options the challenge carried. A wrong or used code, or a refused assertion, answers 1008 and counts as a failed login; an unknown, used or expired challenge answers 1001.",
    request_body = LoginMfaReq,
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<LoginData>),
        (status = 401, description = "Unknown, used or expired challenge (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn login_mfa(
    State(app): State<AppState>,
    addr: ClientAddr,
    UserAgent(user_agent): UserAgent,
    JsonBody(req): JsonBody<LoginMfaReq>,
) -> Result<Reply> {
    let mfa_token = required("mfa_token", req.mfa_token)?;
    let code = match req.passkey {
        Some(_) => req.code.unwrap_or_default(),
        None => required("code", req.code)?,
    };
    let input = SecondFactorInput {
        audience: "platform".into(),
        mfa_token,
        code,
        passkey: req.passkey,
        ip: addr.ip(),
        user_agent,
        tenant: None,
    };
    let outcome = app
        .rbac
        .sessions()
        .complete_login(&input, SessionKind::Jwt)
        .await?;
    Ok(Reply::of(super::session::login_data(&app, outcome)))
}

/// A TOTP enrolment begun: shown once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::TotpBegun)]
pub struct TotpBegun {
    /// The secret in base32, to type into an authenticator app.
    secret: String,
    /// The `otpauth://totp/…` URI.
    otpauth_uri: String,
    /// The URI as a QR code (SVG).
    qr_svg: String,
}

/// Recovery codes: shown once, each usable once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::RecoveryCodes)]
pub struct RecoveryCodes {
    recovery_codes: Vec<String>,
}

/// The caller's second factors.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::MfaStatus)]
pub struct MfaStatus {
    /// A confirmed TOTP factor guards the caller's logins.
    totp: bool,
    /// An enrolment awaits its confirming code.
    totp_pending: bool,
    recovery_codes_left: u64,
    /// Registered passkeys.
    passkeys: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::BeginTotpReq)]
pub(super) struct BeginTotpReq {
    /// Needed when the session signed in more than 10 minutes ago.
    password: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/mfa/totp/begin",
    tag = "platform",
    operation_id = "platform_mfa_totp_begin",
    summary = "Begin enrolling TOTP: a secret, its URI and QR code",
    description = "Beyond the document. Any logged-in user, for themselves; a session signed in more than 10 minutes ago gives the password too (else 1003; a wrong one 1007). Active only once `mfa/totp/confirm` sees a right code, which also ends the user's other sessions. Refused (1009) while TOTP is enrolled, and (1019) when the server has no secrets key.",
    request_body = BeginTotpReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<TotpBegun>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn begin_totp(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
    JsonBody(req): JsonBody<BeginTotpReq>,
) -> Result<Reply> {
    let enrolment = app
        .rbac
        .factors()
        .begin_totp(&actor, req.password.as_deref(), &addr.ip())
        .await?;
    Ok(Reply::of(TotpBegun {
        secret: enrolment.secret,
        otpauth_uri: enrolment.uri,
        qr_svg: enrolment.qr_svg,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::CodeReq)]
pub(super) struct CodeReq {
    /// A six-digit TOTP code.
    code: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/mfa/totp/confirm",
    tag = "platform",
    operation_id = "platform_mfa_totp_confirm",
    summary = "Confirm TOTP with a code: answers ten recovery codes, shown once",
    description = "Beyond the document. A wrong code answers 1008; nothing pending answers 1009.",
    request_body = CodeReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<RecoveryCodes>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn confirm_totp(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<CodeReq>,
) -> Result<Reply> {
    let code = required("code", req.code)?;
    let recovery_codes = app.rbac.factors().confirm_totp(&actor, &code).await?;
    Ok(Reply::of(RecoveryCodes { recovery_codes }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::RemoveTotpReq)]
pub(super) struct RemoveTotpReq {
    password: Option<String>,
    /// A TOTP code or a recovery code.
    code: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/mfa/totp/remove",
    tag = "platform",
    operation_id = "platform_mfa_totp_remove",
    summary = "Remove TOTP and the recovery codes, with the password and a code",
    description = "Beyond the document. A wrong password answers 1007, a wrong code 1008; both count as failed logins.",
    request_body = RemoveTotpReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn remove_totp(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
    JsonBody(req): JsonBody<RemoveTotpReq>,
) -> Result<Reply> {
    let password = required("password", req.password)?;
    let code = required("code", req.code)?;
    app.rbac
        .factors()
        .remove_totp(&actor, &password, &code, &addr.ip())
        .await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/mfa/recovery-codes",
    tag = "platform",
    operation_id = "platform_mfa_recovery_codes",
    summary = "Replace the recovery codes, proven with a TOTP code",
    description = "Beyond the document. The earlier codes stop working; the new ten are shown once.",
    request_body = CodeReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<RecoveryCodes>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn recovery_codes(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
    JsonBody(req): JsonBody<CodeReq>,
) -> Result<Reply> {
    let code = required("code", req.code)?;
    let recovery_codes = app
        .rbac
        .factors()
        .regenerate_recovery_codes(&actor, &code, &addr.ip())
        .await?;
    Ok(Reply::of(RecoveryCodes { recovery_codes }))
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/inquire/mfa",
    tag = "platform",
    operation_id = "platform_inquire_mfa",
    summary = "The caller's second factors",
    description = "Beyond the document. Never shows a secret or a code.",
    request_body = super::session::Nothing,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<MfaStatus>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn inquire_mfa(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(_): JsonBody<super::session::Nothing>,
) -> Result<Reply> {
    let status = app.rbac.factors().status(&actor).await?;
    Ok(Reply::of(MfaStatus {
        totp: status.totp,
        totp_pending: status.totp_pending,
        recovery_codes_left: status.recovery_codes_left,
        passkeys: status.passkeys,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::ResetMfaReq)]
pub(super) struct ResetMfaReq {
    user_name: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/reset/mfa",
    tag = "platform",
    operation_id = "platform_reset_mfa",
    summary = "Remove another user's second factors (a lost device)",
    description = "Beyond the document. Needs UserEdit, and a user holding no privilege the caller lacks (else 1021).",
    request_body = ResetMfaReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn reset_mfa(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<ResetMfaReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    app.rbac.factors().reset(&actor, &name).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::RequireRoleReq)]
pub(super) struct RequireRoleReq {
    role_name: Option<String>,
    /// Whether the role's members must enrol a second factor.
    required: Option<bool>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/mfa/require/role",
    tag = "platform",
    operation_id = "platform_mfa_require_role",
    summary = "Make a role require a second factor of its members, or stop",
    description = "Beyond the document. Needs RoleEdit and a role conferring nothing the caller lacks (else 1021). Until they enrol, the role's members reach only enrolment, their sessions and logout; everything else answers 1034.",
    request_body = RequireRoleReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn require_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<RequireRoleReq>,
) -> Result<Reply> {
    let role = required("role_name", req.role_name)?;
    let required_flag = required("required", req.required)?;
    app.rbac
        .roles()
        .require_second_factor(&actor, &role, required_flag)
        .await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::StepUpReq)]
pub(super) struct StepUpReq {
    /// A six-digit TOTP code, or a recovery code.
    code: Option<String>,
    /// Or the token of `mfa/passkey/challenge`, with the passkey's assertion.
    passkey_token: Option<String>,
    #[schema(value_type = Option<Object>)]
    passkey: Option<Value>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/mfa/verify",
    tag = "platform",
    operation_id = "platform_mfa_verify",
    summary = "Prove a second factor anew on this session (step-up)",
    description = "Beyond the document. A TOTP or recovery code, or `passkey_token` and `passkey` for the options of `mfa/passkey/challenge`; the session then counts as having proven it now, for the actions that ask a recent second factor (code 1033). A wrong code answers 1008 and counts as a failed login.",
    request_body = StepUpReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn verify(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
    JsonBody(req): JsonBody<StepUpReq>,
) -> Result<Reply> {
    match (req.passkey_token, req.passkey) {
        (Some(token), Some(assertion)) => {
            app.rbac
                .sessions()
                .step_up_with_passkey(&actor, &token, &assertion, &addr.ip())
                .await?
        }
        _ => {
            let code = required("code", req.code)?;
            app.rbac
                .sessions()
                .step_up(&actor, &code, &addr.ip())
                .await?
        }
    }
    Ok(Reply::empty())
}
