//! Which use-cases give or restore access, decided once: an actor with a second factor
//! enrolled performs them only within the step-up window of its last proof of one.
//!
//! Every surface inherits the decision: the use-case refuses `StepUpRequired` itself, as it
//! refuses a target outside the actor (containment), so no route can forget to ask.

use crate::authn::facet::Sessions;
use crate::authz::authorizer::Principal;
use crate::error::{Error, Result};

/// A use-case that gives or restores access, or acts on another user's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Sensitive {
    /// Creating a user who holds a role from the start (a member with its role too).
    CreateUserWithRoles,
    /// Changing which roles a user holds (one's own included).
    EditUserRoles,
    /// Changing another user's profile or contact addresses.
    EditOtherUser,
    /// Setting any password but one's own with one's old one (another user's, or one's
    /// own without the old one).
    SetPassword,
    /// Granting privileges to a role, or revoking them.
    Grant,
    /// Changing which roles a role includes.
    IncludeRoles,
    /// Assigning a role to a user.
    AssignRole,
    /// Revoking a user's assignment.
    RevokeRole,
    /// Enabling or disabling a role (enabling gives its privileges back to every member).
    SetRoleEnabled,
    /// Enabling or disabling a user.
    SetUserEnabled,
    /// Deleting a user.
    DeleteUser,
    /// Deleting a role.
    DeleteRole,
    /// Requiring a second factor of a role's members, or lifting the requirement.
    RequireSecondFactor,
    /// Removing another user's second factors.
    ResetSecondFactors,
    /// Ending another user's sessions.
    EndOthersSessions,
    /// Deleting an API key another user owns.
    OthersKeys,
}

impl Sensitive {
    /// Every sensitive use-case: the one list every surface's step-up marks come from.
    pub const ALL: &'static [Sensitive] = &[
        Sensitive::CreateUserWithRoles,
        Sensitive::EditUserRoles,
        Sensitive::EditOtherUser,
        Sensitive::SetPassword,
        Sensitive::Grant,
        Sensitive::IncludeRoles,
        Sensitive::AssignRole,
        Sensitive::RevokeRole,
        Sensitive::SetRoleEnabled,
        Sensitive::SetUserEnabled,
        Sensitive::DeleteUser,
        Sensitive::DeleteRole,
        Sensitive::RequireSecondFactor,
        Sensitive::ResetSecondFactors,
        Sensitive::EndOthersSessions,
        Sensitive::OthersKeys,
    ];

    /// What the use-case does, in words (for documentation and refusals).
    pub fn describe(self) -> &'static str {
        match self {
            Sensitive::CreateUserWithRoles => "create a user holding a role",
            Sensitive::EditUserRoles => "change a user's roles",
            Sensitive::EditOtherUser => "change another user",
            Sensitive::SetPassword => "set a password other than one's own with the old one",
            Sensitive::Grant => "grant or revoke a role's privileges",
            Sensitive::IncludeRoles => "change the roles a role includes",
            Sensitive::AssignRole => "assign a role",
            Sensitive::RevokeRole => "revoke an assignment",
            Sensitive::SetRoleEnabled => "enable or disable a role",
            Sensitive::SetUserEnabled => "enable or disable a user",
            Sensitive::DeleteUser => "delete a user",
            Sensitive::DeleteRole => "delete a role",
            Sensitive::RequireSecondFactor => "require a second factor of a role",
            Sensitive::ResetSecondFactors => "remove another user's second factors",
            Sensitive::EndOthersSessions => "end another user's sessions",
            Sensitive::OthersKeys => "revoke another user's API key",
        }
    }
}

/// The step-up check belongs to the sessions: it reads what a session's login proved.
impl Sessions<'_> {
    /// Refuses `StepUpRequired` unless `actor` may perform the sensitive use-case `what`
    /// now: an actor with a second factor enrolled must have proven one within the step-up
    /// window ([`RbacConfig::step_up`](super::RbacConfig::step_up)); an actor without one
    /// is not asked (it has nothing to prove). An API key proves no factor: refused.
    pub fn ensure_fresh(&self, actor: &Principal, what: Sensitive) -> Result<()> {
        if !actor.second_factor_enrolled {
            return Ok(());
        }
        let window = i64::try_from(self.rbac.inner.config.step_up.as_secs()).unwrap_or(i64::MAX);
        let fresh = actor.factors.has_second_factor()
            && crate::now().saturating_sub(actor.verified_at) <= window;
        if fresh {
            return Ok(());
        }
        tracing::debug!(
            user = %actor.user_name,
            action = what.describe(),
            "a fresh second factor is required"
        );
        Err(Error::StepUpRequired {
            within: Some(window),
        })
    }

    /// [`Sessions::ensure_fresh`] when `actor` acts on another user than itself.
    pub(crate) fn ensure_fresh_on(
        &self,
        actor: &Principal,
        target: crate::model::UserId,
        what: Sensitive,
    ) -> Result<()> {
        if target == actor.user_id {
            return Ok(());
        }
        self.ensure_fresh(actor, what)
    }
}
