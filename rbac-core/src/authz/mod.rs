//! Authorization: privilege codes and their registry, scopes, role inclusion, and the
//! authorizer that keeps the role snapshot and checks requests against it.

pub(crate) mod authorizer;
pub mod inclusion;
pub(crate) mod port;
pub(crate) mod privilege;
pub(crate) mod scope;
