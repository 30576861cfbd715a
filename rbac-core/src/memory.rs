//! An in-memory store: for unit tests, benches and embedding. Same semantics as the SQL stores.
//!
//! ```
//! # async fn run() -> Result<(), rbac_core::Error> {
//! use rbac_core::{MemoryStore, Rbac};
//!
//! # let config = rbac_core::RbacConfig { hasher: rbac_core::HasherConfig { memory_kib: 64, iterations: 1, parallelism: 1, ..Default::default() }, ..Default::default() };
//! let rbac = Rbac::builder(MemoryStore::new())
//!     .secret("at least 32 bytes of signing secret")
//!     .privileges(["RecordRead", "RecordWrite"])
//! #   .config(config)
//!     .build()
//!     .await?;
//! let system = rbac.system().await?;
//! rbac.roles().define(&system, "nurse", ["RecordRead"], Vec::<&str>::new()).await?;
//! assert!(rbac.roles().named("nurse").await.is_ok());
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::error::{Entity, Field, StoreError};
use crate::identity;
use crate::model::*;
use crate::store::*;

mod api_keys;
mod assignments;
mod audit;
mod authorizer;
mod codes;
mod events;
mod factors;
mod passkeys;
mod sessions;
mod settings;
mod throttle;

#[derive(Default)]
struct Tables {
    users: BTreeMap<UserId, User>,
    /// Unique index over `users` by name key (NFKC case fold).
    user_names: HashMap<String, UserId>,
    /// Unique index over `users` by the names' confusable skeletons.
    user_skeletons: HashMap<String, UserId>,
    /// Unique index over `users` by e-mail key (case fold).
    user_emails: HashMap<String, UserId>,
    roles: BTreeMap<RoleId, Role>,
    sessions: HashMap<String, Session>,
    audit: Vec<AuditEntry>,
    settings: HashMap<String, String>,
    /// Failed-login counters: key → (failures, window start, blocked until).
    login_failures: HashMap<String, (u32, Timestamp, Timestamp)>,
    login_addresses: HashMap<(String, String), Timestamp>,
    changes: Vec<(i64, Timestamp, Change)>,
    /// Pending verification codes: key → (code, attempts).
    codes: HashMap<String, (VerificationCode, u32)>,
    api_keys: BTreeMap<ApiKeyId, ApiKey>,
    /// Scope → parent scope.
    scope_parents: HashMap<Scope, Scope>,
    /// Quota reserved by instances: key → (day, reserved).
    quota: HashMap<ApiKeyId, (i64, i64)>,
    /// Security events, oldest first, and their deliveries by (event, target).
    events: Vec<crate::events::SecurityEvent>,
    deliveries: BTreeMap<(i64, String), MemoryDelivery>,
    /// TOTP factors by user.
    totp: HashMap<UserId, TotpFactor>,
    /// Unused recovery-code digests by user.
    recovery: HashMap<UserId, Vec<String>>,
    passkeys: BTreeMap<i64, crate::factors::passkeys::PasskeyRecord>,
    ceremonies: HashMap<String, crate::factors::passkeys::Ceremony>,
    next_passkey: i64,
    next_api_key: ApiKeyId,
    next_user: UserId,
    next_role: RoleId,
    next_change: i64,
    next_audit: i64,
}

impl Tables {
    fn journal(&mut self, journal: &Journal) {
        if let Some(a) = &journal.audit {
            self.next_audit += 1;
            let id = self.next_audit;
            self.audit.push(AuditEntry {
                id,
                user_id: a.user_id,
                user_name: a.user_name.clone(),
                category: a.category as i32,
                time: now(),
                content: a.content.clone(),
                success: a.success,
            });
        }
        for e in &journal.events {
            self.record_event(e);
        }
        for c in &journal.changes {
            self.next_change += 1;
            self.changes.push((self.next_change, now(), c.clone()));
        }
    }

    fn record_event(&mut self, e: &crate::events::NewEvent) {
        let id = self.events.last().map_or(1, |l| l.id + 1);
        self.events.push(crate::events::SecurityEvent {
            id,
            event_id: e.event_id.clone(),
            kind: e.kind.to_string(),
            subject: e.subject.clone(),
            actor: e.actor.clone(),
            ip: e.ip.clone(),
            detail: e.detail.clone(),
            created_at: now(),
        });
    }

    fn check_user_unique(&self, user: &User) -> StoreResult<()> {
        let other = |index: &HashMap<String, UserId>, key: String| {
            index.get(&key).is_some_and(|id| *id != user.id)
        };
        if other(&self.user_names, identity::name_key(&user.name))
            || other(&self.user_skeletons, identity::name_skeleton(&user.name))
        {
            return Err(StoreError::Conflict(Field::UserName));
        }
        if let Some(email) = &user.email {
            if other(&self.user_emails, identity::email_key(email)) {
                return Err(StoreError::Conflict(Field::Email));
            }
        }
        Ok(())
    }

    /// Inserts a new user (a fresh id), checking its names, address and role.
    fn insert_user(&mut self, user: &User) -> StoreResult<User> {
        let mut user = user.clone();
        user.id = -1;
        self.check_user_unique(&user)?;
        self.check_assignments(&user.roles, usize::MAX)?;
        self.next_user += 1;
        user.id = self.next_user;
        self.put_user(user.clone());
        Ok(user)
    }

    /// Inserts or replaces a user, keeping the name and e-mail indexes in step.
    fn put_user(&mut self, user: User) {
        self.remove_user(user.id);
        self.user_names
            .insert(identity::name_key(&user.name), user.id);
        self.user_skeletons
            .insert(identity::name_skeleton(&user.name), user.id);
        if let Some(email) = &user.email {
            self.user_emails.insert(identity::email_key(email), user.id);
        }
        self.users.insert(user.id, user);
    }

    /// Removes a user and its index entries.
    fn remove_user(&mut self, id: UserId) -> Option<User> {
        let old = self.users.remove(&id)?;
        self.user_names.remove(&identity::name_key(&old.name));
        self.user_skeletons
            .remove(&identity::name_skeleton(&old.name));
        if let Some(email) = &old.email {
            self.user_emails.remove(&identity::email_key(email));
        }
        Some(old)
    }

    fn revoke_sessions_of(&mut self, user: UserId, keep: Option<&str>) -> u64 {
        let mut n = 0;
        for s in self.sessions.values_mut() {
            if s.user_id == user && !s.revoked && Some(s.id.as_str()) != keep {
                s.revoked = true;
                n += 1;
            }
        }
        n
    }
}

/// One event's delivery to one target.
#[derive(Debug, Clone, Default)]
struct MemoryDelivery {
    attempts: u32,
    next_at: Timestamp,
    lease_owner: String,
    lease_until: Timestamp,
    delivered_at: Option<Timestamp>,
    last_error: String,
}

/// A store kept in process memory behind one mutex.
#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave a half-applied write: every method
        // validates before it mutates. So a poisoned lock is safe to keep using.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether a user passes a query's filter.
fn user_matches(q: &UserQuery, u: &User) -> bool {
    q.name_contains
        .as_ref()
        .is_none_or(|s| u.name.contains(s.as_str()))
        && q.member_of.is_none_or(|p| u.member_of == Some(p))
}

/// A page's rows to skip and to take.
fn bounds(page: Page) -> (usize, usize) {
    (
        page.offset.min(usize::MAX as u64) as usize,
        page.limit.unwrap_or(u64::MAX).min(usize::MAX as u64) as usize,
    )
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: &NewUser, journal: &Journal) -> StoreResult<User> {
        let mut t = self.lock();
        let user = t.insert_user(user)?;
        t.journal(journal);
        Ok(user)
    }

    async fn create_user_claiming(
        &self,
        user: &NewUser,
        journal: &Journal,
    ) -> StoreResult<(User, Vec<UserId>)> {
        let mut t = self.lock();
        let email = user
            .email
            .as_deref()
            .filter(|_| user.email_verified)
            .map(identity::email_key);
        let phone = (user.phone_verified && !user.phone.is_empty()).then_some(user.phone.as_str());
        let claims: Vec<User> = t
            .users
            .values()
            .filter(|u| {
                let email_claim = !u.email_verified
                    && email.is_some()
                    && u.email.as_deref().map(identity::email_key) == email;
                let phone_claim = !u.phone_verified && phone == Some(u.phone.as_str());
                email_claim || phone_claim
            })
            .cloned()
            .collect();
        for claim in &claims {
            let mut cleared = claim.clone();
            if !cleared.email_verified && cleared.email.as_deref().map(identity::email_key) == email
            {
                cleared.email = None;
            }
            if !cleared.phone_verified && phone == Some(cleared.phone.as_str()) {
                cleared.phone.clear();
            }
            t.put_user(cleared);
        }
        match t.insert_user(user) {
            Ok(created) => {
                t.journal(journal);
                Ok((created, claims.iter().map(|u| u.id).collect()))
            }
            Err(e) => {
                for original in claims {
                    t.put_user(original);
                }
                Err(e)
            }
        }
    }

    async fn user_by_name(&self, name: &str) -> StoreResult<Option<User>> {
        let t = self.lock();
        Ok(t.user_names
            .get(&identity::name_key(name))
            .and_then(|id| t.users.get(id))
            .cloned())
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let t = self.lock();
        Ok(t.user_emails
            .get(&identity::email_key(email))
            .and_then(|id| t.users.get(id))
            .cloned())
    }

    async fn users_by_phone(&self, phone: &str, limit: u32) -> StoreResult<Vec<User>> {
        Ok(self
            .lock()
            .users
            .values()
            .filter(|u| u.phone == phone)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn count_users(&self, q: &UserQuery) -> StoreResult<u64> {
        let t = self.lock();
        Ok(t.users.values().filter(|u| user_matches(q, u)).count() as u64)
    }

    async fn user_rows(&self, q: &UserQuery, after: Option<UserId>) -> StoreResult<Vec<User>> {
        use std::ops::Bound::{Excluded, Unbounded};
        let t = self.lock();
        let (skip, take) = bounds(q.page);
        let after = after.map_or(Unbounded, Excluded);
        let matching = |(_, u): &(&UserId, &User)| user_matches(q, u);
        let rows = match q.order {
            Order::OldestFirst => t
                .users
                .range((after, Unbounded))
                .filter(matching)
                .skip(skip)
                .take(take)
                .map(|(_, u)| u.clone())
                .collect(),
            Order::NewestFirst => t
                .users
                .range((Unbounded, after))
                .rev()
                .filter(matching)
                .skip(skip)
                .take(take)
                .map(|(_, u)| u.clone())
                .collect(),
        };
        Ok(rows)
    }

    async fn update_user(
        &self,
        user: &User,
        expected: Option<Timestamp>,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()> {
        let mut t = self.lock();
        let Some(old) = t.users.get(&user.id) else {
            return Err(StoreError::NotFound(Entity::User));
        };
        if expected.is_some_and(|e| e != old.updated_at) {
            return Err(StoreError::Violation(USER_CHANGED));
        }
        let (created_at, roles) = (old.created_at, old.roles.clone());
        let updated_at = next_updated_at(old.updated_at, user.updated_at);
        t.check_user_unique(user)?;
        let mut user = user.clone();
        user.created_at = created_at;
        user.roles = roles;
        user.updated_at = updated_at;
        let id = user.id;
        t.put_user(user);
        if let Some(keep) = revoke.keeping() {
            t.revoke_sessions_of(id, keep);
        }
        t.journal(journal);
        Ok(())
    }

    async fn set_user_enabled(
        &self,
        id: UserId,
        enabled: bool,
        revoke: Revoke<'_>,
        journal: &Journal,
    ) -> StoreResult<()> {
        let mut t = self.lock();
        let Some(u) = t.users.get_mut(&id) else {
            return Err(StoreError::NotFound(Entity::User));
        };
        u.enabled = enabled;
        u.updated_at = next_updated_at(u.updated_at, now());
        if let Some(keep) = revoke.keeping() {
            t.revoke_sessions_of(id, keep);
        }
        t.journal(journal);
        Ok(())
    }

    async fn set_password(
        &self,
        id: UserId,
        hash: &str,
        expected: Option<Timestamp>,
        keep: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<()> {
        let mut t = self.lock();
        let Some(u) = t.users.get_mut(&id) else {
            return Err(StoreError::NotFound(Entity::User));
        };
        if expected.is_some_and(|e| e != u.updated_at) {
            return Err(StoreError::Violation(USER_CHANGED));
        }
        u.password_hash = hash.to_string();
        u.updated_at = next_updated_at(u.updated_at, now());
        t.revoke_sessions_of(id, keep);
        t.journal(journal);
        Ok(())
    }

    async fn delete_user(&self, id: UserId, journal: &Journal) -> StoreResult<bool> {
        let mut t = self.lock();
        if t.remove_user(id).is_none() {
            return Ok(false);
        }
        t.sessions.retain(|_, s| s.user_id != id);
        t.api_keys.retain(|_, k| k.owner_id != id);
        t.totp.remove(&id);
        t.passkeys.retain(|_, p| p.user_id != id);
        t.recovery.remove(&id);
        t.journal(journal);
        Ok(true)
    }

    async fn record_login(
        &self,
        id: UserId,
        at: Timestamp,
        ip: &str,
        rehash: Option<(&str, &str)>,
    ) -> StoreResult<()> {
        if let Some(u) = self.lock().users.get_mut(&id) {
            u.login_time = Some(at);
            u.login_ip = ip.to_string();
            if let Some((verified, upgraded)) = rehash {
                if u.password_hash == verified {
                    u.password_hash = upgraded.to_string();
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl RoleStore for MemoryStore {
    async fn create_role(&self, role: &Role, journal: &Journal) -> StoreResult<Role> {
        let mut t = self.lock();
        if role.system_key.is_some() && t.roles.values().any(|r| r.system_key == role.system_key) {
            return Err(StoreError::Conflict(Field::Other));
        }
        if t.roles.values().any(|r| r.name == role.name) {
            return Err(StoreError::Conflict(Field::RoleName));
        }
        t.next_role += 1;
        let mut role = role.clone();
        role.id = t.next_role;
        role.privileges.sort();
        role.privileges.dedup();
        role.includes.sort_unstable();
        role.includes.dedup();
        if role.includes.iter().any(|r| !t.roles.contains_key(r)) {
            return Err(StoreError::NotFound(Entity::Role));
        }
        t.roles.insert(role.id, role.clone());
        t.journal(journal);
        Ok(role)
    }

    async fn role_by_name(&self, name: &str) -> StoreResult<Option<Role>> {
        Ok(self.lock().roles.values().find(|r| r.name == name).cloned())
    }

    async fn role_by_key(&self, key: &str) -> StoreResult<Option<Role>> {
        Ok(self
            .lock()
            .roles
            .values()
            .find(|r| r.system_key.as_deref() == Some(key))
            .cloned())
    }

    async fn count_roles(&self) -> StoreResult<u64> {
        Ok(self.lock().roles.len() as u64)
    }

    async fn role_rows(&self, p: Page, after: Option<RoleId>) -> StoreResult<Vec<Role>> {
        use std::ops::Bound::{Excluded, Unbounded};
        let t = self.lock();
        let (skip, take) = bounds(p);
        let from = after.map_or(Unbounded, Excluded);
        Ok(t.roles
            .range((from, Unbounded))
            .skip(skip)
            .take(take)
            .map(|(_, r)| r.clone())
            .collect())
    }

    async fn update_role(&self, role: &Role, journal: &Journal) -> StoreResult<()> {
        let mut t = self.lock();
        if !t.roles.contains_key(&role.id) {
            return Err(StoreError::NotFound(Entity::Role));
        }
        if t.roles
            .values()
            .any(|r| r.id != role.id && r.name == role.name)
        {
            return Err(StoreError::Conflict(Field::RoleName));
        }
        if role.system_key.is_some()
            && t.roles
                .values()
                .any(|r| r.id != role.id && r.system_key == role.system_key)
        {
            return Err(StoreError::Conflict(Field::Other));
        }
        if let Some(r) = t.roles.get_mut(&role.id) {
            r.name = role.name.clone();
            r.system_key = role.system_key.clone();
            r.remark = role.remark.clone();
            r.enabled = role.enabled;
            r.updated_at = now();
        }
        t.journal(journal);
        Ok(())
    }

    async fn set_role_requires_second_factor(
        &self,
        id: RoleId,
        required: bool,
        journal: &Journal,
    ) -> StoreResult<()> {
        let mut t = self.lock();
        let Some(r) = t.roles.get_mut(&id) else {
            return Err(StoreError::NotFound(Entity::Role));
        };
        r.requires_second_factor = required;
        r.updated_at = now();
        t.journal(journal);
        Ok(())
    }

    async fn set_role_privileges(
        &self,
        id: RoleId,
        codes: &[String],
        journal: &Journal,
    ) -> StoreResult<()> {
        let mut t = self.lock();
        let Some(r) = t.roles.get_mut(&id) else {
            return Err(StoreError::NotFound(Entity::Role));
        };
        let mut codes = codes.to_vec();
        codes.sort();
        codes.dedup();
        r.privileges = codes;
        r.updated_at = now();
        t.journal(journal);
        Ok(())
    }

    async fn set_role_includes(
        &self,
        id: RoleId,
        includes: &[RoleId],
        journal: &Journal,
    ) -> StoreResult<()> {
        let mut t = self.lock();
        if !t.roles.contains_key(&id) || includes.iter().any(|r| !t.roles.contains_key(r)) {
            return Err(StoreError::NotFound(Entity::Role));
        }
        let edges = t
            .roles
            .values()
            .map(|r| (r.id, r.includes.clone()))
            .collect();
        if crate::authz::inclusion::makes_cycle(&edges, id, includes) {
            return Err(StoreError::Violation(
                crate::authz::inclusion::INCLUSION_CYCLE,
            ));
        }
        if let Some(r) = t.roles.get_mut(&id) {
            r.includes = includes.to_vec();
            r.includes.sort_unstable();
            r.includes.dedup();
            r.updated_at = now();
        }
        t.journal(journal);
        Ok(())
    }

    async fn delete_role(&self, id: RoleId, journal: &Journal) -> StoreResult<()> {
        let mut t = self.lock();
        if !t.roles.contains_key(&id) {
            return Err(StoreError::NotFound(Entity::Role));
        }
        if t.users.values().any(|u| u.holds_role(id)) {
            return Err(StoreError::Violation("the role still has users"));
        }
        t.roles.remove(&id);
        for r in t.roles.values_mut() {
            r.includes.retain(|i| *i != id);
        }
        t.journal(journal);
        Ok(())
    }
}
