//! API keys: the request meter that counts a key's requests against its daily quota
//! across instances (the authorizer's key cache delegates to it, the `Keys` facet creates
//! and deletes keys).

pub mod meter;
