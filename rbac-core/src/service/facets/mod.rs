//! The calls an application makes, grouped by what they act on: `rbac.users()`,
//! `.roles()`, `.assignments()`, `.sessions()`, `.factors()`, `.keys()` and `.audit()`.
//! Each facet is a borrowed view of the services, free to make per call.

pub use crate::admin::assignments_facet::Assignments;
pub use crate::admin::roles_facet::Roles;
pub use crate::admin::users_facet::Users;
pub use crate::audit::facet::Audit;
pub use crate::authn::facet::Sessions;
pub use crate::factors::facet::SecondFactors;
#[cfg(feature = "api-keys")]
pub use crate::keys::facet::{Keys, PROJECT_KEY_CHARS, PROJECT_SECRET_CHARS};

use super::Rbac;

impl Rbac {
    /// Users: creating, editing, enabling, deleting, passwords, listing and imports.
    pub fn users(&self) -> Users<'_> {
        Users { rbac: self }
    }

    /// Roles: creating and defining, granting privileges, including roles, enabling.
    pub fn roles(&self) -> Roles<'_> {
        Roles { rbac: self }
    }

    /// Assignments: which roles users hold, globally or in a scope, and scope parents.
    pub fn assignments(&self) -> Assignments<'_> {
        Assignments { rbac: self }
    }

    /// Sessions: logging in and out, tokens, step-up, and ending sessions.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { rbac: self }
    }

    /// Second factors: TOTP, recovery codes and passkeys.
    pub fn factors(&self) -> SecondFactors<'_> {
        SecondFactors { rbac: self }
    }

    #[cfg(feature = "api-keys")]
    /// API keys, each owned by a user within a scope.
    pub fn keys(&self) -> Keys<'_> {
        Keys { rbac: self }
    }

    /// The audit trail, security events and their webhook deliveries.
    pub fn audit(&self) -> Audit<'_> {
        Audit { rbac: self }
    }
}
