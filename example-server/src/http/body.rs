//! Request bodies: read under a size limit and parsed as JSON, and each surface's JSON
//! extractor.

use axum::body::Body;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

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
                Ok($name($crate::http::json_body(req).await?))
            }
        }
    };
}
pub(crate) use json_extractor;
