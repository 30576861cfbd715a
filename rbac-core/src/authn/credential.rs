//! Credentials as presented, and the port that turns them into a principal.
//!
//! ```
//! # async fn run() -> Result<(), rbac_core::Error> {
//! use rbac_core::{Authenticate, Credential, MemoryStore, Rbac, RequestContext};
//!
//! # let config = rbac_core::RbacConfig { hasher: rbac_core::HasherConfig { memory_kib: 64, iterations: 1, parallelism: 1, ..Default::default() }, ..Default::default() };
//! let rbac = Rbac::builder(MemoryStore::new())
//!     .secret("at least 32 bytes of signing secret")
//!     .privileges(["RecordRead", "RecordWrite"])
//! #   .config(config)
//!     .build()
//!     .await?;
//! // The layer calls this for every request; so can anything else.
//! let context = RequestContext { address: None, path: "/records" };
//! let forged = Credential::Token("not a token".into());
//! assert!(rbac.authenticate(&forged, &context).await.is_err());
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```

use std::net::IpAddr;

use async_trait::async_trait;

use crate::authz::authorizer::{Authorizer, Principal};
use crate::authz::privilege::{PrivilegeRegistry, Requirement};
use crate::error::{AuthFailure, Error, Result};

/// A credential as a request presents it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// A session token (a JWT, or an opaque sliding token).
    Token(String),
    /// HTTP Basic user name and password.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
    /// An API key and its secret.
    ApiKey {
        /// The API key.
        key: String,
        /// The API secret.
        secret: String,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Token(_) => f.write_str("Token(<redacted>)"),
            Credential::Basic { user, .. } => write!(f, "Basic({user}, <redacted>)"),
            Credential::ApiKey { key, .. } => write!(f, "ApiKey({key}, <redacted>)"),
        }
    }
}

/// What is known of the request a credential came with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestContext<'a> {
    /// The client's address as the application resolved it (after its trusted proxies),
    /// if known: password credentials are throttled per address as well as per account.
    pub address: Option<IpAddr>,
    /// The request's path.
    pub path: &'a str,
}

/// Turns a credential into a principal. [`Authorizer`] verifies tokens and API keys, an
/// `Rbac` passwords too; an application's own verifier (OIDC, mTLS, …) implements this
/// and plugs into the same layer.
#[async_trait]
pub trait Authenticate: Send + Sync {
    /// Verifies a credential the request described by `context` presented.
    async fn authenticate(
        &self,
        credential: &Credential,
        context: &RequestContext<'_>,
    ) -> Result<Principal>;

    /// The same answer without waiting, when what is already verified and cached settles
    /// it: `Some` either way, `None` to go the async way. The layer asks this first, so a
    /// warm request allocates no future; by default `None` (a verifier that implements
    /// only `authenticate` keeps working unchanged).
    fn authenticate_now(
        &self,
        credential: &Credential,
        context: &RequestContext<'_>,
    ) -> Option<Result<Principal>> {
        let _ = (credential, context);
        None
    }
}

/// Checks a principal's privileges: what the layer needs besides authentication.
pub trait Authorize: Send + Sync {
    /// The privilege codes requirements are resolved against.
    fn registry(&self) -> &PrivilegeRegistry;

    /// `Ok` when the principal meets the requirement, else `Forbidden` naming a code.
    fn require(&self, principal: &Principal, requirement: &Requirement) -> Result<()>;

    /// `Ok` when the principal meets the requirement within `scope` (its global roles, the
    /// scope's and its ancestors'). By default only what holds globally counts.
    fn require_in(
        &self,
        principal: &Principal,
        requirement: &Requirement,
        scope: &crate::authz::scope::Scope,
    ) -> Result<()> {
        let _ = scope;
        self.require(principal, requirement)
    }

    /// `Ok` when the principal meets the requirement globally or within some scope it holds
    /// roles in (by default only what holds globally counts).
    fn require_anywhere(&self, principal: &Principal, requirement: &Requirement) -> Result<()> {
        self.require(principal, requirement)
    }

    /// Notes a refusal for audit (by default, nothing).
    fn record_denial(&self, principal: &Principal, missing: &str, path: &str) {
        let _ = (principal, missing, path);
    }
}

#[async_trait]
impl Authenticate for Authorizer {
    async fn authenticate(
        &self,
        credential: &Credential,
        _context: &RequestContext<'_>,
    ) -> Result<Principal> {
        match credential {
            Credential::Token(token) => self.authenticate_token(token).await,
            #[cfg(feature = "api-keys")]
            Credential::ApiKey { key, secret } => self.authenticate_api_key(key, secret).await,
            // Without the `api-keys` feature no key authenticates.
            #[cfg(not(feature = "api-keys"))]
            Credential::ApiKey { .. } => Err(Error::Unauthenticated(AuthFailure::Invalid)),
            Credential::Basic { .. } => Err(Error::Unauthenticated(AuthFailure::Invalid)),
        }
    }

    fn authenticate_now(
        &self,
        credential: &Credential,
        _context: &RequestContext<'_>,
    ) -> Option<Result<Principal>> {
        match credential {
            Credential::Token(token) => self.authenticate_token_now(token),
            _ => None,
        }
    }
}

impl Authorize for Authorizer {
    fn registry(&self) -> &PrivilegeRegistry {
        Authorizer::registry(self)
    }

    fn require(&self, principal: &Principal, requirement: &Requirement) -> Result<()> {
        Authorizer::require(self, principal, requirement)
    }

    fn require_in(
        &self,
        principal: &Principal,
        requirement: &Requirement,
        scope: &crate::authz::scope::Scope,
    ) -> Result<()> {
        Authorizer::require_in(self, principal, requirement, scope)
    }

    fn require_anywhere(&self, principal: &Principal, requirement: &Requirement) -> Result<()> {
        Authorizer::require_anywhere(self, principal, requirement)
    }

    fn record_denial(&self, principal: &Principal, missing: &str, path: &str) {
        Authorizer::record_denial(self, principal, missing, path);
    }
}
