//! `rbac.keys()`: API keys, each owned by a user and acting as that user, with a secret and
//! an optional daily request limit.

use std::future::Future;

use rand::distributions::{Alphanumeric, DistString};

use crate::authz::authorizer::Principal;
use crate::error::{Entity, Error, Result, StoreResult};
use crate::model::*;
use crate::service::*;

/// Length of an API key.
pub const API_KEY_CHARS: usize = 16;

/// Length of an API key's secret.
pub const API_SECRET_CHARS: usize = 48;

/// `len` letters and digits from the OS's CSPRNG.
fn alphanumeric(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, len)
}

/// An API key to create: its name and, optionally, how many requests it may make per UTC
/// day across every instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// Display name (not empty).
    pub name: String,
    /// Requests allowed per UTC day; `None` (the default): counted, not limited.
    pub daily_limit: Option<i64>,
}

impl NewApiKey {
    /// A key named `name`, without a limit.
    pub fn new(name: impl Into<String>) -> Self {
        NewApiKey {
            name: name.into(),
            daily_limit: None,
        }
    }

    /// Limits the key to `requests` per UTC day (past it: `Error::LimitReached`).
    pub fn daily_limit(mut self, requests: i64) -> Self {
        self.daily_limit = Some(requests);
        self
    }
}

/// Keys: `rbac.keys()`.
#[derive(Clone, Copy)]
pub struct Keys<'a> {
    pub(crate) rbac: &'a Rbac,
}

impl Keys<'_> {
    /// Creates an API key of the caller, with a fresh key (16 characters) and secret (48)
    /// from the OS's CSPRNG; requests made with it act as the caller.
    pub async fn create(self, actor: &Principal, new: NewApiKey) -> Result<ApiKey> {
        let store = self.rbac.store().clone();
        self.create_with(actor, new, |key, journal| async move {
            store.create_api_key(&key, &journal).await
        })
        .await
    }

    /// [`create`](Self::create), with the write given to `write`: it must store the key and
    /// the journal in one transaction (the store's `create_api_key`, and whatever rows of
    /// its own the application keeps beside the key, as `rbac_sqlx::SqlStore::transaction`
    /// allows), and return the key as stored.
    pub async fn create_with<F, Fut>(
        self,
        actor: &Principal,
        new: NewApiKey,
        write: F,
    ) -> Result<ApiKey>
    where
        F: FnOnce(ApiKey, Journal) -> Fut,
        Fut: Future<Output = StoreResult<ApiKey>>,
    {
        validate::text("name", &new.name)?;
        if new.name.trim().is_empty() {
            return Err(Error::invalid("name", "must not be empty"));
        }
        if new.daily_limit.is_some_and(|n| n < 0) {
            return Err(Error::invalid("daily_limit", "must not be negative"));
        }
        let at = now();
        let key = ApiKey {
            id: 0,
            owner_id: actor.user_id,
            name: new.name,
            key: alphanumeric(API_KEY_CHARS),
            secret: alphanumeric(API_SECRET_CHARS),
            revoked: false,
            daily_limit: new.daily_limit,
            request_total: 0,
            request_today: 0,
            request_day: utc_day(at),
            created_at: at,
        };
        let journal = self.rbac.journal(
            Some(actor),
            AuditCategory::Keys,
            format!("create API key {}", key.name),
        );
        Ok(write(key, journal).await?)
    }

    /// The live keys of `owner` (the caller's own when `None` or 0, the value a client
    /// sends for an unset field; anyone's with UserAccess). Only the owner sees a key's
    /// secret: in another user's list it is empty.
    pub async fn list(
        self,
        actor: &Principal,
        owner: Option<i64>,
        page: Page,
    ) -> Result<Listing<ApiKey>> {
        let owner = owner.filter(|id| *id != 0).unwrap_or(actor.user_id);
        if owner != actor.user_id {
            self.rbac.require(actor, &self.rbac.admin().user_access)?;
        }
        let mut listing = self.rbac.store().list_api_keys(owner, page).await?;
        if owner != actor.user_id {
            for key in &mut listing.rows {
                key.secret.clear();
            }
        }
        Ok(listing)
    }

    /// A live key of the caller's, `NotFound` for another user's, a revoked one or none.
    pub async fn own(self, actor: &Principal, id: ApiKeyId) -> Result<ApiKey> {
        self.rbac
            .store()
            .api_key(id)
            .await?
            .filter(|k| k.owner_id == actor.user_id && !k.revoked)
            .ok_or(Error::NotFound(Entity::ApiKey))
    }

    /// Revokes a key the caller may revoke within `scope` (an application's scope for the
    /// key: the owner's grant there, or a global one); it stops working at once. A key
    /// the caller may not revoke, or none, is `NotFound` (its existence is not revealed).
    /// Another user's key is acted on through its owner: the owner must lie within the
    /// caller there (`Outranked` otherwise), so no one cuts off a stronger user's keys.
    pub async fn revoke_within(
        self,
        actor: &Principal,
        id: ApiKeyId,
        privilege: &str,
        scope: &crate::authz::scope::Scope,
    ) -> Result<()> {
        let store = self.rbac.store();
        let key = store
            .api_key(id)
            .await?
            .filter(|k| !k.revoked)
            .ok_or(Error::NotFound(Entity::ApiKey))?;
        if self.rbac.require_in(actor, privilege, scope).is_err() {
            return Err(Error::NotFound(Entity::ApiKey));
        }
        if key.owner_id != actor.user_id {
            if let Some(owner) = store.user(key.owner_id).await? {
                self.rbac
                    .containment()
                    .ensure_user_within_in(actor, &owner, "revoke an API key of", Some(scope))
                    .await?;
            }
            self.rbac
                .sessions()
                .ensure_fresh(actor, crate::Sensitive::OthersKeys)?;
        }
        self.remove(actor, &key).await
    }

    /// Revokes one of the caller's keys; it stops working at once. Another user's key, or
    /// none, is `NotFound`.
    pub async fn revoke(self, actor: &Principal, id: ApiKeyId) -> Result<()> {
        let key = self.own(actor, id).await?;
        self.remove(actor, &key).await
    }

    /// Revokes `key` as `actor`, audited; it stops working at once (`NotFound` if it went
    /// meanwhile).
    async fn remove(self, actor: &Principal, key: &ApiKey) -> Result<()> {
        let journal = self
            .rbac
            .journal(
                Some(actor),
                AuditCategory::Keys,
                format!("revoke API key {} ({})", key.name, key.id),
            )
            .with(Change::ApiKey(key.id));
        let store = self.rbac.store();
        let revoked = self
            .rbac
            .applying(&journal)
            .write(store.revoke_api_key(key.id, &journal));
        if !revoked.await? {
            return Err(Error::NotFound(Entity::ApiKey));
        }
        Ok(())
    }

    /// The keys of `owner` (the caller's own by default; another's needs UserAccess and
    /// comes without secrets), as [`list`](crate::service::Keys::list), read a chunk at a
    /// time.
    pub async fn rows(
        self,
        actor: &Principal,
        owner: Option<UserId>,
        page: Page,
    ) -> Result<Rows<ApiKey>> {
        crate::admin::listing::api_key_rows(self.rbac, actor, owner, page).await
    }
}
