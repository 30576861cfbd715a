//! User administration: create, edit, delete, enable/disable, list.

use std::collections::BTreeMap;

use super::port::next_updated_at;
use super::users_facet::Users;
use crate::authz::authorizer::Principal;
use crate::error::{Error, Result};
use crate::model::{now, AuditCategory, Change, Listing, Revoke, Role, User, UserQuery};
use crate::service::{validate, Sensitive, ADMIN};

/// A user to create.
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    /// Login name.
    pub name: String,
    /// Display name.
    pub alias: String,
    /// Phone number.
    pub phone: String,
    /// E-mail address (empty: none).
    pub email: String,
    /// Password.
    pub password: String,
    /// Description.
    pub remark: String,
    /// The roles to hold everywhere, by name, in order (empty: none).
    pub roles: Vec<String>,
    /// The tenant the user belongs to (see `User::tenant`).
    pub tenant: Option<crate::authz::scope::Scope>,
    /// Further profile attributes.
    pub attributes: BTreeMap<String, String>,
}

/// How many times a read-modify-write of a user is tried while others write it meanwhile.
pub(crate) const USER_WRITE_ATTEMPTS: u32 = 3;

/// Whether the store refused a user write because the user changed since it was read.
fn user_changed(e: &Error) -> bool {
    matches!(e, Error::Violation(m) if m == super::port::USER_CHANGED)
}

/// Fields to change on a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserEdit {
    /// Display name.
    pub alias: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// E-mail address (empty clears it).
    pub email: Option<String>,
    /// New password.
    pub password: Option<String>,
    /// Description.
    pub remark: Option<String>,
    /// The roles to hold everywhere, by name, in order (empty removes every global role;
    /// roles held within scopes stay).
    pub roles: Option<Vec<String>>,
}

/// A user with its role names, for rendering.
#[derive(Debug, Clone)]
pub struct UserView {
    /// The user.
    pub user: User,
    /// The names of the roles it holds everywhere, in the order assigned.
    pub role_names: Vec<String>,
}

impl Users<'_> {
    /// Refuses to hand out a role whose privileges (its own and its included roles') the
    /// actor does not hold itself.
    async fn check_grantable(self, actor: Option<&Principal>, role: &Role) -> Result<()> {
        let Some(actor) = actor else { return Ok(()) };
        let authorizer = &self.rbac.inner.authorizer;
        for included in &role.includes {
            authorizer.ensure_role(*included).await?;
        }
        let held = authorizer.privileges_of(actor);
        let wanted = self.rbac.containment().privileges_of_role(role);
        let missing = held.missing_from(&wanted).next();
        match missing {
            None => Ok(()),
            Some(p) => Err(Error::NotGrantable(
                authorizer.registry().code(p).unwrap_or("?").to_string(),
            )),
        }
    }
    /// Creates a user. `actor` `None` is self-registration (no role beyond `input.role_name`
    /// chosen by the surface); otherwise the actor needs UserAdd and may hand out only a
    /// role whose privileges it holds.
    pub async fn create(self, actor: Option<&Principal>, input: UserInput) -> Result<User> {
        if let Some(a) = actor {
            self.rbac.require(a, &self.rbac.admin().user_add)?;
        }
        validate::name("user_name", &input.name)?;
        validate::text("user_alias", &input.alias)?;
        validate::text("phone_number", &input.phone)?;
        validate::text("remark", &input.remark)?;
        validate::password("password", &input.password)?;
        if !input.email.is_empty() {
            validate::email("email", &input.email)?;
        }
        let roles = self.grantable_roles(actor, &input.roles).await?;
        if let Some(a) = actor.filter(|_| !roles.is_empty()) {
            self.rbac
                .sessions()
                .ensure_fresh(a, Sensitive::CreateUserWithRoles)?;
        }
        let mut user = User::blank(
            &input.name,
            self.rbac.inner.hasher.hash(&input.password).await?,
        );
        user.alias = input.alias;
        user.phone = input.phone;
        user.email = (!input.email.is_empty()).then_some(input.email);
        user.remark = input.remark;
        user.set_global_roles(roles.iter().map(|r| r.id));
        user.tenant = input.tenant;
        user.attributes = input.attributes;
        user.creator = actor.map_or_else(String::new, |a| a.user_name.to_string());
        let journal = self.rbac.journal(
            actor,
            AuditCategory::System,
            format!("create user {}", user.name),
        );
        let user = self.rbac.store().create_user(&user, &journal).await?;
        Ok(user)
    }

    /// A self-registration from the client at `address`: counted against the hourly
    /// sign-up limit (before any hashing), then created with the role the surface chose.
    pub async fn sign_up(self, input: UserInput, address: &str) -> Result<User> {
        self.rbac.limits().take_signup(address).await?;
        self.create(None, input).await
    }

    /// Changes the fields given. Editing another user needs UserEdit and a user that lies
    /// within the actor; changing a role needs UserEdit and a role the actor could grant;
    /// the built-in admin keeps its role. The write lands only on the user as it was read
    /// and judged; one that changed meanwhile (disabled, promoted) is read and judged again.
    pub async fn edit(self, actor: &Principal, name: &str, edit: UserEdit) -> Result<User> {
        // A new password is hashed once, after the first judgement, whatever the attempts.
        let mut hashed = None;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .edit_user_once(actor, name, edit.clone(), &mut hashed)
                .await
            {
                Err(e) if attempt < USER_WRITE_ATTEMPTS && user_changed(&e) => continue,
                done => return done,
            }
        }
    }

    async fn edit_user_once(
        self,
        actor: &Principal,
        name: &str,
        edit: UserEdit,
        hashed: &mut Option<String>,
    ) -> Result<User> {
        let stored = self.rbac.user_named(name).await?;
        let mut user = stored.clone();
        let own = user.id == actor.user_id;
        if !own || edit.roles.is_some() {
            self.rbac.require(actor, &self.rbac.admin().user_edit)?;
        }
        if let Some(alias) = edit.alias {
            validate::text("user_alias", &alias)?;
            user.alias = alias;
        }
        if let Some(phone) = edit.phone {
            validate::text("phone_number", &phone)?;
            if phone != user.phone {
                user.phone_verified = false;
            }
            user.phone = phone;
        }
        if let Some(remark) = edit.remark {
            validate::text("remark", &remark)?;
            user.remark = remark;
        }
        if let Some(email) = edit.email {
            if !email.is_empty() {
                validate::email("email", &email)?;
            }
            let same = user.email.as_deref().is_some_and(|old| {
                crate::identity::email_key(old) == crate::identity::email_key(&email)
            });
            if !same {
                user.email_verified = false;
            }
            user.email = (!email.is_empty()).then_some(email);
        }
        let mut changes = Vec::new();
        let mut roles_changed = false;
        if let Some(names) = &edit.roles {
            let roles = self.grantable_roles(Some(actor), names).await?;
            let before: Vec<_> = user.global_roles().collect();
            let after: Vec<_> = roles.iter().map(|r| r.id).collect();
            if before != after {
                if user.name == ADMIN {
                    return Err(Error::Violation("the built-in admin keeps its role".into()));
                }
                // What is removed lies within the actor: another user is checked whole
                // below; one's own roles are one's own.
                changes.push(Change::User(user.id));
                roles_changed = true;
            }
            user.set_global_roles(after);
        }
        if let Some(pw) = &edit.password {
            validate::password("password", pw)?;
        }
        if !own {
            // The stored user, not the edited copy: its role before this change.
            self.rbac
                .containment()
                .ensure_user_within(actor, &stored, "edit")
                .await?;
            self.rbac
                .sessions()
                .ensure_fresh(actor, Sensitive::EditOtherUser)?;
        }
        if roles_changed {
            self.rbac
                .sessions()
                .ensure_fresh(actor, Sensitive::EditUserRoles)?;
        }
        if edit.password.is_some() {
            self.rbac
                .sessions()
                .ensure_fresh(actor, Sensitive::SetPassword)?;
        }
        let hash = match (&edit.password, hashed.as_ref()) {
            (Some(_), Some(done)) => Some(done.clone()),
            (Some(pw), None) => Some(
                hashed
                    .insert(self.rbac.inner.hasher.hash(pw).await?)
                    .clone(),
            ),
            (None, _) => None,
        };
        let revoke = match &hash {
            Some(hash) => {
                user.password_hash = hash.clone();
                changes.push(Change::User(user.id));
                if own {
                    Revoke::AllBut(&actor.session_id)
                } else {
                    Revoke::All
                }
            }
            None => Revoke::Nothing,
        };
        user.updated_at = next_updated_at(stored.updated_at, now());
        let mut journal = self.rbac.journal(
            Some(actor),
            AuditCategory::System,
            format!("edit user {}", user.name),
        );
        changes.dedup();
        journal.changes = changes;
        if roles_changed {
            journal = journal.event_about(
                crate::events::kind::GRANT_CHANGED,
                &user.name,
                "roles replaced",
            );
        }
        if hash.is_some() {
            let kind = if own {
                crate::events::kind::PASSWORD_CHANGED
            } else {
                crate::events::kind::PASSWORD_RESET
            };
            journal = journal.event_about(kind, &user.name, "");
        }
        // One transaction: the profile, the roles, the new hash and the session cut land
        // together.
        if roles_changed {
            self.rbac
                .applying(&journal)
                .write(self.rbac.store().update_user_roles(
                    &user,
                    Some(stored.updated_at),
                    self.rbac.assignment_cap(),
                    revoke,
                    &journal,
                ))
                .await?;
        } else {
            self.rbac
                .applying(&journal)
                .write(self.rbac.store().update_user(
                    &user,
                    Some(stored.updated_at),
                    revoke,
                    &journal,
                ))
                .await?;
        }
        Ok(user)
    }

    /// The roles named, each one the actor could grant (all of them for `None`, a
    /// self-registration the surface chose roles for), duplicates dropped, order kept; more
    /// than the assignment cap is a violation.
    async fn grantable_roles(
        self,
        actor: Option<&Principal>,
        names: &[String],
    ) -> Result<Vec<Role>> {
        let mut roles: Vec<Role> = Vec::new();
        for name in names {
            let role = self.rbac.role_named(name).await?;
            if roles.iter().any(|r| r.id == role.id) {
                continue;
            }
            self.check_grantable(actor, &role).await?;
            roles.push(role);
        }
        if roles.len() > self.rbac.assignment_cap() {
            return Err(Error::Violation(format!(
                "a user holds at most {} roles",
                self.rbac.assignment_cap()
            )));
        }
        Ok(roles)
    }

    /// Deletes a user (needs UserDelete); never oneself, the built-in admin, or a user
    /// stronger than the actor.
    pub async fn delete(self, actor: &Principal, name: &str) -> Result<()> {
        self.rbac.require(actor, &self.rbac.admin().user_delete)?;
        let user = self.rbac.user_named(name).await?;
        self.delete_record(actor, &user).await
    }

    /// Deletes a user already looked up; `false` if it was gone already.
    pub async fn delete_record(self, actor: &Principal, user: &User) -> Result<()> {
        if user.name == ADMIN {
            return Err(Error::Violation(
                "the built-in admin cannot be deleted".into(),
            ));
        }
        if user.id == actor.user_id {
            return Err(Error::Violation("a user cannot delete itself".into()));
        }
        self.rbac
            .containment()
            .ensure_user_within(actor, user, "delete")
            .await?;
        self.rbac
            .sessions()
            .ensure_fresh(actor, Sensitive::DeleteUser)?;
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::System,
                format!("delete user {}", user.name),
            )
            .with(Change::User(user.id));
        self.rbac
            .applying(&journal)
            .write(self.rbac.store().delete_user(user.id, &journal))
            .await?;
        Ok(())
    }

    /// Enables or disables a user (needs UserEnableOrDisable); never oneself, the built-in
    /// admin, or a user stronger than the actor. Disabling ends every session of the user.
    /// Enabling an enabled user lifts its failed-login lock (also on oneself, and on admin
    /// by admin).
    pub async fn set_enabled(self, actor: &Principal, name: &str, enabled: bool) -> Result<()> {
        self.rbac.require(actor, &self.rbac.admin().user_enable)?;
        let user = self.rbac.user_named(name).await?;
        if enabled && user.enabled {
            // Enabling an enabled account only lifts its failed-login lock: allowed on
            // oneself, and on admin by admin, within the containment rule.
            self.rbac
                .containment()
                .ensure_user_within(actor, &user, "unlock")
                .await?;
            self.rbac
                .sessions()
                .ensure_fresh_on(actor, user.id, Sensitive::SetUserEnabled)?;
            self.rbac.sessions().unlock(&user.name).await?;
            let journal = self.rbac.journal(
                Some(actor),
                AuditCategory::System,
                format!("unlock user {}", user.name),
            );
            if let Some(entry) = &journal.audit {
                self.rbac.store().append_audit(entry).await?;
            }
            return Ok(());
        }
        if user.name == ADMIN {
            return Err(Error::Violation(
                "the built-in admin cannot be disabled".into(),
            ));
        }
        if user.id == actor.user_id {
            return Err(Error::Violation(
                "a user cannot disable or enable itself".into(),
            ));
        }
        let verb = if enabled { "enable" } else { "disable" };
        self.rbac
            .containment()
            .ensure_user_within(actor, &user, verb)
            .await?;
        self.rbac
            .sessions()
            .ensure_fresh(actor, Sensitive::SetUserEnabled)?;
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::System,
                format!("{verb} user {}", user.name),
            )
            .with(Change::User(user.id));
        // Disabling cuts every session in the same transaction: the next request fails.
        // Only `enabled` is written: the disable always lands, and writes nothing back.
        let revoke = if enabled {
            Revoke::Nothing
        } else {
            Revoke::All
        };
        self.rbac
            .applying(&journal)
            .write(
                self.rbac
                    .store()
                    .set_user_enabled(user.id, enabled, revoke, &journal),
            )
            .await?;
        if enabled {
            // Enabling is also the admin's unlock of a failed-login block.
            self.rbac.sessions().unlock(&user.name).await?;
        }
        Ok(())
    }

    /// Lists users (needs UserAccess), with their role names.
    pub async fn list(self, actor: &Principal, query: &UserQuery) -> Result<Listing<UserView>> {
        self.rbac.require(actor, &self.rbac.admin().user_access)?;
        self.list_unchecked(query).await
    }

    /// Lists users with role names, without a privilege check (the caller checked).
    pub async fn list_unchecked(self, query: &UserQuery) -> Result<Listing<UserView>> {
        let users = self.rbac.store().list_users(query).await?;
        Ok(Listing {
            total: users.total,
            rows: self.rbac.views(users.rows).await?,
        })
    }
}
