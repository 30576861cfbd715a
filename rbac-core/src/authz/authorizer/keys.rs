//! API keys: the key cache, secrets and the keys' request meters.

use super::*;

/// What the key cache keeps per API key: its id, its secret and its owner.
#[derive(Debug)]
pub(super) struct KeyState {
    pub(super) id: ApiKeyId,
    /// `key:<id>`, the principal's session id.
    pub(super) label: Arc<str>,
    pub(super) secret: String,
    pub(super) owner_id: UserId,
    pub(super) owner_name: Arc<str>,
    pub(super) grants: Arc<Grants>,
    pub(super) meter: Option<Arc<KeyMeter>>,
    /// `None` when the key authenticates (with the right secret); otherwise why not.
    pub(super) refusal: Option<AuthFailure>,
}

/// The API-key capability the authorizer delegates to: the key cache, the keys' request
/// meters, and the port they are read from (none until
/// [`Authorizer::with_api_keys`]: every key is then refused).
pub(super) struct ApiKeys {
    pub(super) cache: Cache<Arc<str>, Arc<KeyState>>,
    pub(super) meters: RequestMeters,
    pub(super) store: Option<Arc<dyn ApiKeyStore>>,
}

impl ApiKeys {
    pub(super) fn new(capacity: u64, ttl: Duration) -> Self {
        ApiKeys {
            cache: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build(),
            meters: RequestMeters::default(),
            store: None,
        }
    }
}

/// Drops the cached API keys a change concerns: one key, or every key of a user.
pub(super) fn invalidate_keys(keys: &Cache<Arc<str>, Arc<KeyState>>, change: &Change) {
    let dropped = match change {
        Change::ApiKey(id) => {
            let id = *id;
            keys.invalidate_entries_if(move |_, k| k.id == id)
        }
        Change::User(uid) => {
            let uid = *uid;
            keys.invalidate_entries_if(move |_, k| k.owner_id == uid)
        }
        Change::Scope(_) => {
            keys.invalidate_all();
            return;
        }
        Change::Role(_) | Change::Session(_) => return,
    };
    if dropped.is_err() {
        keys.invalidate_all();
    }
}

impl Authorizer {
    /// This authorizer, reading API keys and their limits from `store` (without it, every
    /// API key is refused).
    pub fn with_api_keys(mut self, store: Arc<dyn ApiKeyStore>) -> Self {
        self.keys.store = Some(store);
        self
    }

    /// Verifies an API key and its secret (the secret compared in constant time) and counts
    /// the request against the key's daily limit; the principal acts as the key's owner.
    /// Past the limit: `LimitReached`, and the request is not counted.
    pub async fn authenticate_api_key(&self, key: &str, secret: &str) -> Result<Principal> {
        let state = self
            .keys
            .cache
            .try_get_with(Arc::from(key), async {
                self.load_key(key).await.map(Arc::new)
            })
            .await
            .map_err(Error::internal)?;
        if let Some(refusal) = state.refusal {
            return Err(Error::Unauthenticated(refusal));
        }
        if !crate::authn::password::same_text(&state.secret, secret) {
            return Err(Error::Unauthenticated(AuthFailure::Invalid));
        }
        if let (Some(meter), Some(store)) = (&state.meter, &self.keys.store) {
            if !meter.try_take(store.as_ref(), now()).await? {
                // The meter's window is the UTC day.
                let retry_after = 86_400 - now().rem_euclid(86_400);
                return Err(Error::LimitReached {
                    limit: meter.limit().unwrap_or(0),
                    retry_after,
                });
            }
        }
        self.ensure_grants(&state.grants).await?;
        Ok(Principal {
            user_id: state.owner_id,
            user_name: state.owner_name.clone(),
            grants: state.grants.clone(),
            session_id: state.label.clone(),
            kind: SessionKind::ApiKey,
            factors: crate::model::Factors::NONE,
            verified_at: 0,
            enrolment_required: false,
            // An API key proves no factor: counted as enrolled, so a route asking a
            // second factor (even `.when_enrolled()`) refuses it rather than letting a
            // machine credential through.
            second_factor_enrolled: true,
        })
    }

    pub(super) async fn load_key(&self, key: &str) -> Result<KeyState> {
        // A refusal keeps the key and owner it concerns, so that a change to either
        // (an owner enabled again) drops it like any other entry.
        let refused = |id: ApiKeyId, owner_id: UserId, why| KeyState {
            id,
            label: Arc::from(""),
            secret: String::new(),
            owner_id,
            owner_name: Arc::from(""),
            grants: Grants::none(),
            meter: None,
            refusal: Some(why),
        };
        let Some(keys) = &self.keys.store else {
            return Ok(refused(0, 0, AuthFailure::Invalid));
        };
        let Some(api_key) = keys.find_api_key(key).await? else {
            return Ok(refused(0, 0, AuthFailure::Invalid));
        };
        if api_key.revoked {
            return Ok(refused(api_key.id, api_key.owner_id, AuthFailure::Revoked));
        }
        let owner = match self.store.user(api_key.owner_id).await? {
            Some(u) if u.enabled => u,
            _ => return Ok(refused(api_key.id, api_key.owner_id, AuthFailure::UserGone)),
        };
        Ok(KeyState {
            id: api_key.id,
            label: Arc::from(format!("key:{}", api_key.id)),
            secret: api_key.secret.clone(),
            owner_id: owner.id,
            owner_name: Arc::from(owner.name.as_str()),
            grants: self.grants_for(&owner.roles).await?,
            meter: Some(self.keys.meters.meter_of(&api_key, now())),
            refusal: None,
        })
    }

    /// Writes the API-key request counts not yet stored, in one batch, and gives back the
    /// quota slices of keys idle here for [`QUOTA_IDLE`](crate::keys::meter::QUOTA_IDLE).
    pub async fn flush_request_counts(&self) -> Result<i64> {
        let Some(store) = &self.keys.store else {
            return Ok(0);
        };
        self.keys
            .meters
            .flush(store.as_ref(), crate::keys::meter::QUOTA_IDLE)
            .await
    }

    /// [`flush_request_counts`](Self::flush_request_counts) at shutdown: every unused quota
    /// slice goes back to the store, for the instances that stay.
    pub async fn flush_request_counts_at_exit(&self) -> Result<i64> {
        let Some(store) = &self.keys.store else {
            return Ok(0);
        };
        self.keys.meters.flush(store.as_ref(), Duration::ZERO).await
    }
}
