//! `rbac.factors()`: the second-factor capability's face. Its use-cases are in
//! `second_factor.rs` (TOTP and recovery codes) and `passkey_login.rs` (passkeys).

use crate::error::Result;
use crate::model::*;
use crate::service::*;

/// SecondFactors: `rbac.factors()`.
#[derive(Clone, Copy)]
pub struct SecondFactors<'a> {
    pub(crate) rbac: &'a Rbac,
}

impl SecondFactors<'_> {
    /// The factors beyond a password that the user has enrolled (none: a password alone
    /// logs them in).
    pub async fn methods(self, user: UserId) -> Result<Vec<&'static str>> {
        self.rbac.sessions().second_factor_methods(user).await
    }
}

/// Without the `passkeys` feature no assertion proves anything. A user's registered
/// passkeys still count among their factors, so a password alone never completes their
/// login: failing closed, never open.
#[cfg(not(feature = "passkeys"))]
impl SecondFactors<'_> {
    pub(crate) async fn verify_passkey(
        self,
        _user: &crate::model::User,
        _token: &str,
        _bound: &str,
        _assertion: &serde_json::Value,
    ) -> Result<Option<crate::model::Factors>> {
        Ok(None)
    }
}
