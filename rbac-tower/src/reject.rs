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
    /// A metered credential used up what its window allows.
    LimitReached {
        /// Requests the window allows.
        limit: i64,
        /// Seconds until the window resets.
        retry_after: i64,
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
            Error::LimitReached { limit, retry_after } => Rejection::LimitReached {
                limit: *limit,
                retry_after: *retry_after,
            },
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
            Rejection::LimitReached { limit, retry_after } => Error::LimitReached {
                limit: *limit,
                retry_after: *retry_after,
            },
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
            Rejection::LimitReached { limit, retry_after } => (
                429,
                format!("request limit of {limit} reached; retry in {retry_after} s"),
            ),
            Rejection::EnrolmentRequired | Rejection::StepUpRequired { .. } => {
                (403, self::Rejection::to_error(rejection).to_string())
            }
            Rejection::Unavailable => (503, "authorization unavailable".to_string()),
        };
        let mut resp = Response::new(B::from(text));
        *resp.status_mut() =
            http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::FORBIDDEN);
        if let Rejection::LimitReached { retry_after, .. } = rejection {
            resp.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from(*retry_after),
            );
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reached_limit_says_when_to_retry() {
        let rejection = Rejection::from_error(&Error::LimitReached {
            limit: 5,
            retry_after: 120,
        });
        let resp: Response<String> = PlainRejection.render(&rejection);
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()[http::header::RETRY_AFTER], "120");
        assert_eq!(
            rejection.to_error().to_string(),
            Error::LimitReached {
                limit: 5,
                retry_after: 120
            }
            .to_string()
        );
        // The control: a refusal of another kind carries no Retry-After.
        let resp: Response<String> = PlainRejection.render(&Rejection::Forbidden {
            missing: "X".into(),
        });
        assert_eq!(resp.status(), 403);
        assert!(resp.headers().get(http::header::RETRY_AFTER).is_none());
    }
}
