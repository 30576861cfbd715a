//! The plain values every record names: ids and time. Below the model, so that the model,
//! scopes and events can all name them without naming each other.

/// A user's id.
pub type UserId = i64;
/// A role's id.
pub type RoleId = i64;

/// Seconds since the Unix epoch.
pub type Timestamp = i64;

/// The current time in seconds since the Unix epoch.
pub fn now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
