//! API keys: creating, listing and deleting them (`rbac.keys()`), and the request meter
//! that counts a key's requests against its daily quota across instances (the
//! authorizer's key cache delegates to it).

#[cfg(feature = "api-keys")]
pub mod meter;

#[cfg(feature = "api-keys")]
pub(crate) mod facet;
pub(crate) mod port;
