//! The IAM surface (seed 004): a REST user resource in the style of marmotedu/iam, with
//! its login (`/login`, `/logout`, `/refresh`) and health check.
//!
//! Errors are the HTTP status plus `{"code": N, "message": "..."}` with that server's codes.

mod error;
mod mfa;
mod rules;
mod sessions;

use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use rbac_core::service::{LoginInput, UserEdit, UserInput, UserView};
use rbac_core::{AuthFailure, Error, Order, Page, User, UserQuery};
use rbac_tower::{CredentialSource, RbacLayer};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::stream::{stream, List};
use super::{guarded, rfc3339, Actor, ClientAddr, RenderAs};
use crate::state::AppState;

pub use error::{ErrorBody, IamError};

type Result<T, E = IamError> = std::result::Result<T, E>;

super::json_extractor!(
    /// A JSON body, refused with 400 100003 when malformed or over the size limit.
    IamJson,
    IamError
);

/// Where the IAM surface reads a credential: a bearer token, or HTTP Basic.
pub fn credential_sources() -> Vec<CredentialSource> {
    vec![CredentialSource::Bearer, CredentialSource::Basic]
}

/// The IAM routes.
pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    let layer = RbacLayer::new(&state.rbac)
        .sources(credential_sources())
        .renderer(RenderAs::<IamError>::new());
    let need = |code: &str| layer.clone().require_code(code);
    let authenticated = || layer.clone().authenticated();
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(login))
        .routes(routes!(mfa::login_mfa))
        .routes(guarded(routes!(logout), authenticated().enrolment()))
        .routes(guarded(routes!(refresh), authenticated()))
        .routes(guarded(
            routes!(sessions::list_sessions, sessions::end_sessions),
            authenticated().enrolment(),
        ))
        .routes(guarded(
            routes!(sessions::end_session),
            authenticated().enrolment(),
        ))
        .routes(routes!(create))
        .routes(guarded(routes!(list), need("UserAccess")))
        .routes(guarded(routes!(delete_many), need("UserDelete")))
        .routes(guarded(routes!(get_one), authenticated()))
        .routes(guarded(routes!(update), authenticated()))
        .routes(guarded(routes!(delete_one), need("UserDelete")))
        .routes(guarded(routes!(change_password), authenticated()))
        .routes(guarded(
            routes!(change_password_underscored),
            authenticated(),
        ))
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "iam",
    operation_id = "iam_healthz",
    summary = "Liveness",
    responses(
        (status = 200, description = "`{\"status\":\"ok\"}`", content_type = "application/json"),
    )
)]
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// A user resource's metadata.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = iam::ObjectMeta)]
pub struct ObjectMeta {
    id: i64,
    name: String,
    /// RFC 3339, UTC.
    created_at: String,
    /// RFC 3339, UTC.
    updated_at: String,
}

/// A user resource (`password` is always empty).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = iam::UserResource)]
pub struct UserResource {
    metadata: ObjectMeta,
    nickname: String,
    password: String,
    email: String,
    phone: String,
    /// In lists only: the user's policy count (always 0 here: no policies).
    #[serde(rename = "totalPolicy", skip_serializing_if = "Option::is_none")]
    total_policy: Option<u64>,
}

/// `GET /v1/users`: a page of users.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = iam::UserList)]
pub struct UserList {
    /// Users matching, in all.
    total_count: u64,
    #[schema(value_type = Vec<UserResource>)]
    items: List<UserResource>,
}

/// `login`, `refresh`: a token and when it expires.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = iam::IssuedToken)]
pub struct IssuedToken {
    /// For `Authorization: Bearer`.
    token: String,
    /// RFC 3339, UTC.
    expire: String,
}

fn resource(user: &User) -> UserResource {
    UserResource {
        metadata: ObjectMeta {
            id: user.id,
            name: user.name.clone(),
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
        },
        nickname: user.alias.clone(),
        password: String::new(),
        email: user.email.clone().unwrap_or_default(),
        phone: user.phone.clone(),
        total_policy: None,
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = iam::Metadata)]
struct Metadata {
    name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = iam::UserBody)]
struct UserBody {
    #[serde(default)]
    metadata: Metadata,
    nickname: Option<String>,
    password: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/users",
    tag = "iam",
    operation_id = "iam_create",
    summary = "Create (register) a user",
    request_body = UserBody,
    responses(
        (status = 200, description = "The user resource", body = UserResource),
        (status = 400, description = "Invalid input, or the name is taken (110002)", body = ErrorBody),
    )
)]
async fn create(
    State(app): State<AppState>,
    addr: ClientAddr,
    IamJson(body): IamJson<UserBody>,
) -> Result<Json<UserResource>> {
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
    let user = app.rbac.users().sign_up(input, &addr.ip()).await?;
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

#[utoipa::path(
    delete,
    path = "/v1/users",
    tag = "iam",
    operation_id = "iam_delete_many",
    summary = "Delete several users by name",
    description = "Requires the privilege `UserDelete`.",
    extensions(("x-rbac-privilege" = json!("UserDelete"))),
    params(
        ("name" = Vec<String>, Query, description = "Names to delete, repeated"),
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "null", content_type = "application/json"),
        (status = 401, description = "Missing or bad token", body = ErrorBody),
        (status = 403, description = "Lacks `UserDelete`", body = ErrorBody),
    )
)]
async fn delete_many(
    State(app): State<AppState>,
    Actor(actor): Actor,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>> {
    let names = names_in(query.as_deref());
    app.rbac.users().delete_many(&actor, &names).await?;
    Ok(Json(Value::Null))
}

#[utoipa::path(
    delete,
    path = "/v1/users/{name}",
    tag = "iam",
    operation_id = "iam_delete_one",
    summary = "Delete a user",
    description = "Requires the privilege `UserDelete`.",
    extensions(("x-rbac-privilege" = json!("UserDelete"))),
    params(
        ("name" = String, Path, description = "The user's name"),
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "null", content_type = "application/json"),
        (status = 401, description = "Missing or bad token", body = ErrorBody),
        (status = 403, description = "Lacks `UserDelete`", body = ErrorBody),
        (status = 404, description = "No such user (110001)", body = ErrorBody),
    )
)]
async fn delete_one(
    State(app): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    app.rbac.users().delete_many(&actor, &[name]).await?;
    Ok(Json(Value::Null))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = iam::ChangePasswordBody)]
struct ChangePasswordBody {
    old_password: Option<String>,
    new_password: Option<String>,
}

#[utoipa::path(
    put,
    path = "/v1/users/{name}/change-password",
    tag = "iam",
    operation_id = "iam_change_password",
    summary = "Change a password",
    description = "The owner with the old password, or anyone with `UserEdit`.",
    params(
        ("name" = String, Path, description = "The user's name"),
    ),
    request_body = ChangePasswordBody,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "null", content_type = "application/json"),
        (status = 400, description = "Invalid new password", body = ErrorBody),
        (status = 401, description = "Missing or bad token, or a wrong old password", body = ErrorBody),
        (status = 403, description = "Not oneself and lacks `UserEdit`", body = ErrorBody),
        (status = 404, description = "No such user (110001)", body = ErrorBody),
    )
)]
async fn change_password(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
    Path(name): Path<String>,
    IamJson(body): IamJson<ChangePasswordBody>,
) -> Result<Json<Value>> {
    let old = body.old_password.unwrap_or_default();
    let new = body.new_password.unwrap_or_default();
    rules::password("newPassword", &new)?;
    app.rbac
        .users()
        .change_password_of(&actor, &name, &old, &new, &addr.ip())
        .await?;
    Ok(Json(Value::Null))
}

/// `change_password`, the spelling marmotedu/iam mounts.
#[utoipa::path(
    put,
    path = "/v1/users/{name}/change_password",
    tag = "iam",
    operation_id = "iam_change_password_underscored",
    summary = "Change a password (the spelling of marmotedu/iam)",
    description = "The same as `change-password`.",
    params(
        ("name" = String, Path, description = "The user's name"),
    ),
    request_body = ChangePasswordBody,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "null", content_type = "application/json"),
        (status = 400, description = "Invalid new password", body = ErrorBody),
        (status = 401, description = "Missing or bad token, or a wrong old password", body = ErrorBody),
        (status = 403, description = "Not oneself and lacks `UserEdit`", body = ErrorBody),
        (status = 404, description = "No such user (110001)", body = ErrorBody),
    )
)]
async fn change_password_underscored(
    state: State<AppState>,
    actor: Actor,
    addr: ClientAddr,
    name: Path<String>,
    body: IamJson<ChangePasswordBody>,
) -> Result<Json<Value>> {
    change_password(state, actor, addr, name, body).await
}

#[utoipa::path(
    put,
    path = "/v1/users/{name}",
    tag = "iam",
    operation_id = "iam_update",
    summary = "Update a user's details",
    description = "Oneself, or anyone with `UserEdit`.",
    params(
        ("name" = String, Path, description = "The user's name"),
    ),
    request_body = UserBody,
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The user resource", body = UserResource),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or bad token", body = ErrorBody),
        (status = 403, description = "Not oneself and lacks `UserEdit`", body = ErrorBody),
        (status = 404, description = "No such user (110001)", body = ErrorBody),
    )
)]
async fn update(
    State(app): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
    IamJson(body): IamJson<UserBody>,
) -> Result<Json<UserResource>> {
    let current = app.rbac.users().view(&actor, &name).await?;
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
    let user = app.rbac.users().edit(&actor, &name, edit).await?;
    Ok(Json(resource(&user)))
}

#[utoipa::path(
    get,
    path = "/v1/users/{name}",
    tag = "iam",
    operation_id = "iam_get_one",
    summary = "One user",
    description = "Oneself, or anyone with `UserAccess`.",
    params(
        ("name" = String, Path, description = "The user's name"),
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The user resource", body = UserResource),
        (status = 401, description = "Missing or bad token", body = ErrorBody),
        (status = 403, description = "Not oneself and lacks `UserAccess`", body = ErrorBody),
        (status = 404, description = "No such user (110001)", body = ErrorBody),
    )
)]
async fn get_one(
    State(app): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
) -> Result<Json<UserResource>> {
    let user = app.rbac.users().view(&actor, &name).await?;
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

#[utoipa::path(
    get,
    path = "/v1/users",
    tag = "iam",
    operation_id = "iam_list",
    summary = "List users",
    description = "Requires the privilege `UserAccess`.",
    extensions(("x-rbac-privilege" = json!("UserAccess"))),
    params(
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Most rows (default 1000)"),
        ("fieldSelector" = Option<String>, Query, description = "`name=<part of a name>`"),
    ),
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "A page of users", body = UserList),
        (status = 400, description = "A bad offset or limit", body = ErrorBody),
        (status = 401, description = "Missing or bad token", body = ErrorBody),
        (status = 403, description = "Lacks `UserAccess`", body = ErrorBody),
    )
)]
async fn list(
    State(app): State<AppState>,
    Actor(actor): Actor,
    query: axum::extract::Query<ListQuery>,
) -> Result<Response> {
    let offset = number("offset", query.offset.as_deref(), 0)?;
    let limit = number("limit", query.limit.as_deref(), 1000)?;
    let q = UserQuery {
        name_contains: selector_name(query.field_selector.as_deref()),
        member_of: None,
        order: Order::NewestFirst,
        page: Page {
            offset,
            limit: Some(limit),
        },
    };
    let turn = app.listings.admit(&q.page, actor.user_id).await?;
    let rows = app.rbac.users().rows(&actor, &q).await?;
    let rows = rows.with_chunk(app.listings.chunk());
    let answer = UserList {
        total_count: rows.total(),
        items: List::Streamed,
    };
    let render = |v: UserView| UserResource {
        total_policy: Some(0),
        ..resource(&v.user)
    };
    Ok(stream(&answer, rows, render, turn).await?)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = iam::LoginBody)]
struct LoginBody {
    username: Option<String>,
    password: Option<String>,
}

#[utoipa::path(
    post,
    path = "/login",
    tag = "iam",
    operation_id = "iam_login",
    summary = "Log in with a JSON body or HTTP Basic credentials",
    description = "Answers `{token, expire}`.",
    request_body = LoginBody,
    security((), ("basic" = [])),
    responses(
        (status = 200, description = "A token", body = IssuedToken),
        (status = 400, description = "Malformed body (100003)", body = ErrorBody),
        (status = 401, description = "Wrong name or password (100206); beyond the document, 100210 with `mfa_token` when a second factor must complete the login at `/login/mfa`", body = ErrorBody),
    )
)]
async fn login(
    State(app): State<AppState>,
    addr: ClientAddr,
    super::UserAgent(user_agent): super::UserAgent,
    req: Request,
) -> Result<Json<IssuedToken>> {
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
        .sessions()
        .login(&LoginInput {
            audience: "iam".into(),
            name,
            password,
            ip: addr.ip(),
            user_agent,
            tenant: None,
        })
        .await?
        .signed_in()?;
    Ok(Json(IssuedToken {
        token: outcome.token.token,
        expire: rfc3339(outcome.token.expires_at),
    }))
}

#[utoipa::path(
    post,
    path = "/logout",
    tag = "iam",
    operation_id = "iam_logout",
    summary = "End the session",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "null", content_type = "application/json"),
        (status = 401, description = "Missing or bad token", body = ErrorBody),
    )
)]
async fn logout(State(app): State<AppState>, Actor(actor): Actor) -> Result<Json<Value>> {
    if !actor.session_id.is_empty() {
        app.rbac.sessions().logout(&actor).await?;
    }
    Ok(Json(Value::Null))
}

#[utoipa::path(
    post,
    path = "/refresh",
    tag = "iam",
    operation_id = "iam_refresh",
    summary = "A fresh token for the session",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "A token", body = IssuedToken),
        (status = 401, description = "Missing or bad token", body = ErrorBody),
    )
)]
async fn refresh(
    State(app): State<AppState>,
    Actor(actor): Actor,
    addr: ClientAddr,
) -> Result<Json<IssuedToken>> {
    if actor.session_id.is_empty() {
        return Err(Error::Unauthenticated(AuthFailure::Missing).into());
    }
    let token = app.rbac.sessions().refresh(&actor, &addr.ip()).await?;
    Ok(Json(IssuedToken {
        token: token.token,
        expire: rfc3339(token.expires_at),
    }))
}
