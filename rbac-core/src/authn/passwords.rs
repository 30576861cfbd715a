//! Passwords set through the service: one's own (with the old one) and another user's (a
//! reset, within the actor and with a fresh second factor).

use super::facet::Sessions;
use crate::admin::users::USER_WRITE_ATTEMPTS;
use crate::authz::authorizer::Principal;
use crate::error::{AuthFailure, Error, Result, StoreError};
use crate::model::{AuditCategory, Change};
use crate::service::validate;

impl Sessions<'_> {
    /// Changes the caller's own password after checking the old one (a wrong one counts
    /// as a failed login from `address`); the caller's other sessions end at once.
    pub(crate) async fn change_password(
        self,
        actor: &Principal,
        old: &str,
        new: &str,
        address: &str,
    ) -> Result<()> {
        validate::password("new_password", new)?;
        let user = self
            .rbac
            .store()
            .user(actor.user_id)
            .await?
            .ok_or(Error::Unauthenticated(AuthFailure::UserGone))?;
        let name = user.name.clone();
        let (user, _) = match self.verify_attempt(&name, Some(user), old, address).await {
            Err(Error::BadCredentials) => return Err(Error::WrongPassword),
            other => other?,
        };
        let hash = self.rbac.inner.hasher.hash(new).await?;
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::Home,
                "change own password".into(),
            )
            .with(Change::User(user.id))
            .event_about(crate::events::kind::PASSWORD_CHANGED, &user.name, "");
        self.rbac
            .applying(&journal)
            .write(self.rbac.store().set_password(
                user.id,
                &hash,
                None,
                Some(&actor.session_id),
                &journal,
            ))
            .await?;
        Ok(())
    }

    /// Sets another user's password (needs UserEdit, and a user that lies within the
    /// actor); every session of that user ends.
    pub(crate) async fn reset_password(
        self,
        actor: &Principal,
        user_name: &str,
        new: &str,
    ) -> Result<()> {
        self.rbac.require(actor, &self.rbac.admin().user_edit)?;
        validate::password("new_password", new)?;
        // The hash takes a while: the write lands only on the user as it was judged, and a
        // user that changed meanwhile (promoted, say) is read and judged again.
        let mut hash: Option<String> = None;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let user = self
                .rbac
                .store()
                .user_by_name(user_name)
                .await?
                .ok_or(Error::NotFound(crate::Entity::User))?;
            self.rbac
                .containment()
                .ensure_user_within(actor, &user, "reset the password of")
                .await?;
            self.rbac
                .sessions()
                .ensure_fresh(actor, crate::service::Sensitive::SetPassword)?;
            let hash = match &hash {
                Some(hash) => hash,
                None => hash.insert(self.rbac.inner.hasher.hash(new).await?),
            };
            let keep = (user.id == actor.user_id).then_some(&*actor.session_id);
            let journal = self
                .rbac
                .journal(
                    Some(actor),
                    AuditCategory::System,
                    format!("reset password of user {}", user.name),
                )
                .with(Change::User(user.id))
                .event_about(crate::events::kind::PASSWORD_RESET, &user.name, "");
            match self
                .rbac
                .applying(&journal)
                .write(self.rbac.store().set_password(
                    user.id,
                    hash,
                    Some(user.updated_at),
                    keep,
                    &journal,
                ))
                .await
            {
                Err(StoreError::Violation(m))
                    if m == crate::admin::port::USER_CHANGED && attempt < USER_WRITE_ATTEMPTS =>
                {
                    continue
                }
                written => written?,
            }
            return Ok(());
        }
    }
}
