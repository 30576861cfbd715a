//! The API-gateway console surface (seed 002): registration with an e-mailed code,
//! projects with API keys, and `/rpc`, which forwards requests made with a project's key to
//! the configured upstream, counting them against the project's daily quota.
//!
//! Same envelope and codes as the platform surface (`login` and `platform/logout` are the
//! platform's handlers); a used-up quota answers HTTP 429 in that envelope.

pub mod projects;
pub mod registration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use rbac_core::{ApiKey, Error, Field};
use rbac_tower::{CredentialSource, RbacLayer};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::codes::Code;
use super::envelope::{
    page, required, streamed_page, Empty, Envelope, JsonBody, PlatformError, Reply, Result,
};
use super::stream::List;
use super::{datetime, guarded, read_body, Actor, BodyLimit, ClientAddr, RenderAs};
use crate::state::AppState;

/// A gateway refusal: the platform's, with the gateway document's codes for e-mail.
fn refusal(e: Error) -> PlatformError {
    match e {
        Error::AlreadyExists(Field::Email) => {
            PlatformError::new(Code::EmailAlreadyExist, "Email already exist")
        }
        Error::InvalidParam {
            field: "email",
            reason,
        } => PlatformError::new(Code::EmailFormatWrong, format!("invalid e-mail: {reason}")),
        // A project is an API key to the library; the gateway answers in its own words.
        Error::NotFound(rbac_core::Entity::ApiKey) => {
            PlatformError::new(Code::NotFound, "project not found")
        }
        other => PlatformError::from(other),
    }
}

/// Where the gateway reads a credential: `Authorization` or `Auth-Token` (a session), then
/// a project's API key.
pub fn credential_sources() -> Vec<CredentialSource> {
    vec![
        CredentialSource::Header(header::AUTHORIZATION),
        CredentialSource::auth_token(),
        project_key(),
    ]
}

/// The gateway routes (login and logout are mounted by the platform surface).
pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    let token = RbacLayer::new(state.rbac.authorizer().clone())
        .sources(credential_sources().into_iter().take(2))
        .renderer(RenderAs::<PlatformError>::new())
        .authenticated();
    let key = RbacLayer::new(state.rbac.authorizer().clone())
        .sources([project_key()])
        .renderer(RenderAs::<PlatformError>::new())
        .authenticated();
    OpenApiRouter::new()
        .routes(routes!(auth_code))
        .routes(routes!(register))
        .routes(guarded(routes!(list), token.clone()))
        .routes(guarded(routes!(create), token.clone()))
        .routes(guarded(routes!(delete), token))
        .routes(guarded(routes!(rpc), key))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = gateway::AuthCodeReq)]
struct AuthCodeReq {
    user_name: Option<String>,
    email: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/auth-code",
    tag = "gateway",
    operation_id = "gateway_auth_code",
    summary = "E-mail a 6-digit registration code",
    description = "Valid 5 minutes, single use, one send per address per minute. 1027 malformed address, 1029 the mail could not be sent.",
    request_body = AuthCodeReq,
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
    )
)]
async fn auth_code(
    State(app): State<AppState>,
    addr: ClientAddr,
    JsonBody(body): JsonBody<AuthCodeReq>,
) -> Result<Reply> {
    let email = required("email", body.email)?;
    registration::send_registration_email(
        &app.rbac,
        body.user_name.as_deref().unwrap_or(""),
        &email,
        &addr.ip(),
    )
    .await
    .map_err(refusal)?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = gateway::RegisterReq)]
struct RegisterReq {
    user_name: Option<String>,
    password: Option<String>,
    email: Option<String>,
    reg_code: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/register",
    tag = "gateway",
    operation_id = "gateway_register",
    summary = "Register with the e-mailed code",
    description = "Wrong code 1032, expired 1030, e-mail taken 1018, name taken 1005; five wrong codes burn the code.",
    request_body = RegisterReq,
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
    )
)]
async fn register(
    State(app): State<AppState>,
    addr: ClientAddr,
    JsonBody(body): JsonBody<RegisterReq>,
) -> Result<Reply> {
    let input = registration::EmailRegistration {
        name: required("user_name", body.user_name)?,
        password: required("password", body.password)?,
        email: required("email", body.email)?,
        code: required("reg_code", body.reg_code)?,
    };
    registration::register_with_email(&app.rbac, input, &addr.ip())
        .await
        .map_err(refusal)?;
    Ok(Reply::empty())
}

/// A project in the document's shape.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = gateway::ProjectRow)]
pub struct ProjectRow {
    id: i64,
    project_name: String,
    project_type: i32,
    /// 16 characters.
    project_key: String,
    /// 48 characters.
    project_secret: String,
    /// The public URLs of the gateway (`--gateway-endpoint`).
    end_points: Vec<String>,
    deleted: bool,
    /// `YYYY-MM-DD HH:MM:SS` (UTC).
    created_time: String,
    request_total: i64,
    /// Requests counted today (UTC).
    request_today: i64,
    /// The daily quota.
    request_max: i64,
    pool_id: i64,
    pool_name: String,
}

/// `project/list`: a page of projects.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = gateway::ProjectPage)]
pub struct ProjectPage {
    #[schema(value_type = Vec<ProjectRow>)]
    list: List<ProjectRow>,
}

/// `project/create`: the new project's credentials.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = gateway::ProjectKeys)]
pub struct ProjectKeys {
    /// 16 characters from the OS CSPRNG.
    project_key: String,
    /// 48 characters from the OS CSPRNG.
    project_secret: String,
}

fn record((key, fields): (ApiKey, projects::Fields), endpoints: &[String]) -> ProjectRow {
    let request_today = key.requests_on(rbac_core::utc_day(rbac_core::now()));
    ProjectRow {
        id: key.id,
        project_name: key.name,
        project_type: fields.kind,
        project_key: key.key,
        project_secret: key.secret,
        end_points: endpoints.to_vec(),
        deleted: key.revoked,
        created_time: datetime(key.created_at),
        request_total: key.request_total,
        request_today,
        // The gateway gives every project a quota.
        request_max: key.daily_limit.unwrap_or(0),
        pool_id: fields.pool_id,
        pool_name: fields.pool_name,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = gateway::ListReq)]
struct ListReq {
    user_id: Option<i64>,
    page_no: Option<u64>,
    page_size: Option<u64>,
}

#[utoipa::path(
    post,
    path = "/api/v1/project/list",
    tag = "gateway",
    operation_id = "gateway_list",
    summary = "List the caller's projects (another user's with `UserAccess`)",
    request_body = ListReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<ProjectPage>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn list(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(body): JsonBody<ListReq>,
) -> Result<Response> {
    let wanted = page(body.page_no, body.page_size);
    let turn = app
        .listings
        .admit(&wanted, actor.user_id)
        .await
        .map_err(refusal)?;
    let rows = projects::rows(&app, &actor, body.user_id, wanted)
        .await
        .map_err(refusal)?
        .with_chunk(app.listings.chunk());
    let gateway = app.gateway.clone();
    let render = move |p| record(p, &gateway.endpoints);
    let data = ProjectPage {
        list: List::Streamed,
    };
    streamed_page(data, rows, render, turn).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = gateway::CreateReq)]
struct CreateReq {
    project_type: Option<i32>,
    project_name: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/project/create",
    tag = "gateway",
    operation_id = "gateway_create",
    summary = "Create a project with a fresh key and secret",
    request_body = CreateReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<ProjectKeys>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn create(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(body): JsonBody<CreateReq>,
) -> Result<Reply> {
    let name = required("project_name", body.project_name)?;
    let project = projects::create(&app, &actor, &name, body.project_type.unwrap_or(1))
        .await
        .map_err(refusal)?;
    Ok(Reply::of(ProjectKeys {
        project_key: project.key,
        project_secret: project.secret,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = gateway::DeleteReq)]
struct DeleteReq {
    id: Option<i64>,
}

#[utoipa::path(
    post,
    path = "/api/v1/project/delete",
    tag = "gateway",
    operation_id = "gateway_delete",
    summary = "Delete an own project: its key stops working at once",
    request_body = DeleteReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
async fn delete(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(body): JsonBody<DeleteReq>,
) -> Result<Reply> {
    let id = required("id", body.id)?;
    projects::delete(&app.rbac, &actor, id)
        .await
        .map_err(refusal)?;
    Ok(Reply::empty())
}

/// Headers that belong to one hop, or carry this gateway's credentials: never forwarded.
fn forwardable(name: &HeaderName) -> bool {
    !matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
            | "authorization"
            | "auth-token"
            | "cookie"
            | "x-project-key"
            | "x-project-secret"
    )
}

/// The largest upstream answer `/rpc` relays; a larger one is refused with 502, so an
/// upstream cannot make the gateway hold an unbounded body.
pub const MAX_UPSTREAM_ANSWER: usize = 16 << 20;

/// Reads the upstream's answer, refusing it past [`MAX_UPSTREAM_ANSWER`] bytes.
async fn read_capped(mut upstream: reqwest::Response) -> Result<Vec<u8>, &'static str> {
    if upstream
        .content_length()
        .is_some_and(|n| n > MAX_UPSTREAM_ANSWER as u64)
    {
        return Err("the upstream's answer is too large");
    }
    let mut body = Vec::new();
    loop {
        match upstream.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_UPSTREAM_ANSWER {
                    return Err("the upstream's answer is too large");
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                tracing::warn!(error = %e.without_url(), "reading the upstream's answer failed");
                return Err("the upstream's answer could not be read");
            }
        }
    }
}

fn copy_headers(from: &HeaderMap) -> HeaderMap {
    let mut to = HeaderMap::new();
    for (name, value) in from {
        if forwardable(name) {
            to.append(name.clone(), value.clone());
        }
    }
    to
}

/// Forwards a request made with a valid project key to the upstream, as is (method, query,
/// headers but the caller's credentials and hop-by-hop ones, body), and answers with the
/// upstream's answer (at most [`MAX_UPSTREAM_ANSWER`] bytes). No upstream configured: 503.
#[utoipa::path(
    method(get, post, put, delete, patch, head, options),
    path = "/rpc",
    tag = "gateway",
    operation_id = "gateway_rpc",
    summary = "Forward a request to the upstream with a project key",
    description = "Authenticated by the project key and secret (headers or HTTP Basic) and counted against the project's daily quota; the upstream's answer is returned as is.",
    security(("project_key" = [], "project_secret" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The upstream's answer (any status)"),
        (status = 401, description = "Missing or wrong key or secret, or a deleted project", body = Envelope<Empty>),
        (status = 429, description = "The project's daily quota is used up", body = Envelope<Empty>),
        (status = 502, description = "The upstream did not answer", body = Envelope<Empty>),
        (status = 503, description = "No upstream is configured", body = Envelope<Empty>),
    )
)]
async fn rpc(State(app): State<AppState>, req: Request) -> Response {
    let Some(upstream) = app.gateway.upstream.clone() else {
        return PlatformError::new(Code::ServerError, "no upstream is configured for /rpc")
            .with_status(StatusCode::SERVICE_UNAVAILABLE)
            .into_response();
    };
    let mut url = upstream;
    if let Some(q) = req.uri().query() {
        url.set_query(Some(q));
    }
    let limit = req.extensions().get::<BodyLimit>().map_or(1 << 20, |l| l.0);
    let method = req.method().clone();
    let headers = copy_headers(req.headers());
    let body = match read_body(req.into_body(), limit).await {
        Ok(b) => b,
        Err(e) => return PlatformError::from(e).into_response(),
    };
    let sent = app
        .gateway
        .client
        .request(method, url)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let upstream = match sent {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "forwarding /rpc failed");
            return PlatformError::new(Code::ServerError, "the upstream did not answer")
                .with_status(StatusCode::BAD_GATEWAY)
                .into_response();
        }
    };
    let status = upstream.status();
    let headers = copy_headers(upstream.headers());
    match read_capped(upstream).await {
        Ok(bytes) => {
            let mut resp = Response::new(Body::from(bytes));
            *resp.status_mut() = status;
            *resp.headers_mut() = headers;
            // The upstream's answer, not a write of ours.
            resp.extensions_mut().insert(super::consistency::NoRevision);
            resp
        }
        Err(reason) => PlatformError::new(Code::ServerError, reason)
            .with_status(StatusCode::BAD_GATEWAY)
            .into_response(),
    }
}

/// Where the gateway reads a project's API key and secret: `X-Project-Key` and
/// `X-Project-Secret`, or `Authorization: Basic base64(key:secret)`.
fn project_key() -> CredentialSource {
    CredentialSource::api_key("x-project-key", "x-project-secret")
}
