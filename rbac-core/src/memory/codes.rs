//! The in-memory store's one-time codes.

use async_trait::async_trait;

use super::MemoryStore;
use crate::model::*;
use crate::store::{CodeStore, StoreResult};

#[async_trait]
impl CodeStore for MemoryStore {
    async fn put_code(
        &self,
        code: &VerificationCode,
        resend_after: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        let mut t = self.lock();
        if let Some((pending, _)) = t.codes.get(&code.key) {
            if pending.sent_at > resend_after {
                return Ok(Some(pending.sent_at));
            }
        }
        t.codes.insert(code.key.clone(), (code.clone(), 0));
        Ok(None)
    }

    async fn take_code(
        &self,
        key: &str,
        digest: &str,
        context: &str,
        at: Timestamp,
        max_attempts: u32,
    ) -> StoreResult<CodeCheck> {
        let mut t = self.lock();
        let Some((pending, attempts)) = t.codes.get_mut(key) else {
            return Ok(CodeCheck::Missing);
        };
        if pending.expires_at <= at {
            t.codes.remove(key);
            return Ok(CodeCheck::Expired);
        }
        if pending.context != context {
            return Ok(CodeCheck::OtherContext);
        }
        if crate::authn::password::same_text(&pending.digest, digest) {
            t.codes.remove(key);
            return Ok(CodeCheck::Accepted);
        }
        *attempts += 1;
        let burned = *attempts >= max_attempts;
        if burned {
            t.codes.remove(key);
        }
        Ok(CodeCheck::Wrong { burned })
    }

    async fn withdraw_code(&self, key: &str, digest: &str) -> StoreResult<()> {
        let mut t = self.lock();
        if t.codes.get(key).is_some_and(|(c, _)| c.digest == digest) {
            t.codes.remove(key);
        }
        Ok(())
    }

    async fn purge_codes(&self, before: Timestamp) -> StoreResult<u64> {
        let mut t = self.lock();
        let n = t.codes.len();
        t.codes.retain(|_, (c, _)| c.expires_at >= before);
        Ok((n - t.codes.len()) as u64)
    }
}
