//! Passkeys (WebAuthn): the relying party a deployment is, the credentials users register,
//! the ceremonies in flight, and the storage port for both.
//!
//! The cryptography is `webauthn-rs`'s; what is stored here is its serialised credential
//! (public key, sign counter, backup flags) beside the columns a listing shows, and the
//! state of each ceremony, kept server side and used once.

use async_trait::async_trait;

use crate::error::StoreError;
use crate::model::{Journal, Timestamp, UserId};

/// The most passkeys one user may register.
pub const PASSKEYS_PER_USER: usize = 10;

/// The relying party: the site passkeys are bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    /// The RP id: a registrable domain (`localhost`, `example.com`), never an IP address.
    pub id: String,
    /// The origin browsers sign in from (`https://auth.example.com`,
    /// `http://localhost:8080`); its host must be the RP id or a subdomain of it.
    pub origin: String,
    /// The name authenticators show.
    pub name: String,
    /// Accept the origin's host on any port (for a development server on a port chosen at
    /// start); off, the port must match too.
    pub any_port: bool,
}

impl RelyingParty {
    #[cfg(feature = "passkeys")]
    /// Checks the RP id and origin and builds the WebAuthn verifier.
    pub fn verifier(&self) -> Result<webauthn_rs::Webauthn, String> {
        if self.id.parse::<std::net::IpAddr>().is_ok()
            || self
                .id
                .trim_matches(['[', ']'])
                .parse::<std::net::Ipv6Addr>()
                .is_ok()
        {
            return Err(format!(
                "the relying-party id {} is an IP address: WebAuthn needs a domain name",
                self.id
            ));
        }
        let origin = webauthn_rs::prelude::Url::parse(&self.origin)
            .map_err(|e| format!("the relying-party origin {}: {e}", self.origin))?;
        webauthn_rs::WebauthnBuilder::new(&self.id, &origin)
            .map_err(|e| {
                format!(
                    "the relying-party origin {} does not belong to id {}: {e}",
                    self.origin, self.id
                )
            })?
            .rp_name(&self.name)
            .allow_any_port(self.any_port)
            .build()
            .map_err(|e| format!("the relying party: {e}"))
    }
}

/// A registered passkey as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// Its id (0 before it is stored).
    pub id: i64,
    /// Whose passkey.
    pub user_id: UserId,
    /// The WebAuthn credential id, base64url (what an assertion names).
    pub credential_id: String,
    /// The user handle the authenticator keeps (base64url of a random UUID per user).
    pub user_handle: String,
    /// The name its owner gave it.
    pub name: String,
    /// The verifier's serialised credential: public key, sign counter, backup flags.
    pub credential: String,
    /// The last sign counter seen (0: the authenticator keeps none, as synced passkeys).
    pub counter: i64,
    /// The authenticator may back it up (a synced passkey).
    pub backup_eligible: bool,
    /// It is backed up now.
    pub backup_state: bool,
    /// When it was registered.
    pub created_at: Timestamp,
    /// When it last signed in (0: never).
    pub last_used_at: Timestamp,
}

/// Why a ceremony was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CeremonyPurpose {
    /// Registering a passkey for the user.
    Register,
    /// Asserting a passkey of the user (a login's second step, a step-up).
    Assert,
    /// Asserting any discoverable passkey (passwordless sign-in: the user is not known yet).
    Discover,
}

impl CeremonyPurpose {
    /// The stored number.
    pub fn as_i16(self) -> i16 {
        match self {
            CeremonyPurpose::Register => 1,
            CeremonyPurpose::Assert => 2,
            CeremonyPurpose::Discover => 3,
        }
    }

    /// From the stored number.
    pub fn from_i16(n: i16) -> Option<Self> {
        match n {
            1 => Some(CeremonyPurpose::Register),
            2 => Some(CeremonyPurpose::Assert),
            3 => Some(CeremonyPurpose::Discover),
            _ => None,
        }
    }
}

/// A WebAuthn ceremony in flight: the verifier's state, kept server side, used once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    /// Its id: a digest naming what it belongs to (a session, a login challenge, a token).
    pub id: String,
    /// The user it is for (`None` for a discoverable sign-in).
    pub user_id: Option<UserId>,
    /// What it is for.
    pub purpose: CeremonyPurpose,
    /// The verifier's serialised state.
    pub state: String,
    /// When it expires.
    pub expires_at: Timestamp,
}

/// Storage of passkeys and their ceremonies.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// A user's passkeys, oldest first.
    async fn passkeys(&self, user: UserId) -> Result<Vec<PasskeyRecord>, StoreError>;
    /// How many passkeys a user has (read on every login and session load: a backend
    /// answers it without reading the credentials).
    async fn count_passkeys(&self, user: UserId) -> Result<u64, StoreError> {
        Ok(self.passkeys(user).await?.len() as u64)
    }
    /// The passkey with a credential id.
    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<PasskeyRecord>, StoreError>;
    /// Stores a new passkey with its journal and, with `end_sessions_but`, revokes every
    /// other live session of its user (a first factor ends the sessions a password alone
    /// opened), in one transaction; `Conflict(Other)` (nothing written, nothing revoked) if
    /// its credential id is registered already, `NotFound(User)` without the user.
    async fn add_passkey(
        &self,
        passkey: &PasskeyRecord,
        end_sessions_but: Option<&str>,
        journal: &Journal,
    ) -> Result<i64, StoreError>;
    /// Records a sign-in with a passkey: its updated credential, counter and backup state,
    /// only if the stored counter is still `seen` (of two racing uses, one records); `false`
    /// if it did not match (or the passkey is gone).
    async fn record_passkey_use(
        &self,
        passkey: &PasskeyRecord,
        seen: i64,
    ) -> Result<bool, StoreError>;
    /// Removes one of the user's passkeys; `false` if the user has none with that id.
    async fn remove_passkey(
        &self,
        user: UserId,
        id: i64,
        journal: &Journal,
    ) -> Result<bool, StoreError>;
    /// Removes every second factor of the user (TOTP, recovery codes, passkeys) and writes
    /// the journal, in one transaction; `false` (nothing written) if there was none.
    async fn remove_second_factors(
        &self,
        user: UserId,
        journal: &Journal,
    ) -> Result<bool, StoreError>;
    /// Stores a ceremony (its id is new: a digest of a random token).
    async fn put_ceremony(&self, ceremony: &Ceremony) -> Result<(), StoreError>;
    /// Deletes the ceremonies that expired before `before`; how many.
    async fn purge_ceremonies(&self, before: Timestamp) -> Result<u64, StoreError>;
    /// Takes a ceremony, deleting it: of two takers, one gets it.
    async fn take_ceremony(&self, id: &str) -> Result<Option<Ceremony>, StoreError>;
}
