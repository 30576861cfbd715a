//! `rbac.keys()`: projects' API keys, each owned by a user, with a secret and a daily
//! request quota.

use rand::distributions::{Alphanumeric, DistString};

use crate::authz::authorizer::Principal;
use crate::error::Entity;
use crate::error::{Error, Result};
use crate::model::*;
use crate::service::*;

/// Length of a project's API key.
pub const PROJECT_KEY_CHARS: usize = 16;

/// Length of a project's API secret.
pub const PROJECT_SECRET_CHARS: usize = 48;

/// `len` letters and digits from the OS's CSPRNG.
fn alphanumeric(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, len)
}

/// Keys: `rbac.keys()`.
#[derive(Clone, Copy)]
pub struct Keys<'a> {
    pub(crate) rbac: &'a Rbac,
}

impl Keys<'_> {
    /// Creates a project of the caller with a fresh API key (16 characters) and secret
    /// (48), from the OS's CSPRNG.
    pub async fn create(self, actor: &Principal, name: &str, kind: i32) -> Result<Project> {
        validate::text("project_name", name)?;
        if name.trim().is_empty() {
            return Err(Error::invalid("project_name", "must not be empty"));
        }
        let at = now();
        let project = Project {
            id: 0,
            owner_id: actor.user_id,
            name: name.to_string(),
            kind,
            key: alphanumeric(PROJECT_KEY_CHARS),
            secret: alphanumeric(PROJECT_SECRET_CHARS),
            deleted: false,
            request_total: 0,
            request_today: 0,
            request_day: crate::model::utc_day(at),
            request_max: self.rbac.config().project_request_max,
            pool_id: 0,
            pool_name: String::new(),
            created_at: at,
        };
        let journal = self.rbac.journal(
            Some(actor),
            AuditCategory::Project,
            format!("create project {}", project.name),
        );
        Ok(self.rbac.store().create_project(&project, &journal).await?)
    }

    /// The live projects of `owner` (the caller's own when `None` or 0, the value a client
    /// sends for an unset field; anyone's with UserAccess). Only the owner sees a
    /// project's secret: in another user's list it is empty.
    pub async fn list(
        self,
        actor: &Principal,
        owner: Option<i64>,
        page: Page,
    ) -> Result<Listing<Project>> {
        let owner = owner.filter(|id| *id != 0).unwrap_or(actor.user_id);
        if owner != actor.user_id {
            self.rbac.require(actor, &self.rbac.admin().user_access)?;
        }
        let mut listing = self.rbac.store().list_projects(owner, page).await?;
        if owner != actor.user_id {
            for project in &mut listing.rows {
                project.secret.clear();
            }
        }
        Ok(listing)
    }

    /// Deletes a project the caller may delete within `scope` (the project's own: the
    /// owner's grant there, or a global one); its key stops working at once. A project the
    /// caller may not delete, or none, is `NotFound` (its existence is not revealed).
    /// Another user's project is acted on through its owner: the owner must lie within the
    /// caller there (`Outranked` otherwise), so no one cuts off a stronger user's keys.
    pub async fn delete_within(
        self,
        actor: &Principal,
        id: ProjectId,
        privilege: &str,
        scope: &crate::authz::scope::Scope,
    ) -> Result<()> {
        let store = self.rbac.store();
        let project = store
            .project(id)
            .await?
            .filter(|p| !p.deleted)
            .ok_or(Error::NotFound(Entity::Project))?;
        if self.rbac.require_in(actor, privilege, scope).is_err() {
            return Err(Error::NotFound(Entity::Project));
        }
        if project.owner_id != actor.user_id {
            if let Some(owner) = store.user(project.owner_id).await? {
                self.rbac
                    .containment()
                    .ensure_user_within_in(actor, &owner, "delete a project of", Some(scope))
                    .await?;
            }
            self.rbac
                .sessions()
                .ensure_fresh(actor, crate::Sensitive::OthersKeys)?;
        }
        self.remove(actor, &project).await
    }

    /// Deletes one of the caller's projects; its key stops working at once. Another
    /// user's project, or none, is `NotFound`.
    pub async fn delete(self, actor: &Principal, id: ProjectId) -> Result<()> {
        let store = self.rbac.store();
        let project = store
            .project(id)
            .await?
            .filter(|p| p.owner_id == actor.user_id && !p.deleted)
            .ok_or(Error::NotFound(Entity::Project))?;
        self.remove(actor, &project).await
    }

    /// Deletes `project` as `actor`, audited; its key stops working at once (`NotFound`
    /// if it went meanwhile).
    async fn remove(self, actor: &Principal, project: &Project) -> Result<()> {
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::Project,
                format!("delete project {} ({})", project.name, project.id),
            )
            .with(Change::Project(project.id));
        let store = self.rbac.store();
        let deleted = self
            .rbac
            .applying(&journal)
            .write(store.delete_project(project.id, &journal));
        if !deleted.await? {
            return Err(Error::NotFound(Entity::Project));
        }
        Ok(())
    }

    /// The projects of `owner` (the caller's own by default; another's needs UserAccess
    /// and comes without secrets), as [`list_projects`](crate::service::Keys::list), read a chunk
    /// at a time.
    pub async fn rows(
        self,
        actor: &Principal,
        owner: Option<UserId>,
        page: Page,
    ) -> Result<Rows<Project>> {
        crate::admin::listing::project_rows(self.rbac, actor, owner, page).await
    }
}
