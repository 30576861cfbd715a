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

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::Route;
use axum::Router;
use tower::{Layer, Service};
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::config::Config;
pub(crate) use crate::http::json_extractor;
use crate::http::request_id;
pub use crate::http::{
    datetime, parse_datetime, parse_json, percent_decode, read_body, rfc3339, Actor, BodyError,
    BodyLimit, ClientAddr, RenderAs, UserAgent,
};
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

/// The server's migrations of its own tables, run in one list with the library's.
pub static MIGRATIONS: [rbac_sqlx::AppMigration; 4] = [
    console::organisations::MIGRATION,
    gateway::projects::MIGRATION,
    console::organisations::TENANTS,
    platform::users::DID_MIGRATION,
];

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
