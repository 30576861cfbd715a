//! Users addressed by name: read, change password and delete, with "oneself, or an
//! administrator" rules.

use super::users_facet::Users;
use crate::authz::authorizer::Principal;
use crate::error::{Entity, Error, Result};
use crate::model::{AuditCategory, Change, User};
use crate::service::{validate, ADMIN};

impl Users<'_> {
    /// A user by name: oneself, or anyone with UserAccess.
    pub async fn view(self, actor: &Principal, name: &str) -> Result<User> {
        if name != &*actor.user_name {
            self.rbac.require(actor, &self.rbac.admin().user_access)?;
        }
        self.rbac.user_named(name).await
    }

    /// Changes a user's password given the old one: oneself, or another user with
    /// UserEdit on a user that lies within the actor. The user's other sessions end (all of
    /// them when it is another user).
    pub async fn change_password_of(
        self,
        actor: &Principal,
        name: &str,
        old: &str,
        new: &str,
        address: &str,
    ) -> Result<()> {
        let own = name == &*actor.user_name;
        if !own {
            self.rbac.require(actor, &self.rbac.admin().user_edit)?;
        }
        validate::password("newPassword", new)?;
        let user = self.rbac.user_named(name).await?;
        self.rbac
            .containment()
            .ensure_user_within(actor, &user, "change the password of")
            .await?;
        if !own {
            self.rbac
                .sessions()
                .ensure_fresh(actor, crate::service::Sensitive::SetPassword)?;
        }
        // A wrong old password counts as a failed login of that account from `address`.
        let account = user.name.clone();
        let (user, _) = match self
            .rbac
            .sessions()
            .verify_attempt(&account, Some(user), old, address)
            .await
        {
            Err(Error::BadCredentials) => return Err(Error::WrongPassword),
            other => other?,
        };
        let hash = self.rbac.inner.hasher.hash(new).await?;
        let keep = own.then_some(&*actor.session_id);
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::Home,
                format!("change password of user {name}"),
            )
            .with(Change::User(user.id))
            .event_about(
                if own {
                    crate::events::kind::PASSWORD_CHANGED
                } else {
                    crate::events::kind::PASSWORD_RESET
                },
                name,
                "",
            );
        self.rbac
            .applying(&journal)
            .write(
                self.rbac
                    .store()
                    .set_password(user.id, &hash, None, keep, &journal),
            )
            .await?;
        Ok(())
    }

    /// Deletes users by name (needs UserDelete). Unknown names are skipped (deleting is
    /// idempotent); if any name is the built-in admin, the actor, or a user stronger than
    /// the actor, nothing is deleted.
    pub async fn delete_many(self, actor: &Principal, names: &[String]) -> Result<u64> {
        self.rbac.require(actor, &self.rbac.admin().user_delete)?;
        self.rbac
            .sessions()
            .ensure_fresh(actor, crate::service::Sensitive::DeleteUser)?;
        let mut targets = Vec::with_capacity(names.len());
        for name in names {
            if name == ADMIN {
                return Err(Error::Violation(
                    "the built-in admin cannot be deleted".into(),
                ));
            }
            if name == &*actor.user_name {
                return Err(Error::Violation("a user cannot delete itself".into()));
            }
            match self.rbac.user_named(name).await {
                Ok(u) => targets.push(u),
                Err(Error::NotFound(Entity::User)) => {}
                Err(e) => return Err(e),
            }
        }
        // All or nothing: every target must lie within the actor before any is deleted.
        for user in &targets {
            self.rbac
                .containment()
                .ensure_user_within(actor, user, "delete")
                .await?;
        }
        let mut deleted = 0;
        for user in &targets {
            self.delete_record(actor, user).await?;
            deleted += 1;
        }
        Ok(deleted)
    }
}
