//! The event, audit, setting, code, API-key and change-log ports, run detached.

use async_trait::async_trait;
use rbac_core::store::{
    ApiKeyStore, AuditStore, ChangeLog, CodeStore, EventStore, SettingStore, StoreResult,
};
use rbac_core::{
    ApiKey, ApiKeyId, AuditEntry, AuditQuery, Change, CodeCheck, Journal, Listing, Page,
    RequestCount, Timestamp, UserId, VerificationCode,
};

use crate::SqlStore;

#[async_trait]
impl EventStore for SqlStore {
    async fn append_events(&self, events: &[rbac_core::events::NewEvent]) -> StoreResult<()> {
        let events = events.to_vec();
        self.detached(move |d| async move { d.append_events(&events).await })
            .await
    }
    async fn claim_deliveries(
        &self,
        target: &str,
        owner: &str,
        at: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        max_attempts: u32,
    ) -> StoreResult<Vec<rbac_core::events::Delivery>> {
        let target = target.to_owned();
        let owner = owner.to_owned();
        self.detached(move |d| async move {
            d.claim_deliveries(&target, &owner, at, lease_until, limit, max_attempts)
                .await
        })
        .await
    }
    async fn settle_delivery(
        &self,
        event: i64,
        target: &str,
        owner: &str,
        attempt: &rbac_core::events::Attempt,
    ) -> StoreResult<bool> {
        let target = target.to_owned();
        let owner = owner.to_owned();
        let attempt = attempt.clone();
        self.detached(
            move |d| async move { d.settle_delivery(event, &target, &owner, &attempt).await },
        )
        .await
    }
    async fn deliveries(&self, limit: u32) -> StoreResult<Vec<rbac_core::events::DeliveryStatus>> {
        self.detached(move |d| async move { d.deliveries(limit).await })
            .await
    }
    async fn recent_events(
        &self,
        limit: u32,
    ) -> StoreResult<Vec<rbac_core::events::SecurityEvent>> {
        self.detached(move |d| async move { d.recent_events(limit).await })
            .await
    }
    async fn prune_events(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        self.detached(move |d| async move { d.prune_events(before, limit).await })
            .await
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn list_audit(&self, query: &AuditQuery) -> StoreResult<Listing<AuditEntry>> {
        let query = query.clone();
        self.detached(move |d| async move { d.list_audit(&query).await })
            .await
    }
    async fn count_audit(&self, query: &AuditQuery) -> StoreResult<u64> {
        let query = query.clone();
        self.detached(move |d| async move { d.count_audit(&query).await })
            .await
    }
    async fn audit_rows(
        &self,
        query: &AuditQuery,
        after: Option<i64>,
    ) -> StoreResult<Vec<AuditEntry>> {
        let query = query.clone();
        self.detached(move |d| async move { d.audit_rows(&query, after).await })
            .await
    }
    async fn prune_audit(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        self.detached(move |d| async move { d.prune_audit(before, limit).await })
            .await
    }
}

#[async_trait]
impl SettingStore for SqlStore {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_owned();
        self.detached(move |d| async move { d.setting(&key).await })
            .await
    }
    async fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
        let key = key.to_owned();
        let value = value.to_owned();
        self.detached(move |d| async move { d.setting_or_insert(&key, &value).await })
            .await
    }
}

#[async_trait]
impl CodeStore for SqlStore {
    async fn put_code(
        &self,
        code: &VerificationCode,
        resend_after: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        let code = code.clone();
        self.detached(move |d| async move { d.put_code(&code, resend_after).await })
            .await
    }
    async fn take_code(
        &self,
        key: &str,
        digest: &str,
        context: &str,
        at: Timestamp,
        max_attempts: u32,
    ) -> StoreResult<CodeCheck> {
        let key = key.to_owned();
        let digest = digest.to_owned();
        let context = context.to_owned();
        self.detached(move |d| async move {
            d.take_code(&key, &digest, &context, at, max_attempts).await
        })
        .await
    }
    async fn withdraw_code(&self, key: &str, digest: &str) -> StoreResult<()> {
        let key = key.to_owned();
        let digest = digest.to_owned();
        self.detached(move |d| async move { d.withdraw_code(&key, &digest).await })
            .await
    }
    async fn purge_codes(&self, before: Timestamp) -> StoreResult<u64> {
        self.detached(move |d| async move { d.purge_codes(before).await })
            .await
    }
}

#[async_trait]
impl ApiKeyStore for SqlStore {
    async fn create_api_key(&self, key: &ApiKey, journal: &Journal) -> StoreResult<ApiKey> {
        let key = key.clone();
        let journal = journal.clone();
        self.detached(move |d| async move { d.create_api_key(&key, &journal).await })
            .await
    }
    async fn api_key(&self, id: ApiKeyId) -> StoreResult<Option<ApiKey>> {
        self.detached(move |d| async move { d.api_key(id).await })
            .await
    }
    async fn find_api_key(&self, key: &str) -> StoreResult<Option<ApiKey>> {
        let key = key.to_owned();
        self.detached(move |d| async move { d.find_api_key(&key).await })
            .await
    }
    async fn list_api_keys(&self, owner: UserId, page: Page) -> StoreResult<Listing<ApiKey>> {
        self.detached(move |d| async move { d.list_api_keys(owner, page).await })
            .await
    }
    async fn count_api_keys(&self, owner: UserId) -> StoreResult<u64> {
        self.detached(move |d| async move { d.count_api_keys(owner).await })
            .await
    }
    async fn api_key_rows(
        &self,
        owner: UserId,
        page: Page,
        after: Option<ApiKeyId>,
    ) -> StoreResult<Vec<ApiKey>> {
        self.detached(move |d| async move { d.api_key_rows(owner, page, after).await })
            .await
    }
    async fn revoke_api_key(&self, id: ApiKeyId, journal: &Journal) -> StoreResult<bool> {
        let journal = journal.clone();
        self.detached(move |d| async move { d.revoke_api_key(id, &journal).await })
            .await
    }
    async fn add_key_requests(&self, counts: &[RequestCount]) -> StoreResult<()> {
        let counts = counts.to_vec();
        self.detached(move |d| async move { d.add_key_requests(&counts).await })
            .await
    }
    async fn reserve_key_quota(&self, key: ApiKeyId, day: i64, want: i64) -> StoreResult<i64> {
        self.detached(move |d| async move { d.reserve_key_quota(key, day, want).await })
            .await
    }
    async fn release_key_quota(&self, key: ApiKeyId, day: i64, unused: i64) -> StoreResult<()> {
        self.detached(move |d| async move { d.release_key_quota(key, day, unused).await })
            .await
    }
}

#[async_trait]
impl ChangeLog for SqlStore {
    async fn change_cursor(&self) -> StoreResult<i64> {
        self.detached(move |d| async move { d.change_cursor().await })
            .await
    }
    async fn changes_since(&self, cursor: i64, limit: u32) -> StoreResult<Vec<(i64, Change)>> {
        self.detached(move |d| async move { d.changes_since(cursor, limit).await })
            .await
    }
    async fn prune_changes(&self, before: Timestamp) -> StoreResult<u64> {
        self.detached(move |d| async move { d.prune_changes(before).await })
            .await
    }

    async fn settled(&self) {
        self.tasks.settled().await
    }
}
