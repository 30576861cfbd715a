//! The IAM surface (seed 004): a REST user resource in the style of marmotedu/iam, with
//! its login (`/login`, `/logout`, `/refresh`) and health check.
//!
//! Errors are the HTTP status plus `{"code": N, "message": "..."}` with that server's codes.

use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use rbac_core::service::validate::iam as rules;
use rbac_core::service::{LoginInput, UserEdit, UserInput};
use rbac_core::{AuthFailure, Entity, Error, Field, Order, Page, User, UserQuery};
use rbac_tower::{CredentialSource, RbacLayer, Rejection, RenderRejection};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{rfc3339, Actor, BodyError, ClientAddr};
use crate::app::AppState;

/// An IAM error: HTTP status, code and message.
#[derive(Debug)]
pub struct IamError {
    status: StatusCode,
    code: u32,
    message: String,
}

impl IamError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        IamError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 404 100006 for paths this surface does not serve.
    pub fn page_not_found() -> Self {
        IamError::new(StatusCode::NOT_FOUND, 100006, "Page not found.")
    }
}

impl From<Error> for IamError {
    fn from(e: Error) -> Self {
        use StatusCode as S;
        let (status, code) = match &e {
            Error::Unauthenticated(AuthFailure::Missing) => (S::UNAUTHORIZED, 100205),
            Error::Unauthenticated(AuthFailure::Expired) => (S::UNAUTHORIZED, 100203),
            Error::Unauthenticated(_) => (S::UNAUTHORIZED, 100005),
            Error::BadCredentials | Error::WrongPassword => (S::UNAUTHORIZED, 100206),
            Error::AccountDisabled
            | Error::Forbidden { .. }
            | Error::Violation(_)
            | Error::NotGrantable(_) => (S::FORBIDDEN, 100207),
            Error::InvalidParam { .. }
            | Error::UnknownPrivilege(_)
            | Error::CodeMismatch
            | Error::CodeExpired => (S::BAD_REQUEST, 100004),
            Error::BadRequest(_) => (S::BAD_REQUEST, 100003),
            Error::AlreadyExists(Field::UserName | Field::Email) => (S::BAD_REQUEST, 110002),
            Error::AlreadyExists(_) => (S::BAD_REQUEST, 100004),
            Error::NotFound(Entity::User) => (S::NOT_FOUND, 110001),
            Error::NotFound(_) => (S::NOT_FOUND, 100006),
            Error::Busy => (S::SERVICE_UNAVAILABLE, 100002),
            Error::Throttled { .. } | Error::TooSoon { .. } | Error::QuotaExceeded { .. } => {
                (S::TOO_MANY_REQUESTS, 100207)
            }
            Error::SendFailed(_) => (S::INTERNAL_SERVER_ERROR, 100001),
            Error::Internal(_) => (S::INTERNAL_SERVER_ERROR, 100101),
        };
        let message = match (&e, code) {
            (_, 110002) => "User already exist.".to_string(),
            (_, 110001) => "User not found.".to_string(),
            (_, 100206) => "Password was incorrect.".to_string(),
            (Error::Internal(_), _) => "Database error.".to_string(),
            (other, _) => other.to_string(),
        };
        IamError::new(status, code, message)
    }
}

impl From<BodyError> for IamError {
    fn from(e: BodyError) -> Self {
        IamError::new(StatusCode::BAD_REQUEST, 100003, e.to_string())
    }
}

impl IntoResponse for IamError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "code": self.code, "message": self.message })),
        )
            .into_response()
    }
}

/// Renders the layer's refusals as IAM errors.
#[derive(Debug, Clone, Copy)]
pub struct IamRejection;

impl RenderRejection<axum::body::Body> for IamRejection {
    fn render(&self, rejection: &Rejection) -> Response {
        IamError::from(rejection.to_error()).into_response()
    }
}

type Result<T, E = IamError> = std::result::Result<T, E>;

super::json_extractor!(
    /// A JSON body, refused with 400 100003 when malformed or over the size limit.
    IamJson,
    IamError
);

/// The IAM routes.
pub fn routes(state: &AppState) -> Router<AppState> {
    let layer = RbacLayer::new(std::sync::Arc::new(state.rbac.clone()))
        .sources([CredentialSource::Bearer, CredentialSource::Basic])
        .renderer(IamRejection);
    let need = |code: &str| layer.clone().require_code(code);
    let authenticated = || layer.clone().authenticated();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/login", post(login))
        .route("/logout", post(logout).layer(authenticated()))
        .route("/refresh", post(refresh).layer(authenticated()))
        .route(
            "/v1/users",
            post(create)
                .merge(get(list).layer(need("UserAccess")))
                .merge(delete(delete_many).layer(need("UserDelete"))),
        )
        .route(
            "/v1/users/{name}",
            get(get_one)
                .merge(put(update))
                .layer(authenticated())
                .merge(delete(delete_one).layer(need("UserDelete"))),
        )
        .route(
            "/v1/users/{name}/change-password",
            put(change_password).layer(authenticated()),
        )
        .route(
            "/v1/users/{name}/change_password",
            put(change_password).layer(authenticated()),
        )
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

fn resource(user: &User) -> Value {
    json!({
        "metadata": {
            "id": user.id,
            "name": user.name,
            "createdAt": rfc3339(user.created_at),
            "updatedAt": rfc3339(user.updated_at),
        },
        "nickname": user.alias,
        "password": "",
        "email": user.email.clone().unwrap_or_default(),
        "phone": user.phone,
    })
}

#[derive(Debug, Default, Deserialize)]
struct Metadata {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct UserBody {
    #[serde(default)]
    metadata: Metadata,
    nickname: Option<String>,
    password: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

async fn create(
    State(app): State<AppState>,
    IamJson(body): IamJson<UserBody>,
) -> Result<Json<Value>> {
    let name = body.metadata.name.unwrap_or_default();
    let nickname = body.nickname.unwrap_or_default();
    let email = body.email.unwrap_or_default();
    let password = body.password.unwrap_or_default();
    rules::name(&name)?;
    rules::nickname(&nickname)?;
    rules::email(&email)?;
    rules::password("password", &password)?;
    let input = UserInput {
        name,
        alias: nickname,
        phone: body.phone.unwrap_or_default(),
        email,
        password,
        ..UserInput::default()
    };
    let user = app.rbac.create_user(None, input).await?;
    Ok(Json(resource(&user)))
}

/// The `name` values of a query string (`?name=a&name=b`), percent-decoded.
fn names_in(query: Option<&str>) -> Vec<String> {
    let Some(query) = query else {
        return Vec::new();
    };
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(k, _)| *k == "name")
        .map(|(_, v)| super::percent_decode(v))
        .filter(|v| !v.is_empty())
        .collect()
}

async fn delete_many(
    State(app): State<AppState>,
    Actor(actor): Actor,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    let names = names_in(query.as_deref());
    app.rbac.delete_users(&actor, &names).await?;
    Ok(Json(Value::Null))
}

async fn delete_one(
    State(app): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    app.rbac.delete_users(&actor, &[name]).await?;
    Ok(Json(Value::Null))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangePasswordBody {
    old_password: Option<String>,
    new_password: Option<String>,
}

async fn change_password(
    State(app): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
    IamJson(body): IamJson<ChangePasswordBody>,
) -> Result<Json<Value>> {
    let old = body.old_password.unwrap_or_default();
    let new = body.new_password.unwrap_or_default();
    rules::password("newPassword", &new)?;
    app.rbac
        .change_password_of(&actor, &name, &old, &new)
        .await?;
    Ok(Json(Value::Null))
}

async fn update(
    State(app): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
    IamJson(body): IamJson<UserBody>,
) -> Result<Json<Value>> {
    let current = app.rbac.view_user(&actor, &name).await?;
    let nickname = body.nickname.unwrap_or(current.alias);
    let email = body.email.unwrap_or(current.email.unwrap_or_default());
    let phone = body.phone.unwrap_or(current.phone);
    rules::nickname(&nickname)?;
    rules::email(&email)?;
    let edit = UserEdit {
        alias: Some(nickname),
        email: Some(email),
        phone: Some(phone),
        ..UserEdit::default()
    };
    let user = app.rbac.edit_user(&actor, &name, edit).await?;
    Ok(Json(resource(&user)))
}

async fn get_one(
    State(app): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    let user = app.rbac.view_user(&actor, &name).await?;
    Ok(Json(resource(&user)))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    offset: Option<String>,
    limit: Option<String>,
    #[serde(rename = "fieldSelector")]
    field_selector: Option<String>,
}

fn number(field: &'static str, value: Option<&str>, default: u64) -> Result<u64> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| Error::invalid(field, "must be a non-negative integer").into()),
    }
}

/// The `name=` term of a field selector such as `name=foo,phone=181`.
fn selector_name(selector: Option<&str>) -> Option<String> {
    selector?
        .split(',')
        .filter_map(|term| term.split_once('='))
        .find(|(k, _)| k.trim() == "name")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

async fn list(
    State(app): State<AppState>,
    Actor(actor): Actor,
    query: axum::extract::Query<ListQuery>,
) -> Result<Json<Value>> {
    let offset = number("offset", query.offset.as_deref(), 0)?;
    let limit = number("limit", query.limit.as_deref(), 1000)?;
    let q = UserQuery {
        name_contains: selector_name(query.field_selector.as_deref()),
        parent_id: None,
        order: Order::NewestFirst,
        page: Page {
            offset,
            limit: Some(limit),
        },
    };
    let listing = app.rbac.list_users(&actor, &q).await?;
    let items: Vec<Value> = listing
        .rows
        .iter()
        .map(|v| {
            let mut item = resource(&v.user);
            item["totalPolicy"] = json!(0);
            item
        })
        .collect();
    Ok(Json(json!({ "totalCount": listing.total, "items": items })))
}

#[derive(Debug, Default, Deserialize)]
struct LoginBody {
    username: Option<String>,
    password: Option<String>,
}

async fn login(State(app): State<AppState>, addr: ClientAddr, req: Request) -> Result<Json<Value>> {
    let basic = CredentialSource::Basic.read(&req);
    let (name, password) = match basic {
        Some(rbac_core::Credential::Basic { user, password }) => (user, password),
        _ => {
            let IamJson(body) = IamJson::<LoginBody>::from_request(req, &()).await?;
            (
                body.username.unwrap_or_default(),
                body.password.unwrap_or_default(),
            )
        }
    };
    if name.is_empty() || password.is_empty() {
        return Err(IamError::new(
            StatusCode::UNAUTHORIZED,
            100206,
            "missing username or password",
        ));
    }
    let outcome = app
        .rbac
        .login(&LoginInput {
            name,
            password,
            ip: addr.ip(),
        })
        .await?;
    Ok(Json(json!({
        "token": outcome.token.token,
        "expire": rfc3339(outcome.token.expires_at),
    })))
}

async fn logout(State(app): State<AppState>, Actor(actor): Actor) -> Result<Json<Value>> {
    if !actor.session_id.is_empty() {
        app.rbac.logout(&actor).await?;
    }
    Ok(Json(Value::Null))
}

async fn refresh(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
) -> Result<Json<Value>> {
    if actor.session_id.is_empty() {
        return Err(Error::Unauthenticated(AuthFailure::Missing).into());
    }
    let token = app.rbac.refresh(&actor, &addr.ip()).await?;
    Ok(Json(json!({
        "token": token.token,
        "expire": rfc3339(token.expires_at),
    })))
}
