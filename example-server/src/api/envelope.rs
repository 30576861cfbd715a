//! The envelope the platform and gateway surfaces share (seed 003, and seed 002's shared
//! paths): `{"header":{"code","message","total","count"},"data":{}}`, its success and
//! refusal answers, the rejection renderer, and the JSON body extractor refusing with 1004.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rbac_core::{Error, Page};

use super::codes::Code;
use serde::Serialize;

use utoipa::ToSchema;

use super::BodyError;

/// The platform's response header.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::Header)]
pub struct Header {
    /// 0 on success, else the refusal's code (1001 not logged in, 1003 no privilege, 1004
    /// bad request, ...).
    pub(crate) code: i32,
    /// The code in words.
    pub(crate) message: String,
    /// Rows matching, for lists (1 for a single answer, 0 on a refusal).
    pub(crate) total: u64,
    /// Rows in this answer.
    pub(crate) count: u64,
}

/// The platform envelope, shared by the gateway surface; `T` is the answer's data.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::Envelope)]
pub struct Envelope<T> {
    /// The outcome.
    pub(crate) header: Header,
    /// The answer (`{}` on a refusal).
    pub(crate) data: T,
}

/// No data: `{}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::Empty)]
pub struct Empty {}

/// A success, rendered once from its typed data: the envelope's JSON.
#[derive(Debug)]
pub struct Reply {
    body: Vec<u8>,
}

impl Reply {
    /// The envelope around `data`, with its total and count.
    fn render<T: Serialize>(data: T, total: u64, count: u64) -> Self {
        let envelope = Envelope {
            header: Header {
                code: Code::Ok.value(),
                message: Code::Ok.message().to_string(),
                total,
                count,
            },
            data,
        };
        // Plain structs with string keys always serialize; an empty body is the 500 below.
        let body = serde_json::to_vec(&envelope).unwrap_or_default();
        Reply { body }
    }

    /// An answer with data under a code other than success (the login's 1033).
    pub(crate) fn coded<T: Serialize>(code: Code, data: T) -> Self {
        let envelope = Envelope {
            header: Header {
                code: code.value(),
                message: code.message().to_string(),
                total: 1,
                count: 1,
            },
            data,
        };
        Reply {
            body: serde_json::to_vec(&envelope).unwrap_or_default(),
        }
    }

    /// No data: `{}`.
    pub(crate) fn empty() -> Self {
        Reply::of(Empty {})
    }

    /// A single answer of a typed shape.
    pub(crate) fn of<T: Serialize>(data: T) -> Self {
        Reply::render(data, 1, 1)
    }

    /// A page of a typed shape: `count` rows here of `total`.
    pub(crate) fn page_of<T: Serialize>(data: T, total: u64, count: usize) -> Self {
        Reply::render(data, total, count as u64)
    }
}

/// A page whose rows stream (`api::stream`): `data` holds a [`List::Streamed`](super::stream::List)
/// where `rows`, each rendered by `render`, go; the header carries their total and count.
/// The bytes are those of [`Reply::page_of`] with the same rows.
pub(crate) async fn streamed_page<D, T, R, F>(
    data: D,
    rows: rbac_core::service::Rows<T>,
    render: F,
    turn: Option<super::listings::Turn>,
) -> Result<Response>
where
    D: Serialize,
    T: Send + 'static,
    R: Serialize,
    F: Fn(T) -> R + Send + 'static,
{
    let envelope = Envelope {
        header: Header {
            code: Code::Ok.value(),
            message: Code::Ok.message().to_string(),
            total: rows.total(),
            count: rows.count(),
        },
        data,
    };
    Ok(super::stream::stream(&envelope, rows, render, turn).await?)
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        if self.body.is_empty() {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        (
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            self.body,
        )
            .into_response()
    }
}

/// A refusal in the platform envelope.
#[derive(Debug)]
pub struct PlatformError {
    pub(crate) code: Code,
    pub(crate) message: String,
    /// The HTTP status when it is not the code's usual one.
    pub(crate) status: Option<StatusCode>,
}

impl PlatformError {
    /// A refusal with this code and message.
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        PlatformError {
            code,
            message: message.into(),
            status: None,
        }
    }

    /// The same refusal with another HTTP status.
    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }
}

impl From<Error> for PlatformError {
    fn from(e: Error) -> Self {
        let message = match &e {
            Error::Internal(_) => "internal server error".to_string(),
            // A project key's meter counts per UTC day: the gateway's quota answer.
            Error::LimitReached { limit, .. } => {
                format!("daily request quota of {limit} used up; it resets at 00:00 UTC")
            }
            other => other.to_string(),
        };
        let refusal = PlatformError::new(Code::of(&e), message);
        match e {
            Error::LimitReached { .. } => refusal.with_status(StatusCode::TOO_MANY_REQUESTS),
            _ => refusal,
        }
    }
}

impl From<BodyError> for PlatformError {
    fn from(e: BodyError) -> Self {
        PlatformError::new(Code::InvalidJsonOrRequiredParams, e.to_string())
    }
}

impl IntoResponse for PlatformError {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or(match self.code {
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::OK,
        });
        let header = Header {
            code: self.code.value(),
            message: self.message,
            total: 0,
            count: 0,
        };
        let data = Empty {};
        let mut resp = (status, Json(Envelope { header, data })).into_response();
        resp.extensions_mut().insert(super::consistency::NoRevision);
        resp
    }
}

pub(crate) type Result<T, E = PlatformError> = std::result::Result<T, E>;

super::json_extractor!(
    /// A JSON body in any content type (the documents send `text/plain`), refused with 1004
    /// when malformed, mistyped, over the size limit, or carrying unknown fields.
    JsonBody,
    PlatformError
);

pub(crate) fn required<T>(field: &'static str, value: Option<T>) -> Result<T> {
    value.ok_or_else(|| {
        PlatformError::new(
            Code::InvalidJsonOrRequiredParams,
            format!("missing required field {field}"),
        )
    })
}

/// The documents' paging: `page_no` from 0; a `page_size` of 0 (or none) is every row.
pub(crate) fn page(page_no: Option<u64>, page_size: Option<u64>) -> Page {
    match page_size.unwrap_or(0) {
        0 => Page::ALL,
        size => Page::nth(page_no.unwrap_or(0), size),
    }
}
