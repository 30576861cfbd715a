//! One-time codes and API keys with their request counts.

use std::fmt;

use crate::ids::{Timestamp, UserId};

/// A one-time verification code as stored: the code itself only as a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationCode {
    /// What the code verifies and where it went (`sms-register:<phone>`, …).
    pub key: String,
    /// Hex SHA-256 of the key and the code.
    pub digest: String,
    /// What the code was issued for (a tenant, …); it must match on use.
    pub context: String,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// When it stops being accepted.
    pub expires_at: Timestamp,
}

/// What using a verification code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeCheck {
    /// The code matched; it is deleted and can never be used again.
    Accepted,
    /// The code did not match; the attempt counted, and `burned` says the code is gone.
    Wrong {
        /// Whether this attempt was the last one the code allowed.
        burned: bool,
    },
    /// The code expired (and is deleted).
    Expired,
    /// No code is pending for the key.
    Missing,
    /// A code is pending but was issued for another context; no attempt is counted.
    OtherContext,
}

/// An API key's id.
pub type ApiKeyId = i64;

/// An API key: a key and secret a user's programs call with, acting as that user, and its
/// request counters (against a daily limit when it has one).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Store-assigned id.
    pub id: ApiKeyId,
    /// The user who owns it: requests made with it act as this user.
    pub owner_id: UserId,
    /// Display name.
    pub name: String,
    /// The key (unique).
    pub key: String,
    /// The secret. Shown to its owner, never logged.
    pub secret: String,
    /// A revoked key no longer authenticates; it is not listed.
    pub revoked: bool,
    /// Requests allowed per UTC day across every instance; `None`: counted, not limited.
    pub daily_limit: Option<i64>,
    /// Requests ever counted.
    pub request_total: i64,
    /// Requests counted on `request_day`.
    pub request_today: i64,
    /// The UTC day (days since the epoch) `request_today` counts.
    pub request_day: i64,
    /// Creation time.
    pub created_at: Timestamp,
}

impl ApiKey {
    /// Requests counted on UTC day `day` (0 when the counters last counted another day).
    pub fn requests_on(&self, day: i64) -> i64 {
        if self.request_day == day {
            self.request_today
        } else {
            0
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("owner_id", &self.owner_id)
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .field("revoked", &self.revoked)
            .field("daily_limit", &self.daily_limit)
            .finish_non_exhaustive()
    }
}

/// The UTC day number of a time (days since 1970-01-01).
pub fn utc_day(at: Timestamp) -> i64 {
    at.div_euclid(86_400)
}

/// Requests to add to one API key's counters, counted on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCount {
    /// The key.
    pub key: ApiKeyId,
    /// The UTC day the requests were made.
    pub day: i64,
    /// How many.
    pub requests: i64,
}
