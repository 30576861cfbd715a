//! `rbac.sessions()`: the authentication capability's face. Its use-cases are in `accounts.rs`
//! (login and sessions' tokens), `challenge.rs` (the second step and step-up), `sessions.rs`
//! (listing and ending sessions), `passwords.rs` and `throttle.rs`.

use crate::authz::authorizer::Principal;
use crate::error::Result;
use crate::service::*;

/// Sessions: `rbac.sessions()`.
#[derive(Clone, Copy)]
pub struct Sessions<'a> {
    pub(crate) rbac: &'a Rbac,
}

impl Sessions<'_> {
    /// Verifies a token (a JWT or an opaque sliding token) and its session.
    pub async fn authenticate(self, token: &str) -> Result<Principal> {
        self.rbac.authenticate(token).await
    }
}
