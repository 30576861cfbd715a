//! The session, second-factor, passkey and throttle ports, run detached.

use async_trait::async_trait;
use rbac_core::factors::{Factors, TotpFactor};
use rbac_core::store::{SecondFactorStore, SessionStore, StoreResult, ThrottleStore};
use rbac_core::{
    Ceremony, Journal, PasskeyRecord, PasskeyStore, Session, StoreError, ThrottlePolicy, Timestamp,
    UserId,
};

use crate::SqlStore;

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, session: &Session, journal: &Journal) -> StoreResult<()> {
        let session = session.clone();
        let journal = journal.clone();
        self.detached(move |d| async move { d.create_session(&session, &journal).await })
            .await
    }
    async fn revoke_session(&self, id: &str, journal: &Journal) -> StoreResult<bool> {
        let id = id.to_owned();
        let journal = journal.clone();
        self.detached(move |d| async move { d.revoke_session(&id, &journal).await })
            .await
    }
    async fn rotate_session(
        &self,
        old: &str,
        new: &Session,
        journal: &Journal,
    ) -> StoreResult<bool> {
        let old = old.to_owned();
        let new = new.clone();
        let journal = journal.clone();
        self.detached(move |d| async move { d.rotate_session(&old, &new, &journal).await })
            .await
    }
    async fn revoke_user_sessions(
        &self,
        user: UserId,
        keep: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<u64> {
        let keep = keep.map(str::to_owned);
        let journal = journal.clone();
        self.detached(move |d| async move {
            d.revoke_user_sessions(user, keep.as_deref(), &journal)
                .await
        })
        .await
    }
    async fn mark_session_verified(
        &self,
        id: &str,
        factors: Factors,
        at: Timestamp,
        journal: &Journal,
    ) -> StoreResult<bool> {
        let id = id.to_owned();
        let journal = journal.clone();
        self.detached(
            move |d| async move { d.mark_session_verified(&id, factors, at, &journal).await },
        )
        .await
    }
    async fn purge_sessions(&self, before: Timestamp) -> StoreResult<u64> {
        self.detached(move |d| async move { d.purge_sessions(before).await })
            .await
    }
    async fn count_live_sessions(&self, at: Timestamp) -> StoreResult<u64> {
        self.detached(move |d| async move { d.count_live_sessions(at).await })
            .await
    }
    async fn user_sessions(
        &self,
        user: UserId,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        self.detached(move |d| async move { d.user_sessions(user, at, limit).await })
            .await
    }
}

#[async_trait]
impl SecondFactorStore for SqlStore {
    async fn totp(&self, user: UserId) -> StoreResult<Option<TotpFactor>> {
        self.detached(move |d| async move { d.totp(user).await })
            .await
    }
    async fn put_pending_totp(&self, factor: &TotpFactor, journal: &Journal) -> StoreResult<()> {
        let factor = factor.clone();
        let journal = journal.clone();
        self.detached(move |d| async move { d.put_pending_totp(&factor, &journal).await })
            .await
    }
    async fn confirm_totp(
        &self,
        user: UserId,
        step: i64,
        recovery: &[String],
        end_sessions_but: Option<&str>,
        journal: &Journal,
    ) -> StoreResult<bool> {
        let recovery = recovery.to_vec();
        let end_sessions_but = end_sessions_but.map(str::to_owned);
        let journal = journal.clone();
        self.detached(move |d| async move {
            d.confirm_totp(user, step, &recovery, end_sessions_but.as_deref(), &journal)
                .await
        })
        .await
    }
    async fn claim_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        self.detached(move |d| async move { d.claim_totp_step(user, step).await })
            .await
    }
    async fn use_recovery_code(&self, user: UserId, digest: &str) -> StoreResult<bool> {
        let digest = digest.to_owned();
        self.detached(move |d| async move { d.use_recovery_code(user, &digest).await })
            .await
    }
    async fn recovery_codes_left(&self, user: UserId) -> StoreResult<u64> {
        self.detached(move |d| async move { d.recovery_codes_left(user).await })
            .await
    }
    async fn replace_recovery_codes(
        &self,
        user: UserId,
        recovery: &[String],
        journal: &Journal,
    ) -> StoreResult<bool> {
        let recovery = recovery.to_vec();
        let journal = journal.clone();
        self.detached(
            move |d| async move { d.replace_recovery_codes(user, &recovery, &journal).await },
        )
        .await
    }
    async fn remove_totp(&self, user: UserId, journal: &Journal) -> StoreResult<bool> {
        let journal = journal.clone();
        self.detached(move |d| async move { d.remove_totp(user, &journal).await })
            .await
    }
}

#[async_trait]
impl PasskeyStore for SqlStore {
    async fn passkeys(&self, user: UserId) -> Result<Vec<PasskeyRecord>, StoreError> {
        self.detached(move |d| async move { d.passkeys(user).await })
            .await
    }
    async fn count_passkeys(&self, user: UserId) -> Result<u64, StoreError> {
        self.detached(move |d| async move { d.count_passkeys(user).await })
            .await
    }
    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<PasskeyRecord>, StoreError> {
        let credential_id = credential_id.to_owned();
        self.detached(move |d| async move { d.passkey_by_credential(&credential_id).await })
            .await
    }
    async fn add_passkey(
        &self,
        passkey: &PasskeyRecord,
        end_sessions_but: Option<&str>,
        journal: &Journal,
    ) -> Result<i64, StoreError> {
        let passkey = passkey.clone();
        let end_sessions_but = end_sessions_but.map(str::to_owned);
        let journal = journal.clone();
        self.detached(move |d| async move {
            d.add_passkey(&passkey, end_sessions_but.as_deref(), &journal)
                .await
        })
        .await
    }
    async fn record_passkey_use(
        &self,
        passkey: &PasskeyRecord,
        seen: i64,
    ) -> Result<bool, StoreError> {
        let passkey = passkey.clone();
        self.detached(move |d| async move { d.record_passkey_use(&passkey, seen).await })
            .await
    }
    async fn remove_passkey(
        &self,
        user: UserId,
        id: i64,
        journal: &Journal,
    ) -> Result<bool, StoreError> {
        let journal = journal.clone();
        self.detached(move |d| async move { d.remove_passkey(user, id, &journal).await })
            .await
    }
    async fn remove_second_factors(
        &self,
        user: UserId,
        journal: &Journal,
    ) -> Result<bool, StoreError> {
        let journal = journal.clone();
        self.detached(move |d| async move { d.remove_second_factors(user, &journal).await })
            .await
    }
    async fn put_ceremony(&self, ceremony: &Ceremony) -> Result<(), StoreError> {
        let ceremony = ceremony.clone();
        self.detached(move |d| async move { d.put_ceremony(&ceremony).await })
            .await
    }
    async fn purge_ceremonies(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.detached(move |d| async move { d.purge_ceremonies(before).await })
            .await
    }
    async fn take_ceremony(&self, id: &str) -> Result<Option<Ceremony>, StoreError> {
        let id = id.to_owned();
        self.detached(move |d| async move { d.take_ceremony(&id).await })
            .await
    }
}

#[async_trait]
impl ThrottleStore for SqlStore {
    async fn login_blocked(&self, keys: &[&str], at: Timestamp) -> StoreResult<Option<Timestamp>> {
        let keys = keys.iter().map(|s| s.to_string()).collect::<Vec<String>>();
        self.detached(move |d| async move {
            d.login_blocked(&keys.iter().map(String::as_str).collect::<Vec<&str>>(), at)
                .await
        })
        .await
    }
    async fn record_login_failure(
        &self,
        key: &str,
        at: Timestamp,
        policy: &ThrottlePolicy,
    ) -> StoreResult<u32> {
        let key = key.to_owned();
        let policy = *policy;
        self.detached(move |d| async move { d.record_login_failure(&key, at, &policy).await })
            .await
    }
    async fn reserve_login_attempt(
        &self,
        key: &str,
        at: Timestamp,
        policy: &ThrottlePolicy,
    ) -> StoreResult<Result<u32, Timestamp>> {
        let key = key.to_owned();
        let policy = *policy;
        self.detached(move |d| async move { d.reserve_login_attempt(&key, at, &policy).await })
            .await
    }
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        let key = key.to_owned();
        self.detached(move |d| async move { d.clear_login_failures(&key).await })
            .await
    }
    async fn clear_login_failures_under(&self, key: &str) -> StoreResult<()> {
        let key = key.to_owned();
        self.detached(move |d| async move { d.clear_login_failures_under(&key).await })
            .await
    }
    async fn remember_login_address(
        &self,
        account: &str,
        address: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        let account = account.to_owned();
        let address = address.to_owned();
        self.detached(
            move |d| async move { d.remember_login_address(&account, &address, at).await },
        )
        .await
    }
    async fn login_address_known(
        &self,
        account: &str,
        address: &str,
        since: Timestamp,
    ) -> StoreResult<bool> {
        let account = account.to_owned();
        let address = address.to_owned();
        self.detached(
            move |d| async move { d.login_address_known(&account, &address, since).await },
        )
        .await
    }
}
