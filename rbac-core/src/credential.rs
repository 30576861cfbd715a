//! Credentials as presented, and the port that turns them into a principal.

use async_trait::async_trait;

use crate::authorizer::{Authorizer, Principal};
use crate::error::{AuthFailure, Error, Result};

/// A credential as a request presents it.
#[derive(Clone, PartialEq, Eq)]
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
    /// A project's API key and secret.
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

/// Turns a credential into a principal; the layer's one dependency.
#[async_trait]
pub trait Authenticate: Send + Sync {
    /// Verifies a credential.
    async fn authenticate(&self, credential: &Credential) -> Result<Principal>;
    /// Verifies a credential a client at `address` presented (its IP address as text,
    /// empty when unknown), so password credentials are throttled per address too.
    async fn authenticate_from(&self, credential: &Credential, address: &str) -> Result<Principal> {
        let _ = address;
        self.authenticate(credential).await
    }
    /// The authorizer that checks the principal's privileges.
    fn authorizer(&self) -> &Authorizer;
}

#[async_trait]
impl Authenticate for Authorizer {
    async fn authenticate(&self, credential: &Credential) -> Result<Principal> {
        match credential {
            Credential::Token(token) => self.authenticate_token(token).await,
            Credential::ApiKey { key, secret } => self.authenticate_api_key(key, secret).await,
            Credential::Basic { .. } => Err(Error::Unauthenticated(AuthFailure::Invalid)),
        }
    }

    fn authorizer(&self) -> &Authorizer {
        self
    }
}
