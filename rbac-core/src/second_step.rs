//! The challenge a login's second step completes: below the services, so that an error can
//! carry it without the errors depending on the services.

use crate::ids::Timestamp;

/// A login awaiting its second factor. Its `Debug` does not show the token.
#[derive(Clone)]
pub struct Challenge {
    /// The single-use token that completes the login (only its hash is stored).
    pub token: String,
    /// When it expires.
    pub expires_at: Timestamp,
    /// The factors that can complete it (`totp`, `recovery_code`, `passkey`).
    pub methods: Vec<&'static str>,
    /// With a passkey among them: the options for `navigator.credentials.get()`.
    pub passkey: Option<serde_json::Value>,
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenge")
            .field("expires_at", &self.expires_at)
            .field("methods", &self.methods)
            .finish_non_exhaustive()
    }
}
