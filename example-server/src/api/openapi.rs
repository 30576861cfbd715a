//! The OpenAPI 3.1 document of every mounted route, built from the handlers' own
//! `#[utoipa::path]` attributes and request types as the router mounts them, served at
//! `GET /openapi.json`, with Swagger UI (embedded in the binary) at `/docs`.

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::UtoipaMethodRouter;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::state::AppState;

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/openapi.json";

/// Where the interactive documentation is served.
pub const DOCS_PATH: &str = "/docs";

/// The document's fixed parts: title, surfaces (tags) and credential schemes. The paths
/// come from the router (see [`super::router`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "rbac example-server",
        description = "Five documented API surfaces over one RBAC store. Each operation names \
            the privilege it requires; refusals use the surface's own envelope and codes.",
        license(name = "MIT OR Apache-2.0")
    ),
    tags(
        (name = "platform", description = "Seed 003: login, users, roles, grants, passwords, \
            operation log. Envelope `{header:{code,message,total,count},data}`."),
        (name = "gateway", description = "Seed 002: e-mailed registration codes, projects with \
            API keys, and the key-authenticated `/rpc` proxy. Platform envelope."),
        (name = "console", description = "Seed 001, under `/casdao/api/v1.0/system/`: SMS \
            registration, primary and sub-accounts, opaque sliding tokens. Envelope \
            `{code,msg,data}`."),
        (name = "iam", description = "Seed 004: a REST user resource in the style of \
            marmotedu/iam. Errors `{code,message}` with the HTTP status."),
        (name = "cloud", description = "Seed 000: ping, client address, registration, login, \
            the caller's record. Envelope with `errCode`."),
        (name = "operations", description = "Readiness, Prometheus metrics, this document."),
        (name = "bench", description = "Load-test routes, mounted only with `--bench-routes`.")
    ),
    modifiers(&CredentialSchemes)
)]
pub struct ApiDoc;

/// Every way a surface takes a credential, as OpenAPI security schemes.
struct CredentialSchemes;

impl Modify for CredentialSchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let header = |name: &str, what: &str| {
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(name, what)))
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, scheme) in [
            (
                "auth_token",
                header(
                    "Auth-Token",
                    "The JWT from `/api/v1/login` (platform, gateway).",
                ),
            ),
            (
                "authorization",
                header(
                    "Authorization",
                    "The JWT from `/api/v1/login`, bare or after `Bearer ` (platform, gateway).",
                ),
            ),
            (
                "x_auth_token",
                header(
                    "X-Auth-Token",
                    "The opaque token from `auth/login` (console).",
                ),
            ),
            (
                "token",
                header("token", "The token from `/api/v1/user/login` (cloud)."),
            ),
            (
                "token_query",
                SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                    "token",
                    "The token from `/api/v1/user/login`, as a query parameter (cloud).",
                ))),
            ),
            (
                "project_key",
                header("X-Project-Key", "A project's key (gateway `/rpc`)."),
            ),
            (
                "project_secret",
                header("X-Project-Secret", "The project's secret (gateway `/rpc`)."),
            ),
            (
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            ),
            (
                "basic",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
            ),
        ] {
            components.add_security_scheme(name, scheme);
        }
    }
}

/// The document as served: rendered once, after the router that it describes is built.
#[derive(Clone, Default)]
pub struct Document(Arc<OnceLock<Bytes>>);

/// Serves the OpenAPI document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "operations_document",
    summary = "This OpenAPI 3.1 document",
    responses((status = 200, description = "The document", content_type = "application/json"))
)]
async fn document(Extension(doc): Extension<Document>) -> Response {
    match doc.0.get() {
        Some(text) => ([(header::CONTENT_TYPE, "application/json")], text.clone()).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// The route serving `doc` (it documents itself).
pub fn document_route(doc: &Document) -> UtoipaMethodRouter<AppState> {
    let (schemas, paths, route) = utoipa_axum::routes!(document);
    (schemas, paths, route.layer(Extension(doc.clone())))
}

/// Renders `openapi` into `doc` and answers the Swagger UI routes at [`DOCS_PATH`]; the UI's
/// assets are compiled into the binary, so the page works offline.
pub fn publish(doc: &Document, mut openapi: utoipa::openapi::OpenApi) -> Router<AppState> {
    distinct_operation_ids(&mut openapi);
    let rendered = openapi
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"the document did not render: {e}\"}}"));
    // Set once per router; a second router built in one process keeps its own `doc`.
    let _ = doc.0.set(Bytes::from(rendered));
    SwaggerUi::new(DOCS_PATH)
        .config(
            SwaggerConfig::new([DOCUMENT_PATH])
                .validator_url("none")
                .try_it_out_enabled(true),
        )
        .into()
}

/// One handler mounted for several methods (`/rpc`) documents one operation per method,
/// each with the handler's id; OpenAPI wants them distinct, so those get the method as a
/// suffix.
fn distinct_operation_ids(openapi: &mut utoipa::openapi::OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let mut operations = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("options", &mut item.options),
            ("head", &mut item.head),
            ("patch", &mut item.patch),
            ("trace", &mut item.trace),
        ];
        if operations.iter().filter(|(_, op)| op.is_some()).count() < 2 {
            continue;
        }
        let ids: Vec<Option<String>> = operations
            .iter()
            .map(|(_, op)| op.as_ref().and_then(|o| o.operation_id.clone()))
            .collect();
        for (method, op) in operations.iter_mut() {
            let Some(op) = op.as_mut() else { continue };
            let Some(id) = op.operation_id.clone() else {
                continue;
            };
            if ids.iter().flatten().filter(|other| **other == id).count() > 1 {
                op.operation_id = Some(format!("{id}_{method}"));
            }
        }
    }
}
