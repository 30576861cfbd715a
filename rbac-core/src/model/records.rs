//! The documents' records the library still keeps: one-time codes and projects with their
//! request counts.

use std::fmt;

use crate::ids::{Timestamp, UserId};

/// A one-time verification code as stored: the code itself only as a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationCode {
    /// What the code verifies and where it went (`sms-register:<phone>`, …).
    pub key: String,
    /// Hex SHA-256 of the key and the code.
    pub digest: String,
    /// What the code was issued for (an organisation id, …); it must match on use.
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

/// A project's id.
pub type ProjectId = i64;

/// A project: an API key and secret its owner's programs call with, and their request
/// counters.
#[derive(Clone, PartialEq, Eq)]
pub struct Project {
    /// Store-assigned id.
    pub id: ProjectId,
    /// The user who owns it.
    pub owner_id: UserId,
    /// Display name (`project_name`).
    pub name: String,
    /// The document's `project_type`.
    pub kind: i32,
    /// The API key (16 characters, unique).
    pub key: String,
    /// The API secret (48 characters). Rendered to its owner, never logged.
    pub secret: String,
    /// A deleted project's key no longer authenticates; it is not listed.
    pub deleted: bool,
    /// Requests ever counted.
    pub request_total: i64,
    /// Requests counted on `request_day`.
    pub request_today: i64,
    /// The UTC day (days since the epoch) `request_today` counts.
    pub request_day: i64,
    /// Requests allowed per UTC day.
    pub request_max: i64,
    /// Resource pool (`pool_id`; 0 = none).
    pub pool_id: i64,
    /// Resource pool name.
    pub pool_name: String,
    /// Creation time.
    pub created_at: Timestamp,
}

impl fmt::Debug for Project {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Project")
            .field("id", &self.id)
            .field("owner_id", &self.owner_id)
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .field("deleted", &self.deleted)
            .finish_non_exhaustive()
    }
}

/// The UTC day number of a time (days since 1970-01-01).
pub fn utc_day(at: Timestamp) -> i64 {
    at.div_euclid(86_400)
}

/// Requests to add to one project's counters, counted on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCount {
    /// The project.
    pub project: ProjectId,
    /// The UTC day the requests were made.
    pub day: i64,
    /// How many.
    pub requests: i64,
}
