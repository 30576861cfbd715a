//! One error type for every use-case; each surface maps it to its own wire codes.
//!
//! ```
//! # async fn run() -> Result<(), rbac_core::Error> {
//! use rbac_core::{Error, MemoryStore, Rbac};
//!
//! # let config = rbac_core::RbacConfig { hasher: rbac_core::HasherConfig { memory_kib: 64, iterations: 1, parallelism: 1, ..Default::default() }, ..Default::default() };
//! let rbac = Rbac::builder(MemoryStore::new())
//!     .secret("at least 32 bytes of signing secret")
//!     .privileges(["RecordRead", "RecordWrite"])
//! #   .config(config)
//!     .build()
//!     .await?;
//! // An undeclared scope kind is refused, and the message names the fix.
//! let err = rbac.assignments().parse_scope("scope", "team:1").expect_err("undeclared");
//! assert!(err.to_string().contains(".scope_kinds"), "{err}");
//! assert!(matches!(Error::invalid("name", "empty"), Error::InvalidParam { field: "name", .. }));
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```

use std::fmt;

/// Which unique field a conflicting write collided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
pub enum Entity {
    /// A user.
    User,
    /// A role.
    Role,
    /// A session.
    Session,
    /// An API key.
    ApiKey,
    /// A passkey.
    Passkey,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::User => "user",
            Entity::Role => "role",
            Entity::Session => "session",
            Entity::ApiKey => "API key",
            Entity::Passkey => "passkey",
        })
    }
}

/// Why a credential did not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// A storage failure, as the storage traits report it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// The backend failed (connection, I/O, unexpected data); the cause is the source.
    #[error("storage backend: {0}")]
    Backend(#[source] BoxError),
}

/// Any error as a cause kept in a source chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every refusal or failure of a use-case. New refusals may be added: match with a
/// wildcard arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    #[error("unknown privilege code {0}: declare it with .privileges([...]) on the builder")]
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
    /// Too many attempts: failed logins or codes for an account or client address, or
    /// hourly work (sign-ups, codes, passkey ceremonies) past its limit.
    #[error("too many attempts: try again in {retry_after} s")]
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
    SendFailed(#[source] crate::notify::SendError),
    /// A metered credential (an API key with a request meter) used up what its window
    /// allows; nothing was counted.
    #[error("request limit of {limit} reached; it resets in {retry_after} s")]
    LimitReached {
        /// Requests the window allows.
        limit: i64,
        /// Seconds until the window resets.
        retry_after: i64,
    },
    /// The password was right and the account has a second factor: the login completes
    /// with the challenge and a code or passkey.
    #[error("a second factor is required to complete the login")]
    SecondFactorRequired(Box<crate::second_step::Challenge>),
    /// The second factor did not verify: a wrong or used code.
    #[error("wrong or used second-factor code")]
    BadSecondFactor,
    /// A role the caller holds requires a second factor the caller has not enrolled: only
    /// enrolment (and logout) may proceed.
    #[error("a role you hold requires a second factor: enrol one first")]
    EnrolmentRequired,
    /// The action needs a second factor proven by this session (recently, when `within`
    /// says how recently, in seconds).
    #[error("this action needs a second factor proven{}: sign in again with it", .within.map(|s| format!(" within {s} s")).unwrap_or_default())]
    StepUpRequired {
        /// How recently, in seconds (`None`: at sign-in, whenever that was).
        within: Option<i64>,
    },
    /// Second factors need a secrets key, and none is configured.
    #[error("second factors are unavailable: the server has no secrets key configured (the builder's .secrets_key_file(path), the server's --secrets-key-file)")]
    NoSecretsKey,
    /// The store or an internal step failed; the cause is the source (logged, never shown
    /// to a client).
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl Error {
    /// An internal failure caused by `cause` (an error, or words).
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Error::Internal(cause.into())
    }

    /// Shorthand for an invalid parameter.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidParam {
            field,
            reason: reason.into(),
        }
    }
}

impl StoreError {
    /// A backend failure caused by `cause` (an error, or words).
    pub fn backend(cause: impl Into<BoxError>) -> Self {
        StoreError::Backend(cause.into())
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(f) => Error::AlreadyExists(f),
            StoreError::NotFound(e) => Error::NotFound(e),
            StoreError::Violation(m) => Error::Violation(m.to_string()),
            StoreError::Unrepresentable(m) => Error::BadRequest(m.to_string()),
            backend @ StoreError::Backend(_) => {
                tracing::error!(error = %backend, "storage backend failed");
                Error::Internal(Box::new(backend))
            }
        }
    }
}

/// Result of a use-case.
pub type Result<T, E = Error> = std::result::Result<T, E>;
