//! The documented API surfaces, one module each, and what they share.

pub mod bench;
pub mod cloud;
pub mod codes;
pub mod consistency;
pub mod console;
pub mod envelope;
pub mod gateway;
pub mod iam;
pub mod listings;
pub mod openapi;
pub mod platform;
pub mod step_up;
pub mod stream;

use std::convert::Infallible;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::Route;
use axum::Router;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use tower::{Layer, Service};
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::config::Config;
use crate::metrics;
use crate::state::AppState;

/// Every privilege code the documents declare: the platform's table, then the console's.
pub fn privileges() -> Vec<String> {
    let admin = platform::admin_privileges();
    admin
        .codes()
        .into_iter()
        .chain(console::accounts::PRIVILEGES.iter().copied())
        .chain(gateway::registration::PRIVILEGES.iter().copied())
        .map(str::to_string)
        .collect()
}

/// The roles the surfaces seed under stable keys, besides `admin`: the console's two and
/// the gateway's registered users.
pub fn system_roles() -> Vec<rbac_core::service::SystemRole> {
    [
        console::accounts::SYSTEM_ROLES,
        gateway::registration::SYSTEM_ROLES,
    ]
    .concat()
}

/// The scope kind of the console's organisations (`org:2`).
pub const ORG_SCOPE: &str = "org";
/// The scope kind of the gateway's projects (`project:17`).
pub const PROJECT_SCOPE: &str = "project";

/// The scope kind of what one user owns (`user:5`): its projects lie within it.
pub const OWNER_SCOPE: &str = "user";

/// The scope kinds role assignments may name: organisations, projects, owners.
pub fn scope_kinds() -> rbac_core::ScopeKinds {
    rbac_core::ScopeKinds::new([ORG_SCOPE, PROJECT_SCOPE, OWNER_SCOPE])
}

/// Every surface's routes over one state, with the OpenAPI document of exactly those
/// routes at `/openapi.json` and its interactive page at `/docs`, and `pages` (the admin
/// console, which imports the API's pieces and so is handed in rather than imported).
pub fn router(state: AppState, config: &Config, pages: Router<AppState>) -> Router {
    documented_routes(&state, config)
        .merge(pages)
        .fallback(not_found)
        .layer(axum::Extension(BodyLimit(config.body_limit)))
        .layer(axum::middleware::from_fn(request_id))
        .with_state(state)
}

/// The mounted routes and, from the same attributes, their document and its page. Every
/// API route goes through [`OpenApiRouter::routes`], so none is mounted undocumented.
fn documented_routes(state: &AppState, config: &Config) -> Router<AppState> {
    let document = openapi::Document::default();
    let operations = OpenApiRouter::new()
        .routes(routes!(metrics::scrape))
        .routes(routes!(readyz))
        .routes(openapi::document_route(&document));
    let bench = if config.bench_routes {
        metrics::instrument("bench", bench::routes(state))
    } else {
        OpenApiRouter::new()
    };
    let (routes, spec) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(bench)
        .merge(metrics::instrument(
            "platform",
            consistency::layer::<envelope::PlatformError>(
                state,
                platform::credential_sources(),
                platform::routes(state),
            ),
        ))
        .merge(metrics::instrument(
            "iam",
            consistency::layer::<iam::IamError>(
                state,
                iam::credential_sources(),
                iam::routes(state),
            ),
        ))
        .merge(metrics::instrument(
            "cloud",
            consistency::layer::<cloud::CloudError>(
                state,
                cloud::credential_sources(),
                cloud::routes(state),
            ),
        ))
        .merge(metrics::instrument(
            "console",
            consistency::layer::<console::ConsoleError>(
                state,
                console::credential_sources(),
                console::routes(state),
            ),
        ))
        .merge(metrics::instrument(
            "gateway",
            consistency::layer::<envelope::PlatformError>(
                state,
                gateway::credential_sources(),
                gateway::routes(state),
            ),
        ))
        .merge(metrics::instrument("operations", operations))
        .split_for_parts();
    let mut spec = spec;
    step_up::mark(&mut spec);
    routes.merge(openapi::publish(&document, spec))
}

/// A documented route with `layer` (its privilege check) around its handler only: a
/// method the route does not serve still answers 405, credentials or not.
pub(crate) fn guarded<L>(
    routes: UtoipaMethodRouter<AppState>,
    layer: L,
) -> UtoipaMethodRouter<AppState>
where
    L: Layer<Route> + Clone + Send + Sync + 'static,
    L::Service: Service<axum::extract::Request, Error = Infallible> + Clone + Send + Sync + 'static,
    <L::Service as Service<axum::extract::Request>>::Response: IntoResponse + 'static,
    <L::Service as Service<axum::extract::Request>>::Future: Send + 'static,
{
    let (schemas, paths, route) = routes;
    (schemas, paths, route.route_layer(layer))
}

/// The request-id header, read and answered.
const REQUEST_ID: &str = "x-request-id";

/// Gives every request an id (the client's `X-Request-Id` when it is short and plain, else
/// a random one), logs everything the request does inside a `request` span carrying it,
/// and answers it in `X-Request-Id`.
async fn request_id(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use tracing::Instrument;
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| rbac_core::service::random_token(12));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path()
    );
    let mut resp = next.run(req).instrument(span).await;
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, value);
    }
    resp
}

/// Readiness: 200 when the store answers and its schema is current, else 503 saying why.
/// (`/healthz`, liveness, is the IAM surface's.)
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "operations_readyz",
    summary = "Readiness: the store answers and its schema is current",
    responses(
        (status = 200, description = "`{\"status\":\"ready\"}`", content_type = "application/json"),
        (status = 503, description = "`{\"status\":\"not ready\",\"reason\":…}`", content_type = "application/json")
    )
)]
async fn readyz(axum::extract::State(app): axum::extract::State<AppState>) -> Response {
    match app.sql.readiness().await {
        Ok(()) => axum::Json(serde_json::json!({ "status": "ready" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "not ready", "reason": e.to_string() })),
            )
                .into_response()
        }
    }
}

/// Unknown paths: a 404 in the envelope of the surface the path belongs to.
async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/v1/") {
        let mut resp = iam::IamError::page_not_found().into_response();
        *resp.status_mut() = StatusCode::NOT_FOUND;
        return resp;
    }
    if uri.path().starts_with("/casdao/") {
        return console::not_found();
    }
    platform::not_found().await
}

/// The largest body a surface parses.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Why a request body could not be read as the expected JSON.
#[derive(Debug)]
pub enum BodyError {
    /// Larger than the limit; not parsed.
    TooLarge(usize),
    /// Not JSON, wrong types, unknown or missing fields.
    Malformed(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge(limit) => write!(f, "request body larger than {limit} bytes"),
            BodyError::Malformed(m) => write!(f, "malformed request body: {m}"),
        }
    }
}

/// Most bytes read and discarded from an oversize body so the client can read the answer.
const DRAIN_CAP: usize = 64 << 20;

/// Reads a body up to `limit` bytes. Past the limit the rest is drained (not kept, not
/// parsed, up to a cap) so the client still gets the answer.
pub async fn read_body(body: Body, limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = body;
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(BodyError::Malformed("the body could not be read".into()));
        };
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if seen > limit {
                buf = Vec::new();
                if seen > DRAIN_CAP {
                    break;
                }
                continue;
            }
            buf.extend_from_slice(&data);
        }
    }
    if seen > limit {
        return Err(BodyError::TooLarge(limit));
    }
    Ok(buf)
}

/// Parses JSON; an empty body reads as `{}`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| BodyError::Malformed(e.to_string()))
}

/// Reads a request's body as JSON under the configured size limit.
pub async fn json_body<T: DeserializeOwned>(req: axum::extract::Request) -> Result<T, BodyError> {
    let limit = req.extensions().get::<BodyLimit>().map_or(1 << 20, |l| l.0);
    let bytes = read_body(req.into_body(), limit).await?;
    parse_json(&bytes)
}

/// Declares a surface's JSON body extractor: `$name<T>` reads the body with
/// [`json_body`] and refuses with the surface's error type (which converts a [`BodyError`]).
macro_rules! json_extractor {
    ($(#[$doc:meta])* $name:ident, $error:ty) => {
        $(#[$doc])*
        pub struct $name<T>(pub T);

        impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S>
            for $name<T>
        {
            type Rejection = $error;

            async fn from_request(
                req: axum::extract::Request,
                _: &S,
            ) -> Result<Self, Self::Rejection> {
                Ok($name($crate::api::json_body(req).await?))
            }
        }
    };
}
pub(crate) use json_extractor;

/// The authenticated caller, as the rbac layer left it in the request extensions (a route
/// without the layer answers a 500 naming the mistake).
pub use rbac_tower::extract::Caller as Actor;

/// Renders the layer's refusals as the surface's own error `E` renders the use-case error
/// (one renderer for every surface, in place of one per envelope).
pub struct RenderAs<E>(std::marker::PhantomData<fn() -> E>);

impl<E> RenderAs<E> {
    /// The renderer for `E`.
    pub fn new() -> Self {
        RenderAs(std::marker::PhantomData)
    }
}

impl<E> Clone for RenderAs<E> {
    fn clone(&self) -> Self {
        RenderAs::new()
    }
}

impl<E> rbac_tower::RenderRejection<Body> for RenderAs<E>
where
    E: From<rbac_core::Error> + IntoResponse + 'static,
{
    fn render(&self, rejection: &rbac_tower::Rejection) -> Response {
        E::from(rejection.to_error()).into_response()
    }
}

pub use crate::serve::{ClientAddr, UserAgent};

/// `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn datetime(ts: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// RFC 3339 in UTC (`2020-09-23T07:33:14Z`).
pub fn rfc3339(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

pub use rbac_tower::credential::percent_decode;

/// Parses `YYYY-MM-DD HH:MM:SS` (UTC) or a bare `YYYY-MM-DD`.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let full = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let date = time::macros::format_description!("[year]-[month]-[day]");
    let s = s.trim();
    if let Ok(t) = time::PrimitiveDateTime::parse(s, &full) {
        return Some(t.assume_utc().unix_timestamp());
    }
    time::Date::parse(s, &date)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_round_trip() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
        assert_eq!(
            parse_datetime("2021-10-11 03:22:33")
                .map(datetime)
                .as_deref(),
            Some("2021-10-11 03:22:33")
        );
        assert_eq!(
            parse_datetime("2021-10-11"),
            parse_datetime("2021-10-11 00:00:00")
        );
        assert_eq!(parse_datetime("nope"), None);
    }
}

#[cfg(test)]
mod mounting {
    /// Every API route goes through `OpenApiRouter::routes`, which takes its path and
    /// methods from the handler's `#[utoipa::path]`: a plain `route`, `route_service` or
    /// `nest` would mount something the document does not list (example-server/tests/http/openapi.rs
    /// checks the rest through the binary). The admin console (`src/admin/`) answers HTML
    /// pages under `/admin`, not API operations, and is mounted on its own.
    #[test]
    fn no_route_is_mounted_around_the_document() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let console = root.join("admin");
        let sources = rust_sources(&root);
        assert!(sources.len() > 10, "the server's sources were found");
        for (file, source) in &sources {
            if std::path::Path::new(file).starts_with(&console) {
                continue;
            }
            for call in ["route", "route_service", "nest", "nest_service"] {
                let needle = format!(".{call}(");
                assert!(
                    !source.contains(&needle),
                    "{file} mounts with `{needle}`: use `.routes(routes!(handler))`"
                );
            }
        }
    }

    /// Every `.rs` file under `dir`, with its text.
    fn rust_sources(dir: &std::path::Path) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).expect("source folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                found.extend(rust_sources(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                found.push((path.display().to_string(), text));
            }
        }
        found
    }
}
