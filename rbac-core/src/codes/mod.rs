//! One-time codes: a short code sent on a channel to an address, stored hashed under a key,
//! valid for a while, used once, and burned by too many wrong tries.

#[cfg(feature = "codes")]
mod facet;
pub(crate) mod port;

#[cfg(feature = "codes")]
pub use facet::{CodePolicy, CodeProof, Codes};
