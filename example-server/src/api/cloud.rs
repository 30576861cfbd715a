//! The cloud-management surface (seed 000): ping, the client's address, registration,
//! login and the caller's user record.
//!
//! Answers are HTTP 200 with `errCode` in the body (0 success, 1001 error, 1002 bad
//! parameters, 1003 authentication failed, 1004 registration failed, 1007 user disabled,
//! 500 internal); a missing, bad or revoked token is HTTP 401 with `errCode` 1003.

use axum::extract::State;
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rbac_core::service::{LoginInput, UserInput, UserView};
use rbac_core::{Error, Field, Page, User, UserQuery};
use rbac_tower::{CredentialSource, RbacLayer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::stream::{stream, List};
use super::{datetime, guarded, Actor, BodyError, ClientAddr, RenderAs};
use crate::state::AppState;

/// Success.
const OK: i64 = 0;
/// A refusal with no more specific code.
const FAILED: i64 = 1001;
/// Bad parameters or bad JSON.
const BAD_PARAMS: i64 = 1002;
/// Wrong user or password, or a missing, bad or revoked token.
const AUTH_FAILED: i64 = 1003;
/// Duplicate name, empty name or password.
const REGISTER_FAILED: i64 = 1004;
/// The account is disabled.
const DISABLED: i64 = 1007;
/// Beyond the document: the password was right, a second factor must complete the login
/// (`data.mfa_token`).
const SECOND_FACTOR: i64 = 1008;
/// The server failed.
const INTERNAL: i64 = 500;

/// A cloud-surface refusal: HTTP status, `errCode` and the words for `errMsg`.
#[derive(Debug)]
pub struct CloudError {
    status: StatusCode,
    code: i64,
    message: String,
    /// `data` of a refusal that carries some (the challenge of 1008), else null.
    data: Option<Value>,
}

impl CloudError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        CloudError {
            status: StatusCode::OK,
            code,
            message: message.into(),
            data: None,
        }
    }

    /// The refusal for a failed registration: duplicates and missing fields are 1004.
    fn registration(e: Error) -> Self {
        match e {
            Error::AlreadyExists(Field::UserName) => CloudError::new(
                REGISTER_FAILED,
                "registration failed: the user name is taken",
            ),
            Error::InvalidParam { field, reason } => CloudError::new(
                REGISTER_FAILED,
                format!("registration failed: {field} {reason}"),
            ),
            other => CloudError::from(other),
        }
    }
}

impl From<Error> for CloudError {
    fn from(e: Error) -> Self {
        let code = match &e {
            Error::Unauthenticated(_) => {
                return CloudError {
                    status: StatusCode::UNAUTHORIZED,
                    code: AUTH_FAILED,
                    message: e.to_string(),
                    data: None,
                }
            }
            Error::EnrolmentRequired | Error::StepUpRequired { .. } => {
                return CloudError {
                    status: StatusCode::FORBIDDEN,
                    code: FAILED,
                    message: e.to_string(),
                    data: None,
                }
            }
            Error::SecondFactorRequired(challenge) => {
                let mut refusal = CloudError::new(
                    SECOND_FACTOR,
                    "a second factor is required: complete the login at /api/v1/user/login/mfa",
                );
                let mut data = serde_json::json!({ "mfa_token": challenge.token });
                if let Some(options) = &challenge.passkey {
                    data["passkey"] = options.clone();
                }
                refusal.data = Some(data);
                return refusal;
            }
            Error::BadCredentials | Error::BadSecondFactor => AUTH_FAILED,
            Error::AccountDisabled => DISABLED,
            Error::InvalidParam { .. } | Error::BadRequest(_) => BAD_PARAMS,
            Error::Internal(_) => INTERNAL,
            _ => FAILED,
        };
        let message = match &e {
            Error::BadCredentials => "wrong user name or password".to_string(),
            Error::Internal(_) => "internal error".to_string(),
            other => other.to_string(),
        };
        CloudError::new(code, message)
    }
}

impl From<BodyError> for CloudError {
    fn from(e: BodyError) -> Self {
        CloudError::new(BAD_PARAMS, e.to_string())
    }
}

/// A cloud refusal's body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = cloud::ErrorBody)]
pub struct ErrorBody {
    /// 1001 error, 1002 bad parameters, 1003 authentication failed, 1004 registration
    /// failed, 1007 user disabled, 500 internal.
    #[serde(rename = "errCode")]
    code: i64,
    /// Null on a refusal; beyond the document, `{"mfa_token"}` with 1008.
    data: Option<Value>,
    /// Always `failed`.
    msg: &'static str,
    /// The refusal in words.
    #[serde(rename = "errMsg")]
    message: String,
}

impl IntoResponse for CloudError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            data: self.data,
            msg: "failed",
            message: self.message,
        };
        let mut resp = (self.status, Json(body)).into_response();
        resp.extensions_mut().insert(super::consistency::NoRevision);
        resp
    }
}

type Result<T, E = CloudError> = std::result::Result<T, E>;

super::json_extractor!(
    /// A JSON body, refused with 1002 when malformed or over the size limit.
    CloudJson,
    CloudError
);

/// Where the cloud surface reads a credential: the `token` header, or the `token` query.
pub fn credential_sources() -> Vec<CredentialSource> {
    vec![
        CredentialSource::Header(HeaderName::from_static("token")),
        CredentialSource::Query("token"),
    ]
}

/// The cloud routes.
pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    let token = RbacLayer::new(state.rbac.authorizer().clone())
        .sources(credential_sources())
        .renderer(RenderAs::<CloudError>::new())
        .authenticated();
    OpenApiRouter::new()
        .routes(routes!(ping))
        .routes(routes!(address))
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(login_mfa))
        .routes(guarded(routes!(list), token))
}

#[utoipa::path(
    get,
    path = "/api/v1/platform/ping",
    tag = "cloud",
    operation_id = "cloud_ping",
    summary = "Ping",
    responses(
        (status = 200, description = "`\"pong\"`", content_type = "application/json"),
    )
)]
async fn ping() -> Json<&'static str> {
    Json("pong")
}

/// The client's `IP:port`: the socket's peer, or, when that peer is a trusted proxy, the
/// nearest untrusted hop of `X-Forwarded-For` (with `X-Forwarded-Port`, else port 0).
#[utoipa::path(
    get,
    path = "/api/v1/platform/address",
    tag = "cloud",
    operation_id = "cloud_address",
    summary = "The client's IP:port",
    description = "Behind a trusted proxy, the nearest untrusted hop of `X-Forwarded-For`.",
    responses(
        (status = 200, description = "`\"IP:port\"`", content_type = "application/json"),
    )
)]
async fn address(addr: ClientAddr) -> Json<String> {
    Json(addr.0.map(|a| a.to_string()).unwrap_or_default())
}

/// `{"username","password"}`; both must be strings when present.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = cloud::Credentials)]
struct Credentials {
    username: Option<String>,
    password: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/user/register",
    tag = "cloud",
    operation_id = "cloud_register",
    summary = "Register a user",
    request_body = Credentials,
    responses(
        (status = 200, description = "`errCode` 0 with the new user; a refusal is also HTTP 200, shaped as `cloud.ErrorBody` (1002, 1004)", body = Success<Registered>),
    )
)]
async fn register(
    State(app): State<AppState>,
    addr: ClientAddr,
    CloudJson(body): CloudJson<Credentials>,
) -> Result<Json<Success<Registered>>> {
    let username = body.username.unwrap_or_default();
    let password = body.password.unwrap_or_default();
    if username.trim().is_empty() || password.is_empty() {
        return Err(CloudError::new(
            REGISTER_FAILED,
            "registration failed: username and password are required",
        ));
    }
    let input = UserInput {
        name: username,
        password,
        ..UserInput::default()
    };
    let user = app
        .rbac
        .users()
        .sign_up(input, &addr.ip())
        .await
        .map_err(CloudError::registration)?;
    Ok(Json(Success::new(Registered {
        id: user.id,
        username: user.name,
    })))
}

#[utoipa::path(
    post,
    path = "/api/v1/user/login",
    tag = "cloud",
    operation_id = "cloud_login",
    summary = "Log in: answers a token",
    request_body = Credentials,
    responses(
        (status = 200, description = "`errCode` 0 with the token; a refusal is also HTTP 200, shaped as `cloud.ErrorBody` (1002, 1003, 1007; beyond the document, 1008 with `data.mfa_token` when a second factor must complete the login at `login/mfa`)", body = Success<LoggedIn>),
    )
)]
async fn login(
    State(app): State<AppState>,
    addr: ClientAddr,
    super::UserAgent(user_agent): super::UserAgent,
    CloudJson(body): CloudJson<Credentials>,
) -> Result<Json<Success<LoggedIn>>> {
    let (Some(name), Some(password)) = (body.username, body.password) else {
        return Err(CloudError::new(
            BAD_PARAMS,
            "username and password are required",
        ));
    };
    if name.is_empty() || password.is_empty() {
        return Err(CloudError::new(
            BAD_PARAMS,
            "username and password are required",
        ));
    }
    let outcome = app
        .rbac
        .sessions()
        .login(&LoginInput {
            audience: "cloud".into(),
            name,
            password,
            ip: addr.ip(),
            user_agent,
            tenant: None,
        })
        .await?
        .signed_in()?;
    Ok(Json(Success::new(LoggedIn {
        token: outcome.token.token,
        username: outcome.user.name,
    })))
}

/// `login/mfa`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = cloud::LoginMfa)]
struct LoginMfa {
    mfa_token: Option<String>,
    /// A six-digit TOTP code, or a recovery code.
    code: Option<String>,
    /// Or a passkey's assertion (`PublicKeyCredential.toJSON()`) for the challenge's options.
    #[schema(value_type = Option<Object>)]
    passkey: Option<serde_json::Value>,
}

#[utoipa::path(
    post,
    path = "/api/v1/user/login/mfa",
    tag = "cloud",
    operation_id = "cloud_login_mfa",
    summary = "Complete a login that answered 1008 with its challenge and a code",
    description = "Beyond the document. A wrong or used code answers 1003 and counts as a failed login.",
    request_body = LoginMfa,
    responses(
        (status = 200, description = "`errCode` 0 with the token; a refusal is also HTTP 200 (1002, 1003, 1007), or 401 for a bad challenge", body = Success<LoggedIn>),
    )
)]
async fn login_mfa(
    State(app): State<AppState>,
    addr: ClientAddr,
    super::UserAgent(user_agent): super::UserAgent,
    CloudJson(body): CloudJson<LoginMfa>,
) -> Result<Json<Success<LoggedIn>>> {
    let code = body.code.or(body.passkey.as_ref().map(|_| String::new()));
    let (Some(mfa_token), Some(code)) = (body.mfa_token, code) else {
        return Err(CloudError::new(
            BAD_PARAMS,
            "mfa_token and code are required",
        ));
    };
    let input = rbac_core::service::SecondFactorInput {
        audience: "cloud".into(),
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
        .complete_login(&input, rbac_core::SessionKind::Jwt)
        .await?;
    Ok(Json(Success::new(LoggedIn {
        token: outcome.token.token,
        username: outcome.user.name,
    })))
}

/// A user in the document's shape; the password is never returned.
/// A success: `errCode` 0 with the data.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = cloud::Success)]
pub struct Success<T> {
    /// 0.
    #[serde(rename = "errCode")]
    code: i64,
    data: T,
    /// `success`.
    msg: &'static str,
    /// Empty.
    #[serde(rename = "errMsg")]
    message: &'static str,
}

impl<T> Success<T> {
    fn new(data: T) -> Self {
        Success {
            code: OK,
            data,
            msg: "success",
            message: "",
        }
    }
}

/// `user/register`: the new user.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = cloud::Registered)]
pub struct Registered {
    id: i64,
    username: String,
}

/// `user/login`: the token for the `token` header or query parameter.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = cloud::LoggedIn)]
pub struct LoggedIn {
    token: String,
    username: String,
}

/// A user record of `user/list` (`password` is always empty).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = cloud::UserRecord)]
pub struct UserRecord {
    id: i64,
    /// `YYYY-MM-DD HH:MM:SS` (UTC).
    #[serde(rename = "CreatedAt")]
    created_at: String,
    /// `YYYY-MM-DD HH:MM:SS` (UTC).
    #[serde(rename = "UpdatedAt")]
    updated_at: String,
    /// The id as text.
    uid: String,
    #[serde(rename = "userName")]
    user_name: String,
    password: String,
    /// Enabled.
    #[serde(rename = "Status")]
    status: bool,
}

/// `user/list`'s data: the caller, and every user for a caller holding `UserAccess`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = cloud::UserListing)]
pub struct UserListing {
    user: UserRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<UserRecord>>)]
    users: Option<List<UserRecord>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
}

/// `user/list`'s answer (the document spells this code `errcode`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = cloud::UserListAnswer)]
pub struct UserListAnswer {
    data: UserListing,
    /// 0.
    errcode: i64,
}

fn record(user: &User) -> UserRecord {
    UserRecord {
        id: user.id,
        created_at: datetime(user.created_at),
        updated_at: datetime(user.updated_at),
        uid: user.id.to_string(),
        user_name: user.name.clone(),
        password: String::new(),
        status: user.enabled,
    }
}

/// The caller's record; with UserAccess, every user under `data.users` too.
#[utoipa::path(
    get,
    path = "/api/v1/user/list",
    tag = "cloud",
    operation_id = "cloud_list",
    summary = "The caller's record (and every user for `UserAccess`)",
    security(("token" = []), ("token_query" = [])),
    responses(
        (status = 200, description = "`errcode` 0 with `data.user` (and `data.users`, `data.total` for `UserAccess`)", body = UserListAnswer),
        (status = 401, description = "Missing, bad or revoked token (`errCode` 1003)", body = ErrorBody),
    )
)]
async fn list(State(app): State<AppState>, Actor(actor): Actor) -> Result<Response> {
    let me = app.rbac.users().by_id(actor.user_id).await?;
    let mut data = UserListing {
        user: record(&me),
        users: None,
        total: None,
    };
    if app
        .rbac
        .authorizer()
        .require_code(&actor, "UserAccess")
        .is_ok()
    {
        let turn = app.listings.admit(&Page::ALL, actor.user_id).await?;
        let all = app
            .rbac
            .users()
            .rows_unchecked(&UserQuery {
                page: Page::ALL,
                ..UserQuery::default()
            })
            .await?;
        let all = all.with_chunk(app.listings.chunk());
        data.users = Some(List::Streamed);
        data.total = Some(all.total());
        let answer = UserListAnswer { data, errcode: OK };
        return Ok(stream(&answer, all, |v: UserView| record(&v.user), turn).await?);
    }
    Ok(Json(UserListAnswer { data, errcode: OK }).into_response())
}
