//! axum integration (feature `axum`): the authenticated caller as an extractor.
//!
//! ```
//! use axum::{routing::get, Router};
//! use rbac_tower::extract::Caller;
//!
//! async fn whoami(Caller(me): Caller) -> String {
//!     me.user_name.to_string()
//! }
//! let app: Router = Router::new().route("/whoami", get(whoami));
//! // …with `.layer(RbacLayer::new(authorizer).authenticated())` on the route.
//! ```

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;
use rbac_core::Principal;

/// The caller `RbacLayer` authenticated, taken from the request extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub Principal);

/// `Caller` was used on a route `RbacLayer` does not wrap: a layer-order mistake, answered
/// with a 500 that names it (and logged), never a panic and never an anonymous caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingLayer;

impl IntoResponse for MissingLayer {
    fn into_response(self) -> Response {
        tracing::error!("a handler reads the caller but RbacLayer is not installed on its route");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "server misconfigured: RbacLayer is not installed on this route",
        )
            .into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = MissingLayer;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or(MissingLayer)
    }
}

/// The caller, when a route serves both anonymous and authenticated requests (no layer,
/// or a layer in front that let the request through unauthenticated): `None` if absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaybeCaller(pub Option<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeCaller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeCaller(parts.extensions.get::<Principal>().cloned()))
    }
}
