//! The platform surface (seed 003, shared paths of seed 002): login, logout, user and role
//! administration, grants, password change and reset, token refresh, operation log.
//!
//! Envelope `{"header":{"code","message","total","count"},"data":{}}`. A missing or bad
//! token answers HTTP 401 with code 1001; every other answer is HTTP 200 with its code in
//! `header.code`.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rbac_core::service::{
    as_data, AuditFilter, InquiryTarget, LoginInput, RoleUpdate, UserEdit, UserInput,
};
use rbac_core::{Code, Error, Order, Page, UserQuery};
use rbac_tower::{CredentialSource, RbacLayer, Rejection, RenderRejection};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{datetime, guarded, parse_datetime, Actor, BodyError, ClientAddr};
use crate::app::AppState;

/// The platform's response header.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::Header)]
pub struct Header {
    /// 0 on success, else the refusal's code (1001 not logged in, 1003 no privilege, 1004
    /// bad request, ...).
    code: i32,
    /// The code in words.
    message: String,
    /// Rows matching, for lists (1 for a single answer, 0 on a refusal).
    total: u64,
    /// Rows in this answer.
    count: u64,
}

/// The platform envelope, shared by the gateway surface; `T` is the answer's data.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::Envelope)]
pub struct Envelope<T> {
    /// The outcome.
    header: Header,
    /// The answer (`{}` on a refusal).
    data: T,
}

/// No data: `{}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::Empty)]
pub struct Empty {}

/// A typed answer as the envelope's data (plain structs with string keys always serialize).
fn to_data<T: Serialize>(data: T) -> Value {
    serde_json::to_value(data).unwrap_or(Value::Null)
}

/// `login`: the session and what it may do.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::LoginData)]
pub struct LoginData {
    /// The server's version.
    version: String,
    user_name: String,
    /// The JWT, for `Auth-Token` or `Authorization`.
    auth_token: String,
    login_ip: String,
    /// Unix seconds of this login.
    login_time: i64,
    /// The role's name.
    role: String,
    /// The privilege codes the role grants.
    privilege: Vec<String>,
}

/// One row of `list/user` (`password` is always empty).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::UserRow)]
pub struct UserRow {
    user_id: i64,
    user_did: String,
    user_name: String,
    user_alias: String,
    phone_number: String,
    email: String,
    /// Who created the user.
    create_user: String,
    /// Unix seconds of the last login, 0 for never.
    login_time: i64,
    role_name: String,
    remark: String,
    enabled: bool,
    password: String,
}

/// `list/user`: a page of users.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::UserPage)]
pub struct UserPage {
    users: Vec<UserRow>,
}

/// `create/user`: the new user's id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::CreatedUser)]
pub struct CreatedUser {
    user_id: i64,
}

/// One row of `list/role`; `role` lists the privilege codes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::RoleRow)]
pub struct RoleRow {
    id: i64,
    role_name: String,
    create_user: String,
    remark: String,
    /// `YYYY-MM-DD HH:MM:SS` (UTC).
    created_time: String,
    enabled: bool,
    role: Vec<String>,
}

/// `list/role`: a page of roles.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::RolePage)]
pub struct RolePage {
    roles: Vec<RoleRow>,
}

/// `create/role`: the new role's id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::CreatedRole)]
pub struct CreatedRole {
    id: i64,
}

/// `inquire/auth`: the privilege codes a user or role holds.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::Privileges)]
pub struct Privileges {
    privilege: Vec<String>,
}

/// `list/role-user`: how many users hold the role.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::RoleUserCount)]
pub struct RoleUserCount {
    role_name: String,
    user_count: u64,
}

/// `refresh/token`: the new token (the old one has ended).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::Refreshed)]
pub struct Refreshed {
    auth_token: String,
}

/// One operation-log entry.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::LogRow)]
pub struct LogRow {
    oper_user: String,
    /// The operation's category code.
    oper_type: i32,
    /// `YYYY-MM-DD HH:MM:SS` (UTC).
    oper_time: String,
    oper_content: String,
}

/// `list/oper-log`: a page of entries.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::LogPage)]
pub struct LogPage {
    list: Vec<LogRow>,
}

/// A success: data with its total and count.
#[derive(Debug)]
pub struct Reply {
    data: Value,
    total: u64,
    count: u64,
}

impl Reply {
    pub(crate) fn one(data: Value) -> Self {
        Reply {
            data,
            total: 1,
            count: 1,
        }
    }

    pub(crate) fn empty() -> Self {
        Reply::one(json!({}))
    }

    pub(crate) fn list(data: Value, total: u64, count: usize) -> Self {
        Reply {
            data,
            total,
            count: count as u64,
        }
    }

    /// A single answer of a typed shape.
    pub(crate) fn of<T: Serialize>(data: T) -> Self {
        Reply::one(to_data(data))
    }

    /// A page of a typed shape: `count` rows here of `total`.
    pub(crate) fn page_of<T: Serialize>(data: T, total: u64, count: usize) -> Self {
        Reply::list(to_data(data), total, count)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let header = Header {
            code: Code::Ok.value(),
            message: Code::Ok.message().to_string(),
            total: self.total,
            count: self.count,
        };
        Json(Envelope {
            header,
            data: self.data,
        })
        .into_response()
    }
}

/// A refusal in the platform envelope.
#[derive(Debug)]
pub struct PlatformError {
    code: Code,
    message: String,
    /// The HTTP status when it is not the code's usual one.
    status: Option<StatusCode>,
}

impl PlatformError {
    /// A refusal with this code and message.
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        PlatformError {
            code,
            message: message.into(),
            status: None,
        }
    }

    /// The same refusal with another HTTP status.
    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }
}

impl From<Error> for PlatformError {
    fn from(e: Error) -> Self {
        let message = match &e {
            Error::Internal(_) => "internal server error".to_string(),
            other => other.to_string(),
        };
        let refusal = PlatformError::new(e.code(), message);
        match e {
            Error::QuotaExceeded { .. } => refusal.with_status(StatusCode::TOO_MANY_REQUESTS),
            _ => refusal,
        }
    }
}

impl From<BodyError> for PlatformError {
    fn from(e: BodyError) -> Self {
        PlatformError::new(Code::InvalidJsonOrRequiredParams, e.to_string())
    }
}

impl IntoResponse for PlatformError {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or(match self.code {
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::OK,
        });
        let header = Header {
            code: self.code.value(),
            message: self.message,
            total: 0,
            count: 0,
        };
        let data = json!({});
        (status, Json(Envelope { header, data })).into_response()
    }
}

/// Renders the layer's refusals in the platform envelope.
#[derive(Debug, Clone, Copy)]
pub struct PlatformRejection;

impl RenderRejection<Body> for PlatformRejection {
    fn render(&self, rejection: &Rejection) -> Response {
        PlatformError::from(rejection.to_error()).into_response()
    }
}

pub(crate) type Result<T, E = PlatformError> = std::result::Result<T, E>;

super::json_extractor!(
    /// A JSON body in any content type (the documents send `text/plain`), refused with 1004
    /// when malformed, mistyped, over the size limit, or carrying unknown fields.
    JsonBody,
    PlatformError
);

/// The platform routes, each with its privilege requirement.
pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    let layer = RbacLayer::new(state.rbac.authorizer().clone())
        .sources([
            CredentialSource::auth_token(),
            CredentialSource::Header(header::AUTHORIZATION),
        ])
        .renderer(PlatformRejection);
    let need = |code: &str| layer.clone().require_code(code);
    let authenticated = || layer.clone().authenticated();
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(guarded(routes!(logout), authenticated()))
        .routes(guarded(routes!(list_user), need("UserAccess")))
        .routes(guarded(routes!(create_user), need("UserAdd")))
        .routes(guarded(routes!(edit_user), need("UserEdit")))
        .routes(guarded(routes!(delete_user), need("UserDelete")))
        .routes(guarded(routes!(enable_user), need("UserEnableOrDisable")))
        .routes(guarded(routes!(disable_user), need("UserEnableOrDisable")))
        .routes(guarded(routes!(list_role), need("RoleAccess")))
        .routes(guarded(routes!(create_role), need("RoleAdd")))
        .routes(guarded(routes!(edit_role), need("RoleEdit")))
        .routes(guarded(routes!(delete_role), need("RoleDelete")))
        .routes(guarded(routes!(enable_role), need("RoleEnableOrDisable")))
        .routes(guarded(routes!(disable_role), need("RoleEnableOrDisable")))
        .routes(guarded(routes!(auth_role), need("RoleAuthority")))
        .routes(guarded(routes!(inquire_auth), authenticated()))
        .routes(guarded(routes!(change_password), authenticated()))
        .routes(guarded(routes!(reset_password), need("UserEdit")))
        .routes(guarded(routes!(list_role_user), need("RoleAccess")))
        .routes(guarded(routes!(refresh_token), authenticated()))
        .routes(guarded(routes!(list_oper_log), authenticated()))
}

/// Unknown paths: HTTP 404 in the platform envelope.
pub async fn not_found() -> Response {
    let mut resp = PlatformError::new(Code::NotFound, "no such endpoint").into_response();
    *resp.status_mut() = StatusCode::NOT_FOUND;
    resp
}

pub(crate) fn required<T>(field: &'static str, value: Option<T>) -> Result<T> {
    value.ok_or_else(|| {
        PlatformError::new(
            Code::InvalidJsonOrRequiredParams,
            format!("missing required field {field}"),
        )
    })
}

pub(crate) fn page(page_no: Option<u64>, page_size: Option<u64>) -> Page {
    Page::numbered(page_no.unwrap_or(0), page_size.unwrap_or(0))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::LoginReq)]
struct LoginReq {
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
    description = "Answers a JWT in `auth_token` with the role and privileges. Repeated failures back off and lock (code 1028).",
    request_body = LoginReq,
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<LoginData>),
    )
)]
async fn login(
    State(app): State<AppState>,
    addr: ClientAddr,
    JsonBody(req): JsonBody<LoginReq>,
) -> Result<Reply> {
    let name = required("name", req.name.or(req.user_name))?;
    let password = required("password", req.password)?;
    let outcome = app
        .rbac
        .login(&LoginInput {
            name,
            password,
            ip: addr.ip(),
        })
        .await?;
    Ok(Reply::of(LoginData {
        version: app.rbac.config().version.clone(),
        user_name: outcome.user.name,
        auth_token: outcome.token.token,
        login_ip: outcome.user.login_ip,
        login_time: outcome.user.login_time.unwrap_or(0),
        role: outcome.role,
        privilege: outcome.privileges,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::Nothing)]
struct Nothing {}

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
async fn logout(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(_): JsonBody<Nothing>,
) -> Result<Reply> {
    app.rbac.logout(&actor).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::ListUserReq)]
struct ListUserReq {
    name: Option<String>,
    page_no: Option<u64>,
    page_size: Option<u64>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/list/user",
    tag = "platform",
    operation_id = "platform_list_user",
    summary = "List users, optionally by name, a page at a time",
    description = "Requires the privilege `UserAccess`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("UserAccess"))),
    request_body = ListUserReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<UserPage>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn list_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<ListUserReq>,
) -> Result<Reply> {
    let query = UserQuery {
        name_contains: req.name.filter(|n| !n.is_empty()),
        parent_id: None,
        order: Order::OldestFirst,
        page: page(req.page_no, req.page_size),
    };
    let listing = app.rbac.list_users(&actor, &query).await?;
    let users: Vec<UserRow> = listing
        .rows
        .into_iter()
        .map(|v| {
            let u = v.user;
            UserRow {
                user_id: u.id,
                user_did: u.did,
                user_name: u.name,
                user_alias: u.alias,
                phone_number: u.phone,
                email: u.email.unwrap_or_default(),
                create_user: u.creator,
                login_time: u.login_time.unwrap_or(0),
                role_name: v.role_name,
                remark: u.remark,
                enabled: u.enabled,
                password: String::new(),
            }
        })
        .collect();
    let count = users.len();
    Ok(Reply::page_of(UserPage { users }, listing.total, count))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::CreateUserReq)]
struct CreateUserReq {
    user_name: Option<String>,
    user_alias: Option<String>,
    phone_number: Option<String>,
    password: Option<String>,
    remark: Option<String>,
    role_name: Option<String>,
    email: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/create/user",
    tag = "platform",
    operation_id = "platform_create_user",
    summary = "Create a user with a role",
    description = "Requires the privilege `UserAdd`; without it, code 1000. The role may grant only privileges the caller holds.",
    extensions(("x-rbac-privilege" = json!("UserAdd"))),
    request_body = CreateUserReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<CreatedUser>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn create_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<CreateUserReq>,
) -> Result<Reply> {
    let input = UserInput {
        name: required("user_name", req.user_name)?,
        alias: required("user_alias", req.user_alias)?,
        phone: required("phone_number", req.phone_number)?,
        password: required("password", req.password)?,
        remark: req.remark.unwrap_or_default(),
        role_name: req.role_name.unwrap_or_default(),
        email: req.email.unwrap_or_default(),
        ..UserInput::default()
    };
    let user = app.rbac.create_user(Some(&actor), input).await?;
    Ok(Reply::of(CreatedUser { user_id: user.id }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::EditUserReq)]
struct EditUserReq {
    user_name: Option<String>,
    user_alias: Option<String>,
    phone_number: Option<String>,
    password: Option<String>,
    remark: Option<String>,
    role_name: Option<String>,
    email: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/edit/user",
    tag = "platform",
    operation_id = "platform_edit_user",
    summary = "Edit a user's details or role",
    description = "Requires the privilege `UserEdit`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("UserEdit"))),
    request_body = EditUserReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn edit_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<EditUserReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    let edit = UserEdit {
        alias: req.user_alias,
        phone: req.phone_number,
        email: req.email,
        password: req.password,
        remark: req.remark,
        role_name: req.role_name,
    };
    app.rbac.edit_user(&actor, &name, edit).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::UserNameReq)]
struct UserNameReq {
    user_name: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/delete/user",
    tag = "platform",
    operation_id = "platform_delete_user",
    summary = "Delete a user (not the built-in admin)",
    description = "Requires the privilege `UserDelete`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("UserDelete"))),
    request_body = UserNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn delete_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<UserNameReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    app.rbac.delete_user(&actor, &name).await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/enable/user",
    tag = "platform",
    operation_id = "platform_enable_user",
    summary = "Enable a user and clear its login lock",
    description = "Requires the privilege `UserEnableOrDisable`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("UserEnableOrDisable"))),
    request_body = UserNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn enable_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<UserNameReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    app.rbac.set_user_enabled(&actor, &name, true).await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/disable/user",
    tag = "platform",
    operation_id = "platform_disable_user",
    summary = "Disable a user: its sessions end at once",
    description = "Requires the privilege `UserEnableOrDisable`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("UserEnableOrDisable"))),
    request_body = UserNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn disable_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<UserNameReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    app.rbac.set_user_enabled(&actor, &name, false).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::PageReq)]
struct PageReq {
    page_no: Option<u64>,
    page_size: Option<u64>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/list/role",
    tag = "platform",
    operation_id = "platform_list_role",
    summary = "List roles with their privileges",
    description = "Requires the privilege `RoleAccess`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleAccess"))),
    request_body = PageReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<RolePage>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn list_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<PageReq>,
) -> Result<Reply> {
    let listing = app
        .rbac
        .list_roles(&actor, page(req.page_no, req.page_size))
        .await?;
    let registry = app.rbac.authorizer().registry();
    let roles: Vec<RoleRow> = listing
        .rows
        .iter()
        .map(|r| {
            let codes: Vec<String> = if r.builtin {
                registry.codes().map(str::to_string).collect()
            } else {
                r.privileges.clone()
            };
            RoleRow {
                id: r.id,
                role_name: r.name.clone(),
                create_user: r.creator.clone(),
                remark: r.remark.clone(),
                created_time: datetime(r.created_at),
                enabled: r.enabled,
                role: codes,
            }
        })
        .collect();
    let count = roles.len();
    Ok(Reply::page_of(RolePage { roles }, listing.total, count))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::CreateRoleReq)]
struct CreateRoleReq {
    role_name: Option<String>,
    remark: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/create/role",
    tag = "platform",
    operation_id = "platform_create_role",
    summary = "Create a role",
    description = "Requires the privilege `RoleAdd`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleAdd"))),
    request_body = CreateRoleReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<CreatedRole>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn create_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<CreateRoleReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    let role = app
        .rbac
        .create_role(&actor, &name, req.remark.as_deref().unwrap_or(""))
        .await?;
    Ok(Reply::of(CreatedRole { id: role.id }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::EditRoleReq)]
struct EditRoleReq {
    id: Option<i64>,
    role_name: Option<String>,
    remark: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/edit/role",
    tag = "platform",
    operation_id = "platform_edit_role",
    summary = "Rename a role or change its remark",
    description = "Requires the privilege `RoleEdit`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleEdit"))),
    request_body = EditRoleReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn edit_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<EditRoleReq>,
) -> Result<Reply> {
    let update = RoleUpdate {
        id: required("id", req.id)?,
        name: required("role_name", req.role_name)?,
        remark: req.remark,
    };
    app.rbac.edit_role(&actor, update).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::RoleNameReq)]
struct RoleNameReq {
    role_name: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/delete/role",
    tag = "platform",
    operation_id = "platform_delete_role",
    summary = "Delete a role no user holds",
    description = "Requires the privilege `RoleDelete`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleDelete"))),
    request_body = RoleNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn delete_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<RoleNameReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    app.rbac.delete_role(&actor, &name).await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/enable/role",
    tag = "platform",
    operation_id = "platform_enable_role",
    summary = "Enable a role",
    description = "Requires the privilege `RoleEnableOrDisable`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleEnableOrDisable"))),
    request_body = RoleNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn enable_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<RoleNameReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    app.rbac.set_role_enabled(&actor, &name, true).await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/disable/role",
    tag = "platform",
    operation_id = "platform_disable_role",
    summary = "Disable a role: it grants nothing until enabled",
    description = "Requires the privilege `RoleEnableOrDisable`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleEnableOrDisable"))),
    request_body = RoleNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn disable_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<RoleNameReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    app.rbac.set_role_enabled(&actor, &name, false).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::AuthRoleReq)]
struct AuthRoleReq {
    role_name: Option<String>,
    privilege: Option<Vec<String>>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/auth/role",
    tag = "platform",
    operation_id = "platform_auth_role",
    summary = "Set a role's privileges",
    description = "Requires the privilege `RoleAuthority`; without it, code 1000. Only privileges the caller holds can be granted.",
    extensions(("x-rbac-privilege" = json!("RoleAuthority"))),
    request_body = AuthRoleReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn auth_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<AuthRoleReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    let codes = required("privilege", req.privilege)?;
    app.rbac.grant(&actor, &name, &codes).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::InquireReq)]
struct InquireReq {
    name: Option<String>,
    name_type: Option<i64>,
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
async fn inquire_auth(
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
    let codes = app.rbac.inquire(&actor, target, &name).await?;
    Ok(Reply::of(Privileges { privilege: codes }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::ChangePasswordReq)]
struct ChangePasswordReq {
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
async fn change_password(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
    JsonBody(req): JsonBody<ChangePasswordReq>,
) -> Result<Reply> {
    let old = required("old_password", req.old_password)?;
    let new = required("new_password", req.new_password)?;
    app.rbac
        .change_password(&actor, &old, &new, &addr.ip())
        .await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::ResetPasswordReq)]
struct ResetPasswordReq {
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
async fn reset_password(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<ResetPasswordReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    let new = required("new_password", req.new_password)?;
    app.rbac.reset_password(&actor, &name, &new).await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/list/role-user",
    tag = "platform",
    operation_id = "platform_list_role_user",
    summary = "How many users hold a role",
    description = "Requires the privilege `RoleAccess`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleAccess"))),
    request_body = RoleNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<RoleUserCount>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn list_role_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<RoleNameReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    let (role, count) = app.rbac.role_user_count(&actor, &name).await?;
    Ok(Reply::of(RoleUserCount {
        role_name: role.name,
        user_count: count,
    }))
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
async fn refresh_token(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
    JsonBody(_): JsonBody<Nothing>,
) -> Result<Reply> {
    let token = app.rbac.refresh(&actor, &addr.ip()).await?;
    Ok(Reply::of(Refreshed {
        auth_token: token.token,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::OperLogReq)]
struct OperLogReq {
    page_no: Option<u64>,
    page_size: Option<u64>,
    oper_user: Option<String>,
    oper_type: Option<i32>,
    start_time: Option<Value>,
    end_time: Option<Value>,
}

fn time_bound(field: &'static str, value: Option<Value>) -> Result<Option<i64>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => parse_datetime(&s)
            .or_else(|| s.trim().parse().ok())
            .map(Some)
            .ok_or_else(|| {
                Error::invalid(field, "expected \"YYYY-MM-DD HH:MM:SS\" or unix seconds").into()
            }),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| Error::invalid(field, "expected unix seconds").into()),
        Some(_) => Err(PlatformError::new(
            Code::InvalidJsonOrRequiredParams,
            format!("{field} must be a string or a number"),
        )),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/list/oper-log",
    tag = "platform",
    operation_id = "platform_list_oper_log",
    summary = "The operation log, filtered and paged",
    description = "Any logged-in user. Users without `UserAccess` see their own entries only.",
    request_body = OperLogReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<LogPage>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn list_oper_log(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<OperLogReq>,
) -> Result<Reply> {
    let category = match req.oper_type {
        None | Some(0) => None,
        Some(c @ 1..=5) => Some(c),
        Some(_) => return Err(Error::invalid("oper_type", "must be 0 to 5").into()),
    };
    let filter = AuditFilter {
        user_name: req.oper_user,
        category,
        from: time_bound("start_time", req.start_time)?,
        to: time_bound("end_time", req.end_time)?,
        page: page(req.page_no, req.page_size),
    };
    let listing = app.rbac.list_audit(&actor, filter).await?;
    let list: Vec<LogRow> = listing
        .rows
        .iter()
        .map(|e| LogRow {
            oper_user: as_data(&e.user_name),
            oper_type: e.category,
            oper_time: datetime(e.time),
            oper_content: as_data(&e.content),
        })
        .collect();
    let count = list.len();
    Ok(Reply::page_of(LogPage { list }, listing.total, count))
}
