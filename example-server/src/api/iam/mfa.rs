//! Beyond the document: completing a login that answered 100210 with its challenge and a
//! TOTP or recovery code.

use super::*;
use rbac_core::service::SecondFactorInput;
use rbac_core::SessionKind;

/// `login/mfa`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = iam::LoginMfaBody)]
pub(super) struct LoginMfaBody {
    mfa_token: Option<String>,
    /// A six-digit TOTP code, or a recovery code.
    code: Option<String>,
    /// Or a passkey's assertion (`PublicKeyCredential.toJSON()`) for the challenge's options.
    #[schema(value_type = Option<Object>)]
    passkey: Option<serde_json::Value>,
}

#[utoipa::path(
    post,
    path = "/login/mfa",
    tag = "iam",
    operation_id = "iam_login_mfa",
    summary = "Complete a login with its challenge and a TOTP or recovery code",
    description = "Beyond the document. A wrong or used code answers 401 100211 and counts as a failed login; an unknown, used or expired challenge 401 100005 or 100203.",
    request_body = LoginMfaBody,
    responses(
        (status = 200, description = "A token", body = IssuedToken),
        (status = 400, description = "Malformed body (100003)", body = ErrorBody),
        (status = 401, description = "Wrong code (100211), or a bad challenge", body = ErrorBody),
    )
)]
pub(super) async fn login_mfa(
    State(app): State<AppState>,
    addr: ClientAddr,
    super::super::UserAgent(user_agent): super::super::UserAgent,
    IamJson(body): IamJson<LoginMfaBody>,
) -> Result<Json<IssuedToken>> {
    let code = body.code.or(body.passkey.as_ref().map(|_| String::new()));
    let (Some(mfa_token), Some(code)) = (body.mfa_token, code) else {
        return Err(IamError::new(
            StatusCode::BAD_REQUEST,
            100003,
            "mfa_token and code are required",
        ));
    };
    let input = SecondFactorInput {
        audience: "iam".into(),
        mfa_token,
        code,
        passkey: body.passkey,
        ip: addr.ip(),
        user_agent,
        tenant: None,
    };
    let outcome = app
        .rbac
        .sessions()
        .complete_login(&input, SessionKind::Jwt)
        .await?;
    Ok(Json(IssuedToken {
        token: outcome.token.token,
        expire: rfc3339(outcome.token.expires_at),
    }))
}
