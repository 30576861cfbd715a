//! API keys: creating, listing and deleting them (`rbac.keys()`), and the request meter
//! that counts a key's requests against its daily quota across instances (the
//! authorizer's key cache delegates to it).

pub mod meter;

pub(crate) mod facet;
