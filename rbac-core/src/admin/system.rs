//! The system as an actor: what an application seeds and migrates with, before any user
//! can sign in, without a password, a login or a token.

use std::sync::Arc;

use crate::authz::authorizer::Principal;
use crate::authz::scope::Assignment;
use crate::error::Result;
use crate::model::{now, Factors, SessionKind, UserId};
use crate::service::{Rbac, ADMIN};

/// The user id of the system principal: no user has it (stored ids start at 1), so no
/// credential ever authenticates as the system.
pub const SYSTEM_USER_ID: UserId = 0;

/// The name the system principal is audited under.
pub const SYSTEM_NAME: &str = "system";

impl Rbac {
    /// The system itself, for seeding and migrations: it holds the `admin` role everywhere
    /// (every privilege), acts where the built-in admin may, is never asked for a second
    /// factor, and is audited as `system`. Only code holding the [`Rbac`] obtains it; no
    /// credential authenticates as it.
    pub async fn system(&self) -> Result<Principal> {
        let role = self.system_role(ADMIN).await?;
        let grants = self
            .inner
            .authorizer
            .grants_for(&[Assignment::global(role.id)])
            .await?;
        Ok(Principal {
            user_id: SYSTEM_USER_ID,
            user_name: Arc::from(SYSTEM_NAME),
            grants,
            session_id: Arc::from(""),
            kind: SessionKind::Jwt,
            factors: Factors::NONE,
            verified_at: now(),
            enrolment_required: false,
            second_factor_enrolled: false,
        })
    }

    /// Whether `actor` is the system principal ([`Rbac::system`]).
    pub fn is_system(&self, actor: &Principal) -> bool {
        actor.user_id == SYSTEM_USER_ID && &*actor.user_name == SYSTEM_NAME
    }
}
