//! Credentials as presented, and the port that turns them into a principal.

use async_trait::async_trait;

use crate::authorizer::{Authorizer, Principal};
use crate::error::{AuthFailure, Error, Result};

/// A credential as a request presents it.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A session token (a JWT).
    Token(String),
    /// HTTP Basic user name and password.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Token(_) => f.write_str("Token(<redacted>)"),
            Credential::Basic { user, .. } => write!(f, "Basic({user}, <redacted>)"),
        }
    }
}

/// Turns a credential into a principal; the layer's one dependency.
#[async_trait]
pub trait Authenticate: Send + Sync {
    /// Verifies a credential.
    async fn authenticate(&self, credential: &Credential) -> Result<Principal>;
    /// The authorizer that checks the principal's privileges.
    fn authorizer(&self) -> &Authorizer;
}

#[async_trait]
impl Authenticate for Authorizer {
    async fn authenticate(&self, credential: &Credential) -> Result<Principal> {
        match credential {
            Credential::Token(token) => self.authenticate_jwt(token).await,
            Credential::Basic { .. } => Err(Error::Unauthenticated(AuthFailure::Invalid)),
        }
    }

    fn authorizer(&self) -> &Authorizer {
        self
    }
}
