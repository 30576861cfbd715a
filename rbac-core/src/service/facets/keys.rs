//! `rbac.keys()`.

use crate::service::*;
use crate::*;

/// Keys: `rbac.keys()`.
#[derive(Clone, Copy)]
pub struct Keys<'a> {
    pub(super) rbac: &'a Rbac,
}

impl Keys<'_> {
    /// Creates a project of the caller with a fresh API key (16 characters) and secret
    /// (48), from the OS's CSPRNG.
    pub async fn create(self, actor: &Principal, name: &str, kind: i32) -> Result<Project> {
        self.rbac.create_project(actor, name, kind).await
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
        self.rbac.list_projects(actor, owner, page).await
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
        scope: &crate::scope::Scope,
    ) -> Result<()> {
        self.rbac
            .delete_project_within(actor, id, privilege, scope)
            .await
    }

    /// Deletes one of the caller's projects; its key stops working at once. Another
    /// user's project, or none, is `NotFound`.
    pub async fn delete(self, actor: &Principal, id: ProjectId) -> Result<()> {
        self.rbac.delete_project(actor, id).await
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
        self.rbac.project_rows(actor, owner, page).await
    }
}
