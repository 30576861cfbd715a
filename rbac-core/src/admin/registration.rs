//! Accounts that people make for themselves or for others: self-registration proved by a
//! one-time code, members an account creates under itself, and roles that hold within
//! each holder's tenant.

use crate::authz::authorizer::Principal;
use crate::authz::scope::{Assignment, Scope};
#[cfg(feature = "codes")]
use crate::codes::CodeProof;
#[cfg(feature = "codes")]
use crate::error::Field;
use crate::error::{Error, Result};
use crate::model::{AuditCategory, Journal, NewAudit, User};
use crate::notify::{Sms, SmsContent};
use crate::service::{validate, Assignments, Users};

#[cfg(feature = "codes")]
/// A self-registration proved by a one-time code sent to the address or number it claims.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The new user: name, contact fields (marked verified where the code proves them),
    /// tenant and attributes; its role and password hash are set here.
    pub user: User,
    /// Its password.
    pub password: String,
    /// The stable key of the system role it gets.
    pub role: String,
    /// Where that role holds (`None`: everywhere).
    pub scope: Option<Scope>,
    /// The code that proves the claimed address or number.
    pub proof: CodeProof,
    /// The client's address (counted against the hourly sign-up limit).
    pub client: String,
    /// The audit entry's words.
    pub audit: String,
}

/// A user an account creates under itself (its members), with a system role.
#[derive(Debug, Clone)]
pub struct Member {
    /// The new user: name, contact fields, tenant and attributes; its role, the account
    /// it is a member of, creator and password hash are set here.
    pub user: User,
    /// Its password.
    pub password: String,
    /// The stable key of the system role it gets (one whose privileges the creator holds).
    pub role: String,
    /// Where that role holds, and where the creator needs its privilege and the role's
    /// (`None`: everywhere).
    pub scope: Option<Scope>,
    /// Text the password to the member's phone number.
    pub notify: bool,
    /// The audit entry's words.
    pub audit: String,
}

/// Accounts people make for themselves or for others.
impl Users<'_> {
    #[cfg(feature = "codes")]
    /// Registers a user once its code matches. Every other check comes first (name taken,
    /// a verified e-mail address taken, the sign-up limit), so a refused registration
    /// does not use the code up; a verified address or number wins over others'
    /// unverified claims to it.
    pub async fn register(self, input: Registration) -> Result<User> {
        let mut user = input.user;
        validate::name("name", &user.name)?;
        validate::password("password", &input.password)?;
        if self.exists(&user.name).await? {
            return Err(Error::AlreadyExists(Field::UserName));
        }
        if let Some(email) = user.email.as_deref().filter(|_| user.email_verified) {
            if self.email_taken(email).await? {
                return Err(Error::AlreadyExists(Field::Email));
            }
        }
        self.rbac.limits().take_signup(&input.client).await?;
        let role = self.rbac.system_roles().by_key(&input.role).await?;
        user.password_hash = self.rbac.inner.hasher.hash(&input.password).await?;
        self.rbac.codes().take(&input.proof).await?;
        user.roles = vec![Assignment {
            role_id: role.id,
            scope: input.scope,
        }];
        let journal = Journal::audit(NewAudit {
            user_id: None,
            user_name: user.name.clone(),
            category: AuditCategory::Home,
            content: input.audit,
            success: true,
        });
        self.create_claiming(&user, &journal).await
    }

    /// Creates a member of the caller, which needs `privilege` and must hold every
    /// privilege of the member's role, both where the member's role holds (within its
    /// scope, or everywhere); with `notify`, texts the member its password (counted against
    /// the creator's hourly limit before anything is written).
    pub async fn create_member(
        &self,
        actor: &Principal,
        privilege: &str,
        input: Member,
    ) -> Result<User> {
        match &input.scope {
            Some(scope) => {
                self.rbac.ensure_declared("scope", scope)?;
                self.rbac.require_in(actor, privilege, scope)?
            }
            None => self.rbac.require(actor, privilege)?,
        }
        let mut user = input.user;
        validate::name("name", &user.name)?;
        validate::password("password", &input.password)?;
        let owner = self
            .rbac
            .inner
            .store
            .user(actor.user_id)
            .await?
            .ok_or(Error::Unauthenticated(crate::AuthFailure::UserGone))?;
        let role = self.rbac.system_roles().by_key(&input.role).await?;
        self.rbac
            .containment()
            .ensure_role_within_in(actor, &role, "assign", input.scope.as_ref())
            .await?;
        self.rbac
            .sessions()
            .ensure_fresh(actor, crate::service::Sensitive::CreateUserWithRoles)?;
        if input.notify {
            self.rbac.limits().take_password_sms(owner.id).await?;
        }
        user.password_hash = self.rbac.inner.hasher.hash(&input.password).await?;
        user.roles = vec![Assignment {
            role_id: role.id,
            scope: input.scope,
        }];
        user.member_of = Some(owner.id);
        user.creator = owner.name.clone();
        let journal = self
            .rbac
            .journal(Some(actor), AuditCategory::System, input.audit);
        let user = self.rbac.inner.store.create_user(&user, &journal).await?;
        if input.notify {
            let sms = Sms {
                phone: user.phone.clone(),
                content: SmsContent::Password(input.password),
            };
            // The account exists whatever happens to the text: the creator set the password.
            if let Err(e) = self.rbac.inner.config.senders.sms.send(&sms).await {
                tracing::warn!(error = %e, user = %user.name, "password SMS to a new member failed");
            }
        }
        Ok(user)
    }

    #[cfg(feature = "codes")]
    /// Creates a user whose verified address or number wins over others' unverified claims,
    /// and audits each claim it cleared.
    pub(crate) async fn create_claiming(self, user: &User, journal: &Journal) -> Result<User> {
        let (created, cleared) = self
            .rbac
            .inner
            .store
            .create_user_claiming(user, journal)
            .await?;
        for id in cleared {
            let entry = NewAudit {
                user_id: Some(created.id),
                user_name: created.name.clone(),
                category: AuditCategory::Home,
                content: format!(
                    "verified registration of {} cleared the unverified e-mail or phone of user {id}",
                    created.name
                ),
                success: true,
            };
            if let Err(e) = self.rbac.inner.store.append_audit(&entry).await {
                tracing::warn!(error = %e, "audit append failed");
            }
            tracing::info!(user = id, by = %created.name, "unverified contact claim cleared");
        }
        Ok(created)
    }
}

/// Roles that hold within each holder's tenant.
impl Assignments<'_> {
    /// Moves the global assignments of the system role `key` into each holder's tenant
    /// (users without one keep theirs): for a role that holds within a tenant, given
    /// globally by an older release or an administrator. Idempotent; returns how many
    /// users moved (every instance drops their cached grants).
    pub async fn scope_system_role_by_tenant(&self, key: &str) -> Result<usize> {
        let role = self.rbac.system_roles().by_key(key).await?;
        let journal = Journal::audit(NewAudit {
            user_id: None,
            user_name: String::new(),
            category: AuditCategory::System,
            content: format!("role {} now holds within each holder's tenant", role.name),
            success: true,
        });
        let moved = self
            .rbac
            .inner
            .store
            .scope_role_by_tenant(role.id, &journal)
            .await?;
        if !moved.is_empty() {
            let changes: Vec<crate::model::Change> = moved
                .iter()
                .map(|id| crate::model::Change::User(*id))
                .collect();
            self.rbac.inner.authorizer.apply_changes(&changes).await;
        }
        Ok(moved.len())
    }
}
