//! The compute-console account surface (seed 001) under `/casdao/api/v1.0/system/`:
//! name existence, SMS registration codes, primary-account registration, sub-accounts, and
//! login with an opaque token whose 2-hour lifetime slides with use.
//!
//! Envelope `{"code":200,"msg":null,"data":…}`. A refusal carries an HTTP-like `code`
//! (400 invalid input, 401 not logged in or bad credentials, 403 forbidden, 404 unknown,
//! 409 already exists, 429 too many, 500 server) with `msg` in words, and the HTTP status
//! is that code.

pub mod accounts;
pub mod organisations;

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rbac_core::service::LoginInput;
use rbac_core::Error;
use rbac_tower::{CredentialSource, RbacLayer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{guarded, read_body, Actor, BodyError, BodyLimit, ClientAddr, RenderAs};
use crate::state::AppState;

/// A console refusal: the HTTP-like code (also the HTTP status) and the words for `msg`.
#[derive(Debug)]
pub struct ConsoleError {
    code: StatusCode,
    msg: String,
    /// `data` of a refusal that carries some (428's challenge), else null.
    data: Option<String>,
    /// Beyond the document, beside 428's challenge for a user with a passkey: the options
    /// for `navigator.credentials.get()`.
    passkey: Option<Box<Value>>,
}

impl ConsoleError {
    fn bad(msg: impl Into<String>) -> Self {
        ConsoleError {
            code: StatusCode::BAD_REQUEST,
            msg: msg.into(),
            data: None,
            passkey: None,
        }
    }
}

impl From<Error> for ConsoleError {
    fn from(e: Error) -> Self {
        use StatusCode as S;
        let code = match &e {
            Error::SecondFactorRequired(challenge) => {
                return ConsoleError {
                    code: S::PRECONDITION_REQUIRED,
                    msg: "a second factor is required: complete the login at \
                          /casdao/api/v1.0/system/auth/login/mfa"
                        .into(),
                    data: Some(challenge.token.clone()),
                    passkey: challenge.passkey.clone().map(Box::new),
                }
            }
            Error::Unauthenticated(_) | Error::BadCredentials | Error::BadSecondFactor => {
                S::UNAUTHORIZED
            }
            Error::AccountDisabled
            | Error::EnrolmentRequired
            | Error::StepUpRequired { .. }
            | Error::Forbidden { .. }
            | Error::Violation(_)
            | Error::NotGrantable(_)
            | Error::Outranked { .. } => S::FORBIDDEN,
            Error::InvalidParam { .. }
            | Error::UnknownPrivilege(_)
            | Error::BadRequest(_)
            | Error::WrongPassword
            | Error::CodeMismatch
            | Error::CodeExpired => S::BAD_REQUEST,
            Error::NotFound(_) => S::NOT_FOUND,
            Error::AlreadyExists(_) => S::CONFLICT,
            Error::Throttled { .. }
            | Error::TooSoon { .. }
            | Error::LimitReached { .. }
            | Error::Busy => S::TOO_MANY_REQUESTS,
            _ => S::INTERNAL_SERVER_ERROR,
        };
        let msg = match &e {
            Error::Unauthenticated(why) => format!("not logged in: {why}"),
            Error::BadCredentials => "wrong username, password or departmentId".to_string(),
            Error::InvalidParam { field, reason }
                if *field == "departmentId" && reason == organisations::UNKNOWN =>
            {
                "unknown departmentId".to_string()
            }
            Error::AlreadyExists(field) => format!("the {field} is taken"),
            Error::SendFailed(_) => "the SMS could not be sent; try again".to_string(),
            Error::Internal(_) => "internal error".to_string(),
            other => other.to_string(),
        };
        ConsoleError {
            code,
            msg,
            data: None,
            passkey: None,
        }
    }
}

impl From<BodyError> for ConsoleError {
    fn from(e: BodyError) -> Self {
        ConsoleError::bad(e.to_string())
    }
}

/// The console envelope; `T` is the answer's data.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = console::Envelope)]
pub struct Envelope<T> {
    /// 200 on success, else the HTTP-like refusal code (also the HTTP status).
    code: u16,
    /// Null on success, else the refusal in words.
    msg: Option<String>,
    /// The answer (null on a refusal).
    data: T,
}

/// No data: JSON `null`.
#[derive(Debug, Serialize)]
pub struct Null;

impl utoipa::PartialSchema for Null {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::Null)
            .description(Some("No data: JSON `null`."))
            .build()
            .into()
    }
}

impl ToSchema for Null {
    fn name() -> std::borrow::Cow<'static, str> {
        "console.Null".into()
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let body = Envelope {
            code: self.code.as_u16(),
            msg: Some(self.msg),
            data: self.data.map_or(Value::Null, Value::String),
        };
        let mut resp = match self.passkey {
            Some(options) => {
                let mut body = serde_json::to_value(body).unwrap_or_default();
                body["passkey"] = *options;
                (self.code, Json(body)).into_response()
            }
            None => (self.code, Json(body)).into_response(),
        };
        resp.extensions_mut().insert(super::consistency::NoRevision);
        resp
    }
}

type Result<T, E = ConsoleError> = std::result::Result<T, E>;

/// Success: `{"code":200,"msg":null,"data":data}`.
fn ok<T>(data: T) -> Json<Envelope<T>> {
    Json(Envelope {
        code: 200,
        msg: None,
        data,
    })
}

super::json_extractor!(
    /// A JSON body, refused with 400 when malformed or over the size limit.
    ConsoleJson,
    ConsoleError
);

/// A form-encoded body (the document's choice for `register/existence`); a JSON object is
/// accepted too, as the document's example shows one.
pub struct ConsoleForm<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ConsoleForm<T> {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
        let limit = req.extensions().get::<BodyLimit>().map_or(1 << 20, |l| l.0);
        let bytes = read_body(req.into_body(), limit).await?;
        let parsed = if json {
            super::parse_json(&bytes)?
        } else {
            serde_urlencoded::from_bytes(&bytes)
                .map_err(|e| ConsoleError::bad(format!("malformed form body: {e}")))?
        };
        Ok(ConsoleForm(parsed))
    }
}

/// Where the console reads a credential: `X-Auth-Token`, or a bearer token.
pub fn credential_sources() -> Vec<CredentialSource> {
    vec![
        CredentialSource::Header(HeaderName::from_static("x-auth-token")),
        CredentialSource::Bearer,
    ]
}

/// The console routes.
pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    let token = RbacLayer::new(state.rbac.authorizer().clone())
        .sources(credential_sources())
        .renderer(RenderAs::<ConsoleError>::new())
        // Checked before the body is read: a caller who may not add sub-accounts anywhere
        // learns nothing about the fields; the organisation named in the body is checked
        // by the use-case.
        .require_code(accounts::SUB_ACCOUNT_ADD)
        .in_scope(rbac_tower::ScopeSource::Anywhere);
    OpenApiRouter::new()
        .routes(routes!(existence))
        .routes(routes!(sms_code))
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(login_mfa))
        .routes(guarded(routes!(add_sub_account), token))
}

/// An unknown path under the console's prefix.
pub fn not_found() -> Response {
    ConsoleError {
        code: StatusCode::NOT_FOUND,
        msg: "no such endpoint".into(),
        data: None,
        passkey: None,
    }
    .into_response()
}

/// A required field, or a 400 naming it.
fn required<T>(field: &str, value: Option<T>) -> Result<T> {
    value.ok_or_else(|| ConsoleError::bad(format!("{field} is required")))
}

/// A required field whose value the document fixes.
fn fixed<T: PartialEq + std::fmt::Debug>(field: &str, value: Option<T>, want: T) -> Result<()> {
    let value = required(field, value)?;
    if value == want {
        Ok(())
    } else {
        Err(ConsoleError::bad(format!(
            "{field} must be {want:?}, got {value:?}"
        )))
    }
}

/// A required text field that must not be blank.
fn text(field: &str, value: Option<String>) -> Result<String> {
    let value = required(field, value)?;
    if value.trim().is_empty() {
        return Err(ConsoleError::bad(format!("{field} must not be empty")));
    }
    Ok(value)
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = console::ExistenceForm)]
struct ExistenceForm {
    username: Option<String>,
}

#[utoipa::path(
    post,
    path = "/casdao/api/v1.0/system/register/existence",
    tag = "console",
    operation_id = "console_existence",
    summary = "Whether a username is taken",
    description = "`data` is true or false.",
    request_body(content = ExistenceForm, content_type = "application/x-www-form-urlencoded", description = "Form-encoded (a JSON object is accepted too)"),
    responses(
        (status = 200, description = "`data`: true when taken", body = Envelope<bool>),
        (status = 400, description = "Missing or malformed username", body = Envelope<Null>),
    )
)]
async fn existence(
    State(app): State<AppState>,
    ConsoleForm(form): ConsoleForm<ExistenceForm>,
) -> Result<Json<Envelope<bool>>> {
    let name = text("username", form.username)?;
    Ok(ok(app.rbac.users().exists(&name).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = console::SmsCodeRequest)]
struct SmsCodeRequest {
    mobile_phone: Option<String>,
    module: Option<String>,
    origin: Option<String>,
    department_id: Option<i64>,
}

#[utoipa::path(
    post,
    path = "/casdao/api/v1.0/system/register/sms/code",
    tag = "console",
    operation_id = "console_sms_code",
    summary = "Send a 6-digit registration code by SMS",
    description = "Valid 5 minutes, single use, one send per phone per minute.",
    request_body = SmsCodeRequest,
    responses(
        (status = 200, description = "Sent", body = Envelope<Null>),
        (status = 400, description = "Invalid input or unknown departmentId", body = Envelope<Null>),
        (status = 429, description = "Sent less than a minute ago", body = Envelope<Null>),
        (status = 500, description = "The SMS could not be sent", body = Envelope<Null>),
    )
)]
async fn sms_code(
    State(app): State<AppState>,
    addr: ClientAddr,
    ConsoleJson(body): ConsoleJson<SmsCodeRequest>,
) -> Result<Json<Envelope<Null>>> {
    let phone = text("mobilePhone", body.mobile_phone)?;
    fixed("module", body.module.as_deref(), "注册验证")?;
    fixed("origin", body.origin.as_deref(), "console")?;
    let organisation = required("departmentId", body.department_id)?;
    if !app.console.phone_allowed(&phone) {
        return Err(
            Error::invalid("mobilePhone", "codes are not sent to this number format").into(),
        );
    }
    accounts::send_registration_sms(&app.rbac, &app.sql, &phone, organisation, &addr.ip()).await?;
    Ok(ok(Null))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = console::RegisterRequest)]
struct RegisterRequest {
    role_id: Option<i64>,
    role_category: Option<i64>,
    username: Option<String>,
    password: Option<String>,
    confirm_password: Option<String>,
    mobile_phone: Option<String>,
    code: Option<String>,
    department_id: Option<i64>,
    origin: Option<String>,
}

#[utoipa::path(
    post,
    path = "/casdao/api/v1.0/system/register/addition",
    tag = "console",
    operation_id = "console_register",
    summary = "Register a primary account with the SMS code",
    description = "`data` is the new user id.",
    request_body = RegisterRequest,
    responses(
        (status = 200, description = "`data`: the new user id", body = Envelope<i64>),
        (status = 400, description = "Invalid input, wrong or expired code", body = Envelope<Null>),
        (status = 409, description = "The username is taken", body = Envelope<Null>),
    )
)]
async fn register(
    State(app): State<AppState>,
    addr: ClientAddr,
    ConsoleJson(body): ConsoleJson<RegisterRequest>,
) -> Result<Json<Envelope<i64>>> {
    fixed("roleId", body.role_id, 1)?;
    fixed("roleCategory", body.role_category, 1)?;
    fixed("origin", body.origin.as_deref(), "console")?;
    let name = text("username", body.username)?;
    let password = text("password", body.password)?;
    let confirm = required("confirmPassword", body.confirm_password)?;
    if confirm != password {
        return Err(ConsoleError::bad("confirmPassword does not match password"));
    }
    let input = accounts::PrimaryRegistration {
        name,
        password,
        phone: text("mobilePhone", body.mobile_phone)?,
        code: text("code", body.code)?,
        organisation: required("departmentId", body.department_id)?,
        ip: addr.ip(),
    };
    let user = accounts::register_primary(&app.rbac, &app.sql, input).await?;
    Ok(ok(user.id))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = console::SubAccountRequest)]
struct SubAccountRequest {
    role_id: Option<i64>,
    role_category: Option<i64>,
    username: Option<String>,
    password: Option<String>,
    mobile_phone: Option<String>,
    department_id: Option<i64>,
    department_name: Option<String>,
    origin: Option<String>,
    parent_id: Option<i64>,
    cluster_accounts: Option<Vec<Value>>,
    status: Option<i64>,
    notify: Option<i64>,
    module: Option<String>,
    name: Option<String>,
    telephone: Option<String>,
    email: Option<String>,
    organization: Option<String>,
    duty: Option<String>,
    enterprise: Option<String>,
}

#[utoipa::path(
    post,
    path = "/casdao/api/v1.0/system/user/addition",
    tag = "console",
    operation_id = "console_add_sub_account",
    summary = "Create a sub-account in the caller's organisation",
    description = "Requires the privilege `SubAccountAdd` (primary accounts). `notify` 3 sends the password by SMS. `data` is the new id.",
    extensions(("x-rbac-privilege" = json!("SubAccountAdd"))),
    request_body = SubAccountRequest,
    security(("x_auth_token" = [])),
    responses(
        (status = 200, description = "`data`: the new user id", body = Envelope<i64>),
        (status = 400, description = "Invalid input", body = Envelope<Null>),
        (status = 401, description = "Missing, invalid or expired token", body = Envelope<Null>),
        (status = 403, description = "Not a primary account", body = Envelope<Null>),
        (status = 409, description = "The username is taken", body = Envelope<Null>),
    )
)]
async fn add_sub_account(
    State(app): State<AppState>,
    Actor(actor): Actor,
    ConsoleJson(body): ConsoleJson<SubAccountRequest>,
) -> Result<Json<Envelope<i64>>> {
    fixed("roleId", body.role_id, 4)?;
    fixed("roleCategory", body.role_category, 4)?;
    fixed("origin", body.origin.as_deref(), "console")?;
    fixed("parentId", body.parent_id, -1)?;
    fixed("clusterAccounts", body.cluster_accounts.map(|a| a.len()), 0)?;
    fixed("status", body.status, 0)?;
    fixed("notify", body.notify, 3)?;
    fixed("module", body.module.as_deref(), "密码通知")?;
    let attributes = [
        ("telephone", body.telephone),
        ("organization", body.organization),
        ("duty", body.duty),
        ("enterprise", body.enterprise),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k.to_string(), v)))
    .collect();
    let input = accounts::SubAccount {
        name: text("username", body.username)?,
        password: text("password", body.password)?,
        phone: text("mobilePhone", body.mobile_phone)?,
        organisation: required("departmentId", body.department_id)?,
        organisation_name: text("departmentName", body.department_name)?,
        alias: body.name.unwrap_or_default(),
        email: body.email.unwrap_or_default(),
        attributes,
        notify: true,
    };
    let user = accounts::add_sub_account(&app.rbac, &app.sql, &actor, input).await?;
    Ok(ok(user.id))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = console::LoginRequest)]
struct LoginRequest {
    username: Option<String>,
    password: Option<String>,
    source: Option<String>,
    department_id: Option<i64>,
}

#[utoipa::path(
    post,
    path = "/casdao/api/v1.0/system/auth/login",
    tag = "console",
    operation_id = "console_login",
    summary = "Log in to an organisation",
    description = "`data` is an opaque token valid 2 hours, each use extending it to 2 hours from that use.",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "`data`: the token", body = Envelope<String>),
        (status = 400, description = "Invalid input", body = Envelope<Null>),
        (status = 401, description = "Wrong username, password or departmentId", body = Envelope<Null>),
        (status = 428, description = "Beyond the document: a second factor must complete the login at `login/mfa`; `data` is the challenge", body = Envelope<String>),
        (status = 429, description = "Too many failed attempts", body = Envelope<Null>),
    )
)]
async fn login(
    State(app): State<AppState>,
    addr: ClientAddr,
    super::UserAgent(user_agent): super::UserAgent,
    ConsoleJson(body): ConsoleJson<LoginRequest>,
) -> Result<Json<Envelope<String>>> {
    let name = text("username", body.username)?;
    let password = text("password", body.password)?;
    fixed("source", body.source.as_deref(), "console")?;
    let organisation = required("departmentId", body.department_id)?;
    organisations::find(&app.sql, organisation).await?;
    let input = LoginInput {
        audience: "console".into(),
        name,
        password,
        ip: addr.ip(),
        user_agent,
        tenant: Some(accounts::organisation_scope(organisation)?),
    };
    // A pending second factor is this surface's 428 (rendered from the error); the token
    // is opaque and slides with use.
    let outcome = app
        .rbac
        .sessions()
        .login_with(&input, rbac_core::SessionKind::Opaque)
        .await?
        .signed_in()?;
    Ok(ok(outcome.token.token))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = console::LoginMfaRequest)]
struct LoginMfaRequest {
    /// The challenge a 428 answered.
    #[serde(alias = "mfa_token")]
    mfa_token: Option<String>,
    /// A six-digit TOTP code, or a recovery code.
    code: Option<String>,
    /// Or a passkey's assertion (`PublicKeyCredential.toJSON()`) for the options beside
    /// the 428.
    #[schema(value_type = Option<Object>)]
    passkey: Option<Value>,
    department_id: Option<i64>,
}

#[utoipa::path(
    post,
    path = "/casdao/api/v1.0/system/auth/login/mfa",
    tag = "console",
    operation_id = "console_login_mfa",
    summary = "Complete a login that answered 428 with its challenge and a code",
    description = "Beyond the document. `data` is the token, as `login` answers it. A wrong or used code answers 401 and counts as a failed login.",
    request_body = LoginMfaRequest,
    responses(
        (status = 200, description = "`data`: the token", body = Envelope<String>),
        (status = 400, description = "Invalid input", body = Envelope<Null>),
        (status = 401, description = "Wrong code, a bad challenge, or another departmentId", body = Envelope<Null>),
        (status = 429, description = "Too many failed attempts", body = Envelope<Null>),
    )
)]
async fn login_mfa(
    State(app): State<AppState>,
    addr: ClientAddr,
    super::UserAgent(user_agent): super::UserAgent,
    ConsoleJson(body): ConsoleJson<LoginMfaRequest>,
) -> Result<Json<Envelope<String>>> {
    let mfa_token = text("mfaToken", body.mfa_token)?;
    let code = match body.passkey {
        Some(_) => body.code.unwrap_or_default(),
        None => text("code", body.code)?,
    };
    let organisation = required("departmentId", body.department_id)?;
    let input = rbac_core::service::SecondFactorInput {
        audience: "console".into(),
        mfa_token,
        code,
        passkey: body.passkey,
        ip: addr.ip(),
        user_agent,
        tenant: Some(accounts::organisation_scope(organisation)?),
    };
    let outcome = app
        .rbac
        .sessions()
        .complete_login(&input, rbac_core::SessionKind::Opaque)
        .await?;
    Ok(ok(outcome.token.token))
}
