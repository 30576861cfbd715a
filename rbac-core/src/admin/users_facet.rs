//! `rbac.users()`.

use crate::authz::authorizer::Principal;
use crate::error::Result;
use crate::model::*;
use crate::service::*;

/// Users: `rbac.users()`.
#[derive(Clone, Copy)]
pub struct Users<'a> {
    pub(crate) rbac: &'a Rbac,
}

impl<'a> Users<'a> {
    /// A user by id.
    pub async fn by_id(self, id: i64) -> Result<User> {
        self.rbac.user_by_id(id).await
    }

    /// The user named `name`, `NotFound(User)` if none.
    pub async fn named(self, name: &str) -> Result<User> {
        self.rbac.user_named(name).await
    }

    /// Changes the caller's own password after checking the old one (a wrong one counts
    /// as a failed login from `address`); the caller's other sessions end at once.
    pub async fn change_password(
        self,
        actor: &Principal,
        old: &str,
        new: &str,
        address: &str,
    ) -> Result<()> {
        self.rbac
            .sessions()
            .change_password(actor, old, new, address)
            .await
    }

    /// Sets another user's password (needs UserEdit, and a user that lies within the
    /// actor); every session of that user ends.
    pub async fn reset_password(self, actor: &Principal, user_name: &str, new: &str) -> Result<()> {
        self.rbac
            .sessions()
            .reset_password(actor, user_name, new)
            .await
    }

    /// Users matching `query` (needs UserAccess), read a chunk at a time.
    pub async fn rows(self, actor: &Principal, query: &UserQuery) -> Result<Rows<UserView>> {
        crate::admin::listing::user_rows(self.rbac, actor, query).await
    }

    /// [`user_rows`](crate::service::Users::rows) without the privilege check (the caller checked).
    pub async fn rows_unchecked(self, query: &UserQuery) -> Result<Rows<UserView>> {
        crate::admin::listing::user_rows_unchecked(self.rbac, query).await
    }

    /// The password hasher users' passwords are hashed with (bounded: see its queue).
    pub fn hasher(self) -> &'a crate::authn::password::PasswordHasher {
        &self.rbac.inner.hasher
    }

    /// Whether a user of this name (or one that folds to the same key) exists.
    pub async fn exists(self, name: &str) -> Result<bool> {
        Ok(self.rbac.inner.store.user_by_name(name).await?.is_some())
    }

    /// Whether an e-mail address is held with proof (a code): an unverified claim does not
    /// keep its owner from registering it.
    pub async fn email_taken(self, email: &str) -> Result<bool> {
        Ok(self
            .rbac
            .inner
            .store
            .user_by_email(email)
            .await?
            .is_some_and(|holder| holder.email_verified))
    }

    /// Refuses (`Outranked`, audited) unless every privilege `target` holds, in every scope,
    /// is one `actor` holds (the built-in admin lies within admin alone): the check every
    /// user action here makes, for an application's own actions on a user. `action` says
    /// what was attempted, for the audit entry ("reset the password of").
    pub async fn ensure_within(self, actor: &Principal, target: &User, action: &str) -> Result<()> {
        self.rbac
            .containment()
            .ensure_user_within(actor, target, action)
            .await
    }
}
