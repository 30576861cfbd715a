//! Refusals, and the renderer each surface supplies so refusals keep its envelope.

use http::Response;
use rbac_core::{AuthFailure, Error};

/// Why the layer refused a request. New refusals may be added: match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// No credential, or one that does not authenticate.
    Unauthenticated(AuthFailure),
    /// Authenticated, but the named privilege is missing.
    Forbidden {
        /// The missing privilege code.
        missing: String,
    },
    /// A role of the caller requires a second factor the caller has not enrolled.
    EnrolmentRequired,
    /// The route needs a second factor proven by the session (within `within` seconds).
    StepUpRequired {
        /// How recently, in seconds (`None`: at any time during the session).
        within: Option<i64>,
    },
    /// A project's daily request quota is used up.
    QuotaExceeded {
        /// Requests allowed per day.
        limit: i64,
    },
    /// The store or cache failed.
    Unavailable,
}

impl Rejection {
    /// The refusal for a use-case error.
    pub fn from_error(e: &Error) -> Self {
        match e {
            Error::Unauthenticated(f) => Rejection::Unauthenticated(*f),
            Error::Forbidden { missing } => Rejection::Forbidden {
                missing: missing.clone(),
            },
            Error::AccountDisabled => Rejection::Unauthenticated(AuthFailure::UserGone),
            Error::BadCredentials => Rejection::Unauthenticated(AuthFailure::Invalid),
            Error::QuotaExceeded { limit } => Rejection::QuotaExceeded { limit: *limit },
            Error::EnrolmentRequired => Rejection::EnrolmentRequired,
            Error::StepUpRequired { within } => Rejection::StepUpRequired { within: *within },
            _ => Rejection::Unavailable,
        }
    }

    /// The use-case error for this refusal (for surfaces rendering core errors).
    pub fn to_error(&self) -> Error {
        match self {
            Rejection::Unauthenticated(f) => Error::Unauthenticated(*f),
            Rejection::Forbidden { missing } => Error::Forbidden {
                missing: missing.clone(),
            },
            Rejection::QuotaExceeded { limit } => Error::QuotaExceeded { limit: *limit },
            Rejection::EnrolmentRequired => Error::EnrolmentRequired,
            Rejection::StepUpRequired { within } => Error::StepUpRequired { within: *within },
            Rejection::Unavailable => Error::internal("authorization unavailable"),
        }
    }
}

/// Turns a refusal into a response in a surface's own envelope.
pub trait RenderRejection<B>: Clone + Send + Sync + 'static {
    /// The response for a refusal.
    fn render(&self, rejection: &Rejection) -> Response<B>;
}

/// A plain renderer: 401, 403 or 503 with a short text body.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainRejection;

impl<B: From<String>> RenderRejection<B> for PlainRejection {
    fn render(&self, rejection: &Rejection) -> Response<B> {
        let (status, text) = match rejection {
            Rejection::Unauthenticated(f) => (401, format!("unauthorized: {f}")),
            Rejection::Forbidden { missing } => {
                (403, format!("forbidden: privilege {missing} required"))
            }
            Rejection::QuotaExceeded { limit } => {
                (429, format!("daily request quota of {limit} used up"))
            }
            Rejection::EnrolmentRequired | Rejection::StepUpRequired { .. } => {
                (403, self::Rejection::to_error(rejection).to_string())
            }
            Rejection::Unavailable => (503, "authorization unavailable".to_string()),
        };
        let mut resp = Response::new(B::from(text));
        *resp.status_mut() =
            http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::FORBIDDEN);
        resp
    }
}
