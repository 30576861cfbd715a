//! Administration: users, roles, grants and assignments, with containment (no one acts on
//! someone stronger), listings, imports, the system actor and the seeded roles.

pub(crate) mod assignments;
pub(crate) mod assignments_facet;
pub(crate) mod bootstrap;
pub(crate) mod containment;
pub(crate) mod inclusion;
pub(crate) mod listing;
pub(crate) mod named;
pub(crate) mod operator;
pub(crate) mod port;
pub(crate) mod registration;
pub(crate) mod roles;
pub(crate) mod roles_facet;
pub(crate) mod users;
pub(crate) mod users_facet;
pub mod validate;
pub(crate) mod vocabulary;
