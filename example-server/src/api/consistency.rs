//! The consistency token. Every successful mutating answer carries `X-Rbac-Revision: N`,
//! the change-log position of its write (the newest position when it journals no change).
//! A request that sends `X-Rbac-Consistency: N` is served only once this instance has
//! applied the change at N and every earlier one it can see, so a client that wrote
//! through one instance reads its write through any other. It waits at most
//! `--consistency-wait-ms`, then answers HTTP 503 with `Retry-After: 1` in the surface's
//! envelope; a malformed token, or one past every journalled change, is a bad request.
//! The token is honoured only for a request whose session token authenticates: without
//! one it changes nothing in the answer (it would tell how far the change log has grown).

use axum::extract::{Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use rbac_core::{Credential, Error};
use rbac_tower::{first_credential, CredentialSource};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The revision a successful mutating answer carries.
pub const REVISION: HeaderName = HeaderName::from_static("x-rbac-revision");

/// The revision a request must see.
pub const CONSISTENCY: HeaderName = HeaderName::from_static("x-rbac-consistency");

/// Marks an answer that carries no revision: a refusal (platform refusals are HTTP 200),
/// or an answer that is not this server's write (the gateway's forwarded `/rpc`), so it
/// costs no read of the change log.
#[derive(Debug, Clone, Copy)]
pub struct NoRevision;

/// `routes` with the token honoured, refusing in the surface's error `E`; `sources` are
/// where the surface reads a credential.
pub fn layer<E>(
    state: &AppState,
    sources: Vec<CredentialSource>,
    routes: OpenApiRouter<AppState>,
) -> OpenApiRouter<AppState>
where
    E: From<Error> + IntoResponse + 'static,
{
    let sources: Arc<[CredentialSource]> = sources.into();
    routes.route_layer(axum::middleware::from_fn_with_state(
        (state.clone(), sources),
        consistent::<E>,
    ))
}

async fn consistent<E>(
    State((app, sources)): State<(AppState, Arc<[CredentialSource]>)>,
    req: Request,
    next: Next,
) -> Response
where
    E: From<Error> + IntoResponse,
{
    // Credentials first: a request that does not authenticate is not told anything about
    // the change log (its route answers it as it would without the token: 401 where a
    // credential is needed).
    if let Some(token) = req.headers().get(&CONSISTENCY).cloned() {
        if authenticates(&app, first_credential(&sources, &req)).await {
            if let Err(refusal) = wait_for::<E>(&app, &token).await {
                return refusal;
            }
        }
    }
    let mutating = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut resp = next.run(req).await;
    if mutating && resp.status().is_success() && resp.extensions().get::<NoRevision>().is_none() {
        match app.rbac.store().change_cursor().await {
            Ok(newest) => {
                resp.headers_mut()
                    .insert(REVISION, HeaderValue::from(newest));
            }
            Err(e) => tracing::warn!(error = %e, "reading the change-log position failed"),
        }
    }
    resp
}

/// Whether `credential` is a session token that authenticates. Only tokens are looked at:
/// verifying one has no effect the route's own check would not have. A password (HTTP
/// Basic) would be counted and hashed twice, an API key metered twice, so with those the
/// token is not honoured and the request is answered as without it.
async fn authenticates(app: &AppState, credential: Option<Credential>) -> bool {
    match credential {
        Some(Credential::Token(token)) => app
            .rbac
            .authorizer()
            .authenticate_token(&token)
            .await
            .is_ok(),
        _ => false,
    }
}

/// Waits until this instance has applied the revision `token` names.
async fn wait_for<E>(app: &AppState, token: &HeaderValue) -> Result<(), Response>
where
    E: From<Error> + IntoResponse,
{
    let bad = |reason: &str| E::from(Error::invalid("X-Rbac-Consistency", reason)).into_response();
    let Some(wanted) = token
        .to_str()
        .ok()
        .and_then(|t| t.trim().parse::<i64>().ok())
        .filter(|n| *n >= 0)
    else {
        return Err(bad("not a revision"));
    };
    let authorizer = app.rbac.authorizer();
    if authorizer.applied_position() >= wanted {
        return Ok(());
    }
    match app.rbac.store().change_cursor().await {
        Ok(newest) if wanted > newest => {
            return Err(bad("no change was journalled at this revision"))
        }
        Ok(_) => {}
        Err(e) => return Err(E::from(Error::from(e)).into_response()),
    }
    if authorizer
        .await_position(wanted, app.consistency_wait)
        .await
    {
        return Ok(());
    }
    let mut busy = E::from(Error::Busy).into_response();
    *busy.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    busy.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    Err(busy)
}
