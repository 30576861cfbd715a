//! Sessions: the server-side record of one login, and how its credential is presented.

use crate::ids::{now, Timestamp, UserId};

pub(crate) use crate::factors::{Factors, TotpFactor};

/// How a session's credential is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionKind {
    /// A signed JWT whose `sid` claim is the session id.
    Jwt = 1,
    /// An opaque random token whose SHA-256 is the session id.
    Opaque = 2,
    /// An API key and its secret (no stored session; the principal acts as the key's
    /// owner).
    ApiKey = 3,
    /// A login whose password was right and whose second factor is awaited: a
    /// short-lived, single-use challenge that never authenticates a request.
    Challenge = 4,
}

impl SessionKind {
    /// The stored number.
    pub fn as_i16(self) -> i16 {
        self as i16
    }

    /// From the stored number.
    pub fn from_i16(v: i16) -> Self {
        match v {
            2 => SessionKind::Opaque,
            3 => SessionKind::ApiKey,
            4 => SessionKind::Challenge,
            _ => SessionKind::Jwt,
        }
    }
}

/// The server-side record of one login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The JWT `sid`, or the hex SHA-256 of an opaque token.
    pub id: String,
    /// The session's user.
    pub user_id: UserId,
    /// How the credential is presented.
    pub kind: SessionKind,
    /// Issue time.
    pub issued_at: Timestamp,
    /// Expiry time (extended by sliding sessions).
    pub expires_at: Timestamp,
    /// Last use recorded in the store.
    pub last_seen: Timestamp,
    /// Revoked sessions never authenticate again.
    pub revoked: bool,
    /// Client address at login.
    pub ip: String,
    /// The factors the login proved.
    pub factors: Factors,
    /// When they were proven (the login, or a later step-up).
    pub verified_at: Timestamp,
    /// The client's `User-Agent` at login (at most 256 characters).
    pub user_agent: String,
}

impl Session {
    /// A live session of `user_id` begun now by a password, until `expires_at` (no client
    /// address or agent recorded): what an application that keeps its own sessions stores
    /// for the layer to read.
    pub fn new(
        id: impl Into<String>,
        user_id: UserId,
        kind: SessionKind,
        expires_at: Timestamp,
    ) -> Self {
        let t = now();
        Session {
            id: id.into(),
            user_id,
            kind,
            issued_at: t,
            expires_at,
            last_seen: t,
            revoked: false,
            ip: String::new(),
            factors: Factors::PASSWORD,
            verified_at: t,
            user_agent: String::new(),
        }
    }
}
