//! The HTTP pieces every surface and the admin console share: request ids, bodies, the
//! caller, the client's address and agent, refusals rendered in a surface's terms, and
//! time formats. Nothing here imports a surface or the console.

mod body;
mod time;

use axum::body::Body;
use axum::response::{IntoResponse, Response};

pub(crate) use body::json_extractor;
pub use body::{json_body, parse_json, read_body, BodyError, BodyLimit};
pub use time::{datetime, parse_datetime, rfc3339};

/// The request-id header, read and answered.
const REQUEST_ID: &str = "x-request-id";

/// Gives every request an id (the client's `X-Request-Id` when it is short and plain, else
/// a random one), logs everything the request does inside a `request` span carrying it,
/// and answers it in `X-Request-Id`.
pub(crate) async fn request_id(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
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

pub use rbac_tower::credential::percent_decode;
