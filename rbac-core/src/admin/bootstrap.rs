//! Bootstrap: the built-in admin role and user, and the system roles, each found by its
//! stable key and, the first time, keyed only when its creation record vouches for it.

use std::sync::Arc;

use crate::authz::authorizer::{Principal, SYSTEM_NAME, SYSTEM_USER_ID};
use crate::authz::scope::Assignment;
use crate::error::{Entity, Error, Result};
use crate::model::{
    now, AuditCategory, AuditQuery, Change, Factors, Journal, NewAudit, Page, Role, SessionKind,
    Timestamp, User,
};
use crate::service::{random_token, Rbac, SystemRole, ADMIN};
use crate::StoreError;

/// Seconds between a bootstrap-created role's `created_at` and its creation audit entry
/// within which the two are taken to be the same event.
const CREATION_SLACK: i64 = 5;

/// An audit entry written by bootstrap itself.
fn system(content: impl Into<String>, success: bool) -> Journal {
    Journal::audit(NewAudit {
        user_id: None,
        user_name: "system".into(),
        category: AuditCategory::System,
        content: content.into(),
        success,
    })
}

/// Bootstrap and the system roles, found by their stable keys.
#[derive(Clone, Copy)]
pub(crate) struct SystemRoles<'a> {
    pub(crate) rbac: &'a Rbac,
}

impl SystemRoles<'_> {
    /// [`Rbac::bootstrap`], creating the `admin` user only when `create_admin`
    /// holds or a password is given.
    pub(crate) async fn seed(
        &self,
        password: Option<&str>,
        create_admin: bool,
    ) -> Result<Option<String>> {
        let store = &self.rbac.inner.store;
        let registry = self.rbac.inner.authorizer.registry().clone();
        let all: Vec<String> = registry.codes().map(str::to_string).collect();
        let admin = SystemRole {
            key: ADMIN,
            name: ADMIN,
            remark: "super administrator role",
            privileges: &[],
        };
        let role = self.ensure_system_role(&admin, true, &all).await?;
        let mut held = role.privileges.clone();
        held.sort();
        let mut want = all.clone();
        want.sort();
        if held != want {
            let journal = system("grant admin every privilege", true).with(Change::Role(role.id));
            store.set_role_privileges(role.id, &all, &journal).await?;
            self.rbac
                .inner
                .authorizer
                .apply_changes(&journal.changes)
                .await;
        }
        let mut generated = None;
        if (create_admin || password.is_some()) && store.user_by_name(ADMIN).await?.is_none() {
            let pw = match password {
                Some(p) => p.to_string(),
                None => {
                    let p = random_token(18);
                    generated = Some(p.clone());
                    p
                }
            };
            let mut user = User::blank(ADMIN, self.rbac.inner.hasher.hash(&pw).await?);
            user.roles = vec![crate::authz::scope::Assignment::global(role.id)];
            user.alias = "administrator".into();
            user.creator = ADMIN.into();
            match store
                .create_user(&user, &system("create user admin", true))
                .await
            {
                Ok(_) => {}
                Err(StoreError::Conflict(_)) => generated = None,
                Err(e) => return Err(e.into()),
            }
        }
        for seeded in &self.rbac.inner.config.system_roles {
            let codes: Vec<String> = seeded.privileges.iter().map(|c| c.to_string()).collect();
            self.ensure_system_role(seeded, false, &codes).await?;
        }
        self.rbac.inner.authorizer.load_roles().await?;
        Ok(generated)
    }

    /// The system itself, for seeding and migrations: it holds the `admin` role everywhere
    /// (every privilege), acts where the built-in admin may, is never asked for a second
    /// factor, and is audited as `system`. Only code holding the [`Rbac`] obtains it; no
    /// credential authenticates as it.
    pub(crate) async fn system(&self) -> Result<Principal> {
        let role = self.by_key(ADMIN).await?;
        let grants = self
            .rbac
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

    /// The system role stored under `key`, `NotFound(Role)` if none.
    pub(crate) async fn by_key(&self, key: &str) -> Result<Role> {
        self.rbac
            .inner
            .store
            .role_by_key(key)
            .await?
            .ok_or(Error::NotFound(Entity::Role))
    }

    /// The role keyed `seeded.key`. A store without one gets it: the role of that name is
    /// keyed when bootstrap made it (see [`Self::vouched_for`]); otherwise that role is an
    /// impostor, renamed aside with a warning and an audit entry, and a fresh role with
    /// the documented privileges takes the name and the key.
    async fn ensure_system_role(
        &self,
        seeded: &SystemRole,
        builtin: bool,
        codes: &[String],
    ) -> Result<Role> {
        let store = &self.rbac.inner.store;
        if let Some(role) = store.role_by_key(seeded.key).await? {
            return Ok(role);
        }
        if let Some(mut found) = store.role_by_name(seeded.name).await? {
            if self.vouched_for(&found, builtin).await? {
                found.system_key = Some(seeded.key.to_string());
                let journal = system(
                    format!("key role {} as system role {}", found.name, seeded.key),
                    true,
                )
                .with(Change::Role(found.id));
                return match store.update_role(&found, &journal).await {
                    Ok(()) => Ok(found),
                    Err(StoreError::Conflict(_)) => self.by_key(seeded.key).await,
                    Err(e) => Err(e.into()),
                };
            }
            let aside = format!("{}-unverified-{}", found.name, found.id);
            tracing::warn!(
                role = %found.name,
                id = found.id,
                renamed = %aside,
                "a role holds a system role's name but bootstrap did not create it: \
                 renamed aside, review its users"
            );
            let journal = system(
                format!(
                    "role {} (id {}) does not match the creation record of system role {}: \
                     renamed to {aside}; review its users",
                    found.name, found.id, seeded.key
                ),
                false,
            )
            .with(Change::Role(found.id));
            found.name = aside;
            match store.update_role(&found, &journal).await {
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let mut role = Role::new(seeded.name, seeded.remark, ADMIN);
        role.builtin = builtin;
        role.system_key = Some(seeded.key.to_string());
        role.privileges = codes.to_vec();
        let journal = system(format!("create role {}", seeded.name), true);
        match store.create_role(&role, &journal).await {
            Ok(r) => Ok(r),
            Err(StoreError::Conflict(_)) => self.by_key(seeded.key).await,
            Err(e) => Err(e.into()),
        }
    }

    /// Whether an unkeyed role bearing a system role's name is the one bootstrap created:
    /// the built-in flag for the admin role; otherwise created by `admin` at the moment of
    /// bootstrap's own audit entry for that name, and never renamed into that name (an
    /// `edit role … (now <name>)` entry). A role renamed into the name was not adopted.
    async fn vouched_for(&self, role: &Role, builtin: bool) -> Result<bool> {
        if builtin || role.builtin {
            return Ok(builtin && role.builtin);
        }
        if role.creator != ADMIN {
            return Ok(false);
        }
        let created = self.creation_record(&role.name).await?;
        if !created
            .iter()
            .any(|t| (role.created_at - t).abs() <= CREATION_SLACK)
        {
            return Ok(false);
        }
        Ok(!self.renamed_into(&role.name).await?)
    }

    /// When bootstrap audited creating a role of this name (every time it did).
    async fn creation_record(&self, name: &str) -> Result<Vec<Timestamp>> {
        let entries = self
            .rbac
            .inner
            .store
            .list_audit(&AuditQuery {
                user_name: Some("system".into()),
                category: Some(AuditCategory::System as i32),
                page: Page::ALL,
                ..AuditQuery::default()
            })
            .await?;
        let content = format!("create role {name}");
        Ok(entries
            .rows
            .into_iter()
            .filter(|e| e.user_id.is_none() && e.success && e.content == content)
            .map(|e| e.time)
            .collect())
    }

    /// Whether the operation log shows some role renamed into `name` (read a page at a
    /// time: this runs once, when a store gets its keys).
    async fn renamed_into(&self, name: &str) -> Result<bool> {
        const PAGE: u64 = 1000;
        let suffix = format!(" (now {name})");
        let mut offset = 0;
        loop {
            let page = self
                .rbac
                .inner
                .store
                .list_audit(&AuditQuery {
                    category: Some(AuditCategory::System as i32),
                    page: Page {
                        offset,
                        limit: Some(PAGE),
                    },
                    ..AuditQuery::default()
                })
                .await?;
            if page
                .rows
                .iter()
                .any(|e| e.content.starts_with("edit role ") && e.content.ends_with(&suffix))
            {
                return Ok(true);
            }
            if (page.rows.len() as u64) < PAGE {
                return Ok(false);
            }
            offset += PAGE;
        }
    }
}
