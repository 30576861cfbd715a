//! A store implementing only the layer's port (`AuthorizerStore`, four methods) runs the
//! layer's conformance checks alone, and a store that answers wrongly fails them: the checks
//! cannot pass a store that ignores its writes.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use rbac_core::conformance::{run_layer, LayerFixture, LAYER_CHECKS};
use rbac_core::store::{AuthorizerStore, StoreResult};
use rbac_core::{Role, RoleId, Session, User, UserId};

#[derive(Default)]
struct Tables {
    users: HashMap<UserId, User>,
    roles: HashMap<RoleId, Role>,
    sessions: HashMap<String, Session>,
    next: i64,
}

/// An application's own tables; `forgetful` drops every role change after the first write.
#[derive(Default)]
struct OwnStore {
    tables: Mutex<Tables>,
    forgetful: bool,
}

impl OwnStore {
    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl AuthorizerStore for OwnStore {
    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        Ok(self.lock().users.get(&id).cloned())
    }
    async fn role(&self, id: RoleId) -> StoreResult<Option<Role>> {
        Ok(self.lock().roles.get(&id).cloned())
    }
    async fn roles(&self) -> StoreResult<Vec<Role>> {
        Ok(self.lock().roles.values().cloned().collect())
    }
    async fn session(&self, id: &str) -> StoreResult<Option<Session>> {
        Ok(self.lock().sessions.get(id).cloned())
    }
}

#[async_trait]
impl LayerFixture for OwnStore {
    async fn put_role(
        &self,
        name: &str,
        codes: &[&str],
        includes: &[RoleId],
    ) -> Result<RoleId, String> {
        let mut t = self.lock();
        t.next += 1;
        let id = t.next;
        let privileges = codes.iter().map(|c| c.to_string()).collect();
        let role = Role {
            id,
            privileges,
            includes: includes.to_vec(),
            ..Role::new(name, "", "")
        };
        t.roles.insert(id, role);
        Ok(id)
    }
    async fn put_user(&self, name: &str, roles: &[RoleId]) -> Result<UserId, String> {
        let mut t = self.lock();
        t.next += 1;
        let mut user = User {
            id: t.next,
            ..User::blank(name, "")
        };
        user.set_global_roles(roles.iter().copied());
        t.users.insert(user.id, user);
        Ok(t.next)
    }
    async fn set_roles(&self, user: UserId, roles: &[RoleId]) -> Result<(), String> {
        if !self.forgetful {
            let mut t = self.lock();
            let user = t.users.get_mut(&user).ok_or("no such user")?;
            user.set_global_roles(roles.iter().copied());
        }
        Ok(())
    }
    async fn put_session(&self, session: &Session) -> Result<(), String> {
        self.lock()
            .sessions
            .insert(session.id.clone(), session.clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_store_implementing_only_the_layer_port_passes_the_layer_checks() {
    let store = OwnStore::default();
    let report = run_layer(&store, &store).await;
    report.assert_passed();
    assert_eq!(report.passed.len(), LAYER_CHECKS.len());
}

#[tokio::test]
async fn a_store_that_keeps_a_revoked_role_fails_them() {
    let store = OwnStore {
        forgetful: true,
        ..OwnStore::default()
    };
    let report = run_layer(&store, &store).await;
    let failed: Vec<&str> = report.failed.iter().map(|(name, _)| *name).collect();
    assert_eq!(failed, ["layer_reads_fresh"], "{:?}", report.failed);
}
