//! The platform surface (seed 003, shared paths of seed 002): login, logout, user and role
//! administration, grants, password change and reset, token refresh, operation log.
//!
//! Envelope `{"header":{"code","message","total","count"},"data":{}}`. A missing or bad
//! token answers HTTP 401 with code 1001; every other answer is HTTP 200 with its code in
//! `header.code`.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use rbac_core::service::{AuditFilter, InquiryTarget, LoginInput, RoleUpdate, UserEdit, UserInput};
use rbac_core::{Code, Error, Order, Page, UserQuery};
use rbac_tower::{CredentialSource, RbacLayer, Rejection, RenderRejection};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{datetime, parse_datetime, Actor, BodyError, ClientAddr};
use crate::app::AppState;

/// The platform's response header.
#[derive(Debug, Serialize)]
pub struct Header {
    code: i32,
    message: String,
    total: u64,
    count: u64,
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
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let header = Header {
            code: Code::Ok.value(),
            message: Code::Ok.message().to_string(),
            total: self.total,
            count: self.count,
        };
        Json(json!({ "header": header, "data": self.data })).into_response()
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
        (status, Json(json!({ "header": header, "data": {} }))).into_response()
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
pub fn routes(state: &AppState) -> Router<AppState> {
    let layer = RbacLayer::new(state.rbac.authorizer().clone())
        .sources([CredentialSource::auth_token(), CredentialSource::Bearer])
        .renderer(PlatformRejection);
    let need = |code: &str| layer.clone().require_code(code);
    let authenticated = || layer.clone().authenticated();
    let p = |path: &str| format!("/api/v1/platform/{path}");
    Router::new()
        .route("/api/v1/login", post(login))
        .route(&p("logout"), post(logout).layer(authenticated()))
        .route(&p("list/user"), post(list_user).layer(need("UserAccess")))
        .route(&p("create/user"), post(create_user).layer(need("UserAdd")))
        .route(&p("edit/user"), post(edit_user).layer(need("UserEdit")))
        .route(
            &p("delete/user"),
            post(delete_user).layer(need("UserDelete")),
        )
        .route(
            &p("enable/user"),
            post(enable_user).layer(need("UserEnableOrDisable")),
        )
        .route(
            &p("disable/user"),
            post(disable_user).layer(need("UserEnableOrDisable")),
        )
        .route(&p("list/role"), post(list_role).layer(need("RoleAccess")))
        .route(&p("create/role"), post(create_role).layer(need("RoleAdd")))
        .route(&p("edit/role"), post(edit_role).layer(need("RoleEdit")))
        .route(
            &p("delete/role"),
            post(delete_role).layer(need("RoleDelete")),
        )
        .route(
            &p("enable/role"),
            post(enable_role).layer(need("RoleEnableOrDisable")),
        )
        .route(
            &p("disable/role"),
            post(disable_role).layer(need("RoleEnableOrDisable")),
        )
        .route(
            &p("auth/role"),
            post(auth_role).layer(need("RoleAuthority")),
        )
        .route(
            &p("inquire/auth"),
            post(inquire_auth).layer(authenticated()),
        )
        .route(
            &p("change/password"),
            post(change_password).layer(authenticated()),
        )
        .route(
            &p("reset/password"),
            post(reset_password).layer(need("UserEdit")),
        )
        .route(
            &p("list/role-user"),
            post(list_role_user).layer(need("RoleAccess")),
        )
        .route(
            &p("refresh/token"),
            post(refresh_token).layer(authenticated()),
        )
        .route(
            &p("list/oper-log"),
            post(list_oper_log).layer(authenticated()),
        )
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginReq {
    name: Option<String>,
    user_name: Option<String>,
    password: Option<String>,
}

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
    Ok(Reply::one(json!({
        "version": app.rbac.config().version,
        "user_name": outcome.user.name,
        "auth_token": outcome.token.token,
        "login_ip": outcome.user.login_ip,
        "login_time": outcome.user.login_time.unwrap_or(0),
        "role": outcome.role,
        "privilege": outcome.privileges,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Nothing {}

async fn logout(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(_): JsonBody<Nothing>,
) -> Result<Reply> {
    app.rbac.logout(&actor).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListUserReq {
    name: Option<String>,
    page_no: Option<u64>,
    page_size: Option<u64>,
}

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
    let users: Vec<Value> = listing
        .rows
        .iter()
        .map(|v| {
            let u = &v.user;
            json!({
                "user_id": u.id,
                "user_did": u.did,
                "user_name": u.name,
                "user_alias": u.alias,
                "phone_number": u.phone,
                "email": u.email.clone().unwrap_or_default(),
                "create_user": u.creator,
                "login_time": u.login_time.unwrap_or(0),
                "role_name": v.role_name,
                "remark": u.remark,
                "enabled": u.enabled,
                "password": "",
            })
        })
        .collect();
    let count = users.len();
    Ok(Reply::list(json!({ "users": users }), listing.total, count))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUserReq {
    user_name: Option<String>,
    user_alias: Option<String>,
    phone_number: Option<String>,
    password: Option<String>,
    remark: Option<String>,
    role_name: Option<String>,
    email: Option<String>,
}

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
    Ok(Reply::one(json!({ "user_id": user.id })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditUserReq {
    user_name: Option<String>,
    user_alias: Option<String>,
    phone_number: Option<String>,
    password: Option<String>,
    remark: Option<String>,
    role_name: Option<String>,
    email: Option<String>,
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserNameReq {
    user_name: Option<String>,
}

async fn delete_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<UserNameReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    app.rbac.delete_user(&actor, &name).await?;
    Ok(Reply::empty())
}

async fn enable_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<UserNameReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    app.rbac.set_user_enabled(&actor, &name, true).await?;
    Ok(Reply::empty())
}

async fn disable_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<UserNameReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    app.rbac.set_user_enabled(&actor, &name, false).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageReq {
    page_no: Option<u64>,
    page_size: Option<u64>,
}

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
    let roles: Vec<Value> = listing
        .rows
        .iter()
        .map(|r| {
            let codes: Vec<String> = if r.builtin {
                registry.codes().map(str::to_string).collect()
            } else {
                r.privileges.clone()
            };
            json!({
                "id": r.id,
                "role_name": r.name,
                "create_user": r.creator,
                "remark": r.remark,
                "created_time": datetime(r.created_at),
                "enabled": r.enabled,
                "role": codes,
            })
        })
        .collect();
    let count = roles.len();
    Ok(Reply::list(json!({ "roles": roles }), listing.total, count))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRoleReq {
    role_name: Option<String>,
    remark: Option<String>,
}

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
    Ok(Reply::one(json!({ "id": role.id })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditRoleReq {
    id: Option<i64>,
    role_name: Option<String>,
    remark: Option<String>,
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleNameReq {
    role_name: Option<String>,
}

async fn delete_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<RoleNameReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    app.rbac.delete_role(&actor, &name).await?;
    Ok(Reply::empty())
}

async fn enable_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<RoleNameReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    app.rbac.set_role_enabled(&actor, &name, true).await?;
    Ok(Reply::empty())
}

async fn disable_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<RoleNameReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    app.rbac.set_role_enabled(&actor, &name, false).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthRoleReq {
    role_name: Option<String>,
    privilege: Option<Vec<String>>,
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InquireReq {
    name: Option<String>,
    name_type: Option<i64>,
}

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
    Ok(Reply::one(json!({ "privilege": codes })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePasswordReq {
    old_password: Option<String>,
    new_password: Option<String>,
}

async fn change_password(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<ChangePasswordReq>,
) -> Result<Reply> {
    let old = required("old_password", req.old_password)?;
    let new = required("new_password", req.new_password)?;
    app.rbac.change_password(&actor, &old, &new).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetPasswordReq {
    user_name: Option<String>,
    new_password: Option<String>,
}

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

async fn list_role_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<RoleNameReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    let (role, count) = app.rbac.role_user_count(&actor, &name).await?;
    Ok(Reply::one(
        json!({ "role_name": role.name, "user_count": count }),
    ))
}

async fn refresh_token(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
    JsonBody(_): JsonBody<Nothing>,
) -> Result<Reply> {
    let token = app.rbac.refresh(&actor, &addr.ip()).await?;
    Ok(Reply::one(json!({ "auth_token": token.token })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
    let list: Vec<Value> = listing
        .rows
        .iter()
        .map(|e| {
            json!({
                "oper_user": e.user_name,
                "oper_type": e.category,
                "oper_time": datetime(e.time),
                "oper_content": e.content,
            })
        })
        .collect();
    let count = list.len();
    Ok(Reply::list(json!({ "list": list }), listing.total, count))
}
