//! Refused requests in the operation log, aggregated: one row per user, privilege and
//! minute, written without delaying the answer, so refused requests cannot flood the log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::authz::port::AuthorizerStore;
use crate::model::{now, AuditCategory, NewAudit, UserId};

/// The most (user, privilege) pairs remembered within a minute.
const REMEMBERED: usize = 100_000;

/// (user, privilege) → the minute of its last denial written to the operation log.
#[derive(Debug, Default)]
pub(crate) struct Denials {
    written: Mutex<HashMap<(UserId, String), i64>>,
}

impl Denials {
    /// Writes that `user` was refused `missing` on `target`, unless this minute already
    /// has that row; the write runs on its own task.
    pub(crate) fn record(
        &self,
        store: &Arc<dyn AuthorizerStore>,
        user_id: UserId,
        user_name: &str,
        missing: &str,
        target: &str,
    ) {
        let minute = now() / 60;
        {
            let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
            let key = (user_id, missing.to_string());
            if written.get(&key) == Some(&minute) {
                return;
            }
            if written.len() >= REMEMBERED {
                written.retain(|_, m| *m == minute);
            }
            written.insert(key, minute);
        }
        let entry = NewAudit {
            user_id: Some(user_id),
            user_name: user_name.to_string(),
            category: AuditCategory::System,
            content: format!(
                "access denied to {target}: privilege {missing} required \
                 (one entry per user, privilege and minute)"
            ),
            success: false,
        };
        let store = store.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = store.append_audit(&entry).await {
                    tracing::warn!(error = %e, "audit of a denial failed");
                }
            });
        }
    }
}
