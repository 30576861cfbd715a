//! One error type for every use-case, with the stable codes of the platform document.

use std::fmt;

/// The stable numeric codes of the platform API (seed 003, table 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Code {
    /// Unknown error.
    Error = -1,
    /// Success.
    Ok = 0,
    /// Internal server error.
    Internal = 500,
    /// The caller lacks the privilege the action needs.
    AccessDeny = 1000,
    /// No, bad, expired or revoked token.
    Unauthorized = 1001,
    /// Wrong user name or password.
    InvalidUserOrPassword = 1002,
    /// A parameter has an invalid value.
    InvalidParams = 1003,
    /// Malformed JSON or a missing required field.
    InvalidJsonOrRequiredParams = 1004,
    /// The name (user, role, e-mail, …) exists already.
    AlreadyExist = 1005,
    /// No such user, role or record.
    NotFound = 1006,
    /// Wrong password (for example the old one on a change).
    InvalidPassword = 1007,
    /// Wrong or expired verification code.
    InvalidAuthCode = 1008,
    /// The action violates a rule (built-in admin, self-deletion, role in use, …).
    AccessViolate = 1009,
    /// The account is disabled.
    AccountBanned = 1012,
    /// The phone number exists already.
    PhoneNumberExist = 1016,
    /// The phone number is malformed.
    PhoneFormatWrong = 1017,
    /// The e-mail exists already (the gateway document uses 1018 for it).
    EmailAlreadyExist = 1018,
    /// Server error (overloaded or unavailable).
    ServerError = 1019,
    /// The grantor does not hold the privilege it tries to grant.
    NoPrivilege = 1021,
    /// Enabling or disabling failed.
    EditControlFailed = 1025,
    /// The e-mail address is malformed.
    EmailFormatWrong = 1027,
    /// Sending the e-mail failed.
    EmailSendFailed = 1029,
    /// The verification code expired.
    EmailCodeTimeout = 1030,
    /// No such e-mail address.
    EmailNotExist = 1031,
    /// Wrong verification code.
    EmailCodeError = 1032,
}

impl Code {
    /// The numeric value put in `header.code`.
    pub fn value(self) -> i32 {
        self as i32
    }

    /// The symbolic message of the code table (`CODE_OK`, `CODE_UNAUTHORIZED`, …).
    pub fn message(self) -> &'static str {
        match self {
            Code::Error => "CODE_ERROR",
            Code::Ok => "CODE_OK",
            Code::Internal => "CODE_INTERNAL_SERVER_ERROR",
            Code::AccessDeny => "CODE_ACCESS_DENY",
            Code::Unauthorized => "CODE_UNAUTHORIZED",
            Code::InvalidUserOrPassword => "CODE_INVALID_USER_OR_PASSWORD",
            Code::InvalidParams => "CODE_INVALID_PARAMS",
            Code::InvalidJsonOrRequiredParams => "CODE_INVALID_JSON_OR_REQUIRED_PARAMS",
            Code::AlreadyExist => "CODE_ALREADY_EXIST",
            Code::NotFound => "CODE_NOT_FOUND",
            Code::InvalidPassword => "CODE_INVALID_PASSWORD",
            Code::InvalidAuthCode => "CODE_INVALID_AUTH_CODE",
            Code::AccessViolate => "CODE_ACCESS_VIOLATE",
            Code::AccountBanned => "CODE_ACCOUNT_BANNED",
            Code::PhoneNumberExist => "CODE_PHONENUMBER_EXIT",
            Code::PhoneFormatWrong => "CODE_PHONE_FORMAT_WRONG",
            Code::EmailAlreadyExist => "CODE_EMAIL_EXIT",
            Code::ServerError => "CODE_SERVER_ERROR",
            Code::NoPrivilege => "CODE_NO_PRIVILEGE",
            Code::EditControlFailed => "CODE_EDIT_CONTROL_FAILED",
            Code::EmailFormatWrong => "CODE_EMAIL_FORMAT_WRONG",
            Code::EmailSendFailed => "CODE_EMAIL_SEND_FAILED",
            Code::EmailCodeTimeout => "CODE_EMAIL_CODE_TIMEOUT",
            Code::EmailNotExist => "CODE_EMAIL_NOT_EXIT",
            Code::EmailCodeError => "CODE_EMAIL_CODE_ERROR",
        }
    }
}

/// Which unique field a conflicting write collided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A user's name.
    UserName,
    /// A user's e-mail address.
    Email,
    /// A role's name.
    RoleName,
    /// Any other unique key.
    Other,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::UserName => "user name",
            Field::Email => "e-mail",
            Field::RoleName => "role name",
            Field::Other => "record",
        })
    }
}

/// The kind of record a lookup did not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A user.
    User,
    /// A role.
    Role,
    /// A session.
    Session,
    /// An organisation.
    Organisation,
    /// A project.
    Project,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::User => "user",
            Entity::Role => "role",
            Entity::Session => "session",
            Entity::Organisation => "organisation",
            Entity::Project => "project",
        })
    }
}

/// Why a credential did not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credential was presented.
    Missing,
    /// The credential is malformed or its signature does not verify.
    Invalid,
    /// The credential expired.
    Expired,
    /// The session behind the credential was revoked (logout, refresh, password change, …).
    Revoked,
    /// The user behind the credential no longer exists or is disabled.
    UserGone,
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthFailure::Missing => "no token",
            AuthFailure::Invalid => "invalid token",
            AuthFailure::Expired => "token expired",
            AuthFailure::Revoked => "token revoked",
            AuthFailure::UserGone => "user disabled or deleted",
        })
    }
}

/// A storage failure, as the storage traits report it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; nothing was written.
    #[error("{0} already exists")]
    Conflict(Field),
    /// The record to change does not exist.
    #[error("{0} not found")]
    NotFound(Entity),
    /// The write would break a rule the store enforces atomically (e.g. a role still in use).
    #[error("{0}")]
    Violation(&'static str),
    /// The value cannot be stored or compared by this backend (PostgreSQL text holds no
    /// NUL character); nothing was written.
    #[error("{0}")]
    Unrepresentable(&'static str),
    /// The backend failed (connection, I/O, unexpected data).
    #[error("storage backend: {0}")]
    Backend(String),
}

/// Every refusal or failure of a use-case.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Authentication failed or is missing.
    #[error("unauthorized: {0}")]
    Unauthenticated(AuthFailure),
    /// Wrong user name or password (the same whether or not the user exists).
    #[error("invalid user name or password")]
    BadCredentials,
    /// The account is disabled.
    #[error("account is disabled")]
    AccountDisabled,
    /// The caller lacks a privilege; names the missing code.
    #[error("access denied: privilege {missing} required")]
    Forbidden {
        /// The privilege code that was missing.
        missing: String,
    },
    /// A parameter has an invalid value.
    #[error("invalid parameter {field}: {reason}")]
    InvalidParam {
        /// The request field at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A privilege code that the registry does not know.
    #[error("unknown privilege code {0}")]
    UnknownPrivilege(String),
    /// The request is malformed or lacks a required field.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A unique name is taken.
    #[error("{0} already exists")]
    AlreadyExists(Field),
    /// The target does not exist.
    #[error("{0} not found")]
    NotFound(Entity),
    /// The old password given does not match.
    #[error("wrong password")]
    WrongPassword,
    /// The action breaks a rule (built-in admin, self-deletion, role in use, …).
    #[error("refused: {0}")]
    Violation(String),
    /// The grantor does not hold the privilege it tries to grant.
    #[error("cannot grant {0}: the grantor does not hold it")]
    NotGrantable(String),
    /// The target user or role holds a privilege the actor does not: no one acts on
    /// someone stronger.
    #[error("refused: {target} holds {missing}, which the caller does not")]
    Outranked {
        /// The user or role acted on (`user eve`, `role ops`).
        target: String,
        /// A privilege code (or `admin`, the built-in admin) the actor lacks.
        missing: String,
    },
    /// Too many requests waiting on password hashing.
    #[error("server busy, try again")]
    Busy,
    /// Too many failed logins for this account or client address.
    #[error("too many failed logins: try again in {retry_after} s")]
    Throttled {
        /// Seconds until the next attempt is allowed.
        retry_after: i64,
    },
    /// The verification code does not match (or none is pending).
    #[error("wrong verification code")]
    CodeMismatch,
    /// The verification code expired.
    #[error("the verification code expired")]
    CodeExpired,
    /// A code was sent to this address moments ago.
    #[error("a code was sent recently: try again in {retry_after} s")]
    TooSoon {
        /// Seconds until another code may be sent.
        retry_after: i64,
    },
    /// A message (SMS, e-mail) could not be sent; nothing usable was stored.
    #[error("the message could not be sent")]
    SendFailed(String),
    /// A project's daily request quota is used up.
    #[error("daily request quota of {limit} used up; it resets at 00:00 UTC")]
    QuotaExceeded {
        /// Requests allowed per day.
        limit: i64,
    },
    /// The store failed.
    #[error("internal error")]
    Internal(String),
}

impl Error {
    /// The stable platform code for this error.
    pub fn code(&self) -> Code {
        match self {
            Error::Unauthenticated(_) => Code::Unauthorized,
            Error::BadCredentials => Code::InvalidUserOrPassword,
            Error::AccountDisabled => Code::AccountBanned,
            Error::Forbidden { .. } => Code::AccessDeny,
            Error::InvalidParam { .. } | Error::UnknownPrivilege(_) => Code::InvalidParams,
            Error::BadRequest(_) => Code::InvalidJsonOrRequiredParams,
            Error::AlreadyExists(_) => Code::AlreadyExist,
            Error::NotFound(_) => Code::NotFound,
            Error::WrongPassword => Code::InvalidPassword,
            Error::Violation(_) => Code::AccessViolate,
            Error::NotGrantable(_) | Error::Outranked { .. } => Code::NoPrivilege,
            Error::Busy => Code::ServerError,
            Error::Throttled { .. } | Error::TooSoon { .. } | Error::QuotaExceeded { .. } => {
                Code::AccessViolate
            }
            Error::CodeMismatch => Code::EmailCodeError,
            Error::CodeExpired => Code::EmailCodeTimeout,
            Error::SendFailed(_) => Code::EmailSendFailed,
            Error::Internal(_) => Code::Internal,
        }
    }

    /// Shorthand for an invalid parameter.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidParam {
            field,
            reason: reason.into(),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(f) => Error::AlreadyExists(f),
            StoreError::NotFound(e) => Error::NotFound(e),
            StoreError::Violation(m) => Error::Violation(m.to_string()),
            StoreError::Unrepresentable(m) => Error::BadRequest(m.to_string()),
            StoreError::Backend(m) => {
                tracing::error!(error = %m, "storage backend failed");
                Error::Internal(m)
            }
        }
    }
}

/// Result of a use-case.
pub type Result<T, E = Error> = std::result::Result<T, E>;
