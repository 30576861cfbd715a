//! `rbac.users()`.

use crate::authz::authorizer::Principal;
use crate::error::Result;
use crate::model::*;
use crate::service::*;

/// Users: `rbac.users()`.
#[derive(Clone, Copy)]
pub struct Users<'a> {
    pub(super) rbac: &'a Rbac,
}

impl Users<'_> {
    /// Creates a user. `actor` `None` is self-registration (no role beyond `input.role_name`
    /// chosen by the surface); otherwise the actor needs UserAdd and may hand out only a
    /// role whose privileges it holds.
    pub async fn create(self, actor: Option<&Principal>, input: UserInput) -> Result<User> {
        self.rbac.create_user(actor, input).await
    }

    /// A self-registration from the client at `address`: counted against the hourly
    /// sign-up limit (before any hashing), then created with the role the surface chose.
    pub async fn sign_up(self, input: UserInput, address: &str) -> Result<User> {
        self.rbac.sign_up(input, address).await
    }

    /// Changes the fields given. Editing another user needs UserEdit and a user that lies
    /// within the actor; changing a role needs UserEdit and a role the actor could grant;
    /// the built-in admin keeps its role. The write lands only on the user as it was read
    /// and judged; one that changed meanwhile (disabled, promoted) is read and judged again.
    pub async fn edit(self, actor: &Principal, name: &str, edit: UserEdit) -> Result<User> {
        self.rbac.edit_user(actor, name, edit).await
    }

    /// Deletes a user (needs UserDelete); never oneself, the built-in admin, or a user
    /// stronger than the actor.
    pub async fn delete(self, actor: &Principal, name: &str) -> Result<()> {
        self.rbac.delete_user(actor, name).await
    }

    /// Deletes a user already looked up; `false` if it was gone already.
    pub async fn delete_record(self, actor: &Principal, user: &User) -> Result<()> {
        self.rbac.delete_user_record(actor, user).await
    }

    /// Enables or disables a user (needs UserEnableOrDisable); never oneself, the built-in
    /// admin, or a user stronger than the actor. Disabling ends every session of the user.
    /// Enabling an enabled user lifts its failed-login lock (also on oneself, and on admin
    /// by admin).
    pub async fn set_enabled(self, actor: &Principal, name: &str, enabled: bool) -> Result<()> {
        self.rbac.set_user_enabled(actor, name, enabled).await
    }

    /// Lists users (needs UserAccess), with their role names.
    pub async fn list(self, actor: &Principal, query: &UserQuery) -> Result<Listing<UserView>> {
        self.rbac.list_users(actor, query).await
    }

    /// Lists users with role names, without a privilege check (the caller checked).
    pub async fn list_unchecked(self, query: &UserQuery) -> Result<Listing<UserView>> {
        self.rbac.list_users_unchecked(query).await
    }

    /// A user by id.
    pub async fn by_id(self, id: i64) -> Result<User> {
        self.rbac.user_by_id(id).await
    }

    /// The user named `name`, `NotFound(User)` if none.
    pub async fn named(self, name: &str) -> Result<User> {
        self.rbac.user_named(name).await
    }

    /// A user by name: oneself, or anyone with UserAccess.
    pub async fn view(self, actor: &Principal, name: &str) -> Result<User> {
        self.rbac.view_user(actor, name).await
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
        self.rbac
            .change_password_of(actor, name, old, new, address)
            .await
    }

    /// Deletes users by name (needs UserDelete). Unknown names are skipped (deleting is
    /// idempotent); if any name is the built-in admin, the actor, or a user stronger than
    /// the actor, nothing is deleted.
    pub async fn delete_many(self, actor: &Principal, names: &[String]) -> Result<u64> {
        self.rbac.delete_users(actor, names).await
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
        self.rbac.change_password(actor, old, new, address).await
    }

    /// Sets another user's password (needs UserEdit, and a user that lies within the
    /// actor); every session of that user ends.
    pub async fn reset_password(self, actor: &Principal, user_name: &str, new: &str) -> Result<()> {
        self.rbac.reset_password(actor, user_name, new).await
    }

    /// Imports a batch of users with existing password hashes in one transaction of the
    /// store (an operator's bulk import): invalid rows are reported and left out, names
    /// already present are skipped (a re-run resumes), e-mail and look-alike collisions are
    /// reported apart; one audit entry names the batch.
    pub async fn import(self, inputs: Vec<ImportedUser>) -> Result<ImportOutcome> {
        self.rbac.import_users(inputs).await
    }

    /// Creates a user with an existing password hash (an operator's import).
    pub async fn import_one(self, input: ImportedUser) -> Result<User> {
        self.rbac.import_user(input).await
    }

    /// Sets a user's password (an operator's reset); every session of the user ends.
    pub async fn set_password_as_operator(self, name: &str, password: &str) -> Result<()> {
        self.rbac.operator_set_password(name, password).await
    }

    /// Lifts an account's failed-login lock.
    pub async fn unlock(self, name: &str) -> Result<()> {
        self.rbac.unlock_account(name).await
    }

    /// Users matching `query` (needs UserAccess), read a chunk at a time.
    pub async fn rows(self, actor: &Principal, query: &UserQuery) -> Result<Rows<UserView>> {
        self.rbac.user_rows(actor, query).await
    }

    /// [`user_rows`](crate::service::Users::rows) without the privilege check (the caller checked).
    pub async fn rows_unchecked(self, query: &UserQuery) -> Result<Rows<UserView>> {
        self.rbac.user_rows_unchecked(query).await
    }

    /// Whether a user of this name (or one that folds to the same key) exists.
    pub async fn exists(self, name: &str) -> Result<bool> {
        self.rbac.user_exists(name).await
    }

    /// Whether an e-mail address is held with proof (a code): an unverified claim does not
    /// keep its owner from registering it.
    pub async fn email_taken(self, email: &str) -> Result<bool> {
        self.rbac.email_taken(email).await
    }
}
