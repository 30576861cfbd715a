//! IAM refusals: the HTTP status plus `{"code": N, "message": "..."}` with that server's
//! codes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rbac_core::{AuthFailure, Entity, Error, Field};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::BodyError;

/// An IAM error: HTTP status, code and message.
#[derive(Debug)]
pub struct IamError {
    status: StatusCode,
    code: u32,
    message: String,
    /// The challenge of a login awaiting its second factor (code 100210).
    mfa_token: Option<String>,
    /// With it, for a user with a passkey: the options for `navigator.credentials.get()`.
    passkey: Option<Box<serde_json::Value>>,
}

impl IamError {
    pub(crate) fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        IamError {
            status,
            code,
            message: message.into(),
            mfa_token: None,
            passkey: None,
        }
    }

    /// 404 100006 for paths this surface does not serve.
    pub fn page_not_found() -> Self {
        IamError::new(StatusCode::NOT_FOUND, 100006, "Page not found.")
    }
}

impl From<Error> for IamError {
    fn from(e: Error) -> Self {
        use StatusCode as S;
        let (status, code) = match &e {
            Error::SecondFactorRequired(challenge) => {
                let mut refusal = IamError::new(
                    S::UNAUTHORIZED,
                    100210,
                    "A second factor is required: complete the login at /login/mfa.",
                );
                refusal.mfa_token = Some(challenge.token.clone());
                refusal.passkey = challenge.passkey.clone().map(Box::new);
                return refusal;
            }
            Error::BadSecondFactor => (S::UNAUTHORIZED, 100211),
            Error::EnrolmentRequired => (S::FORBIDDEN, 100212),
            Error::StepUpRequired { .. } => (S::FORBIDDEN, 100213),
            Error::NoSecretsKey => (S::SERVICE_UNAVAILABLE, 100002),
            Error::Unauthenticated(AuthFailure::Missing) => (S::UNAUTHORIZED, 100205),
            Error::Unauthenticated(AuthFailure::Expired) => (S::UNAUTHORIZED, 100203),
            Error::Unauthenticated(_) => (S::UNAUTHORIZED, 100005),
            Error::BadCredentials | Error::WrongPassword => (S::UNAUTHORIZED, 100206),
            Error::AccountDisabled
            | Error::Forbidden { .. }
            | Error::Violation(_)
            | Error::NotGrantable(_)
            | Error::Outranked { .. } => (S::FORBIDDEN, 100207),
            Error::InvalidParam { .. }
            | Error::UnknownPrivilege(_)
            | Error::CodeMismatch
            | Error::CodeExpired => (S::BAD_REQUEST, 100004),
            Error::BadRequest(_) => (S::BAD_REQUEST, 100003),
            Error::AlreadyExists(Field::UserName | Field::Email) => (S::BAD_REQUEST, 110002),
            Error::AlreadyExists(_) => (S::BAD_REQUEST, 100004),
            Error::NotFound(Entity::User) => (S::NOT_FOUND, 110001),
            Error::NotFound(_) => (S::NOT_FOUND, 100006),
            Error::Busy => (S::SERVICE_UNAVAILABLE, 100002),
            Error::Throttled { .. } | Error::TooSoon { .. } | Error::LimitReached { .. } => {
                (S::TOO_MANY_REQUESTS, 100207)
            }
            Error::SendFailed(_) => (S::INTERNAL_SERVER_ERROR, 100001),
            Error::Internal(_) => (S::INTERNAL_SERVER_ERROR, 100101),
            _ => (S::INTERNAL_SERVER_ERROR, 100001),
        };
        let message = match (&e, code) {
            (_, 110002) => "User already exist.".to_string(),
            (_, 110001) => "User not found.".to_string(),
            (_, 100206) => "Password was incorrect.".to_string(),
            (Error::Internal(_), _) => "Database error.".to_string(),
            (other, _) => other.to_string(),
        };
        IamError::new(status, code, message)
    }
}

impl From<BodyError> for IamError {
    fn from(e: BodyError) -> Self {
        IamError::new(StatusCode::BAD_REQUEST, 100003, e.to_string())
    }
}

/// An IAM refusal's body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = iam::ErrorBody)]
pub struct ErrorBody {
    /// The IAM code (100003 bad body, 100206 wrong password, 110001 no such user, ...).
    code: u32,
    /// The code in words.
    message: String,
    /// Beyond the document, with code 100210 only: the challenge `/login/mfa` completes.
    #[serde(skip_serializing_if = "Option::is_none")]
    mfa_token: Option<String>,
    /// With it, for a user with a passkey: the options for `navigator.credentials.get()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    passkey: Option<serde_json::Value>,
}

impl IntoResponse for IamError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: self.message,
            mfa_token: self.mfa_token,
            passkey: self.passkey.map(|p| *p),
        };
        let mut resp = (self.status, Json(body)).into_response();
        resp.extensions_mut()
            .insert(crate::api::consistency::NoRevision);
        resp
    }
}
