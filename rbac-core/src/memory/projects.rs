//! The in-memory store's projects, request counts and quota reservations.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::{Entity, Field, StoreError};
use crate::model::*;
use crate::store::{quota_grant, ProjectStore, StoreResult};

#[async_trait]
impl ProjectStore for MemoryStore {
    async fn create_project(&self, project: &Project, journal: &Journal) -> StoreResult<Project> {
        let mut t = self.lock();
        if !t.users.contains_key(&project.owner_id) {
            return Err(StoreError::NotFound(Entity::User));
        }
        if t.projects.values().any(|p| p.key == project.key) {
            return Err(StoreError::Conflict(Field::Other));
        }
        t.next_project += 1;
        let mut project = project.clone();
        project.id = t.next_project;
        t.projects.insert(project.id, project.clone());
        t.journal(journal);
        Ok(project)
    }

    async fn project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        Ok(self.lock().projects.get(&id).cloned())
    }

    async fn project_by_key(&self, key: &str) -> StoreResult<Option<Project>> {
        Ok(self
            .lock()
            .projects
            .values()
            .find(|p| p.key == key)
            .cloned())
    }

    async fn count_projects(&self, owner: UserId) -> StoreResult<u64> {
        let t = self.lock();
        Ok(t.projects
            .values()
            .filter(|p| p.owner_id == owner && !p.deleted)
            .count() as u64)
    }

    async fn project_rows(
        &self,
        owner: UserId,
        page: Page,
        after: Option<ProjectId>,
    ) -> StoreResult<Vec<Project>> {
        let t = self.lock();
        let (offset, limit) = page.sql_bounds();
        Ok(t.projects
            .values()
            .filter(|p| p.owner_id == owner && !p.deleted)
            .filter(|p| after.is_none_or(|a| p.id > a))
            .skip(offset as usize)
            .take(limit.min(usize::MAX as i64) as usize)
            .cloned()
            .collect())
    }

    async fn delete_project(&self, id: ProjectId, journal: &Journal) -> StoreResult<bool> {
        let mut t = self.lock();
        match t.projects.get_mut(&id) {
            Some(p) if !p.deleted => {
                p.deleted = true;
                t.journal(journal);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn add_project_requests(&self, counts: &[RequestCount]) -> StoreResult<()> {
        let mut t = self.lock();
        for c in counts {
            if let Some(p) = t.projects.get_mut(&c.project) {
                p.request_total += c.requests;
                if p.request_day == c.day {
                    p.request_today += c.requests;
                } else if c.day > p.request_day {
                    p.request_day = c.day;
                    p.request_today = c.requests;
                }
            }
        }
        Ok(())
    }

    async fn reserve_project_quota(
        &self,
        project: ProjectId,
        day: i64,
        want: i64,
    ) -> StoreResult<i64> {
        let mut t = self.lock();
        let Some(p) = t.projects.get(&project) else {
            return Ok(0);
        };
        let max = p.request_max;
        let slot = t.quota.entry(project).or_insert((day, 0));
        if slot.0 > day {
            return Ok(0);
        }
        if slot.0 < day {
            *slot = (day, 0);
        }
        let granted = quota_grant(want, max - slot.1);
        slot.1 += granted;
        Ok(granted)
    }

    async fn release_project_quota(
        &self,
        project: ProjectId,
        day: i64,
        unused: i64,
    ) -> StoreResult<()> {
        let mut t = self.lock();
        if let Some(slot) = t.quota.get_mut(&project) {
            if slot.0 == day {
                slot.1 = (slot.1 - unused.max(0)).max(0);
            }
        }
        Ok(())
    }
}
