//! The roles' storage port.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::*;

/// Roles and their grants.
#[async_trait]
pub trait RoleStore: super::AuthorizerStore {
    /// Inserts a role with its privileges; `Conflict` on a taken name or system key.
    async fn create_role(&self, role: &Role, journal: &Journal) -> StoreResult<Role>;
    /// A role by exact name.
    async fn role_by_name(&self, name: &str) -> StoreResult<Option<Role>>;
    /// The role seeded under a stable system key (whatever its name is now).
    async fn role_by_key(&self, key: &str) -> StoreResult<Option<Role>> {
        let roles = self.list_roles(Page::ALL).await?;
        Ok(roles
            .rows
            .into_iter()
            .find(|r| r.system_key.as_deref() == Some(key)))
    }
    /// Roles in id order, and the full count.
    async fn list_roles(&self, page: Page) -> StoreResult<Listing<Role>> {
        let total = self.count_roles().await?;
        let rows = self.role_rows(page, None).await?;
        Ok(Listing { rows, total })
    }
    /// How many roles there are.
    async fn count_roles(&self) -> StoreResult<u64>;
    /// A page of roles in id order, with their privileges and inclusions; with `after`, the
    /// page continues past that id (keyset), and `page.offset` counts from there.
    async fn role_rows(&self, page: Page, after: Option<RoleId>) -> StoreResult<Vec<Role>>;
    /// Replaces name, remark, enabled flag and system key (not privileges);
    /// `NotFound`/`Conflict`.
    async fn update_role(&self, role: &Role, journal: &Journal) -> StoreResult<()>;
    /// Sets whether a role requires its members to have a second factor; `NotFound` if
    /// gone.
    async fn set_role_requires_second_factor(
        &self,
        id: RoleId,
        required: bool,
        journal: &Journal,
    ) -> StoreResult<()>;
    /// Replaces a role's privilege codes atomically; `NotFound` if gone.
    async fn set_role_privileges(
        &self,
        id: RoleId,
        codes: &[String],
        journal: &Journal,
    ) -> StoreResult<()>;
    /// Replaces the roles a role includes, atomically and serialised with every other
    /// such change: `NotFound` if it or an included role is gone, `Violation` when the
    /// inclusion would make a cycle (a role including itself, directly or through others).
    async fn set_role_includes(
        &self,
        id: RoleId,
        includes: &[RoleId],
        journal: &Journal,
    ) -> StoreResult<()>;
    /// Deletes a role that no user holds (and every inclusion of it); `Violation` if a user
    /// holds it, `NotFound` if gone.
    async fn delete_role(&self, id: RoleId, journal: &Journal) -> StoreResult<()>;
}
