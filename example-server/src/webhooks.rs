//! Delivers security events to the configured webhooks: each instance claims due
//! deliveries under a lease (so two instances never send one at once), POSTs the event as
//! JSON signed with HMAC-SHA256 in `Rbac-Signature: t=<unix>,v1=<hex>` (over
//! `<t>.<body>`, as Stripe signs), and settles it: delivered on a 2xx, else retried with
//! exponential backoff. The queue lives in the store, so a restart loses nothing; an event
//! is sent twice only when an instance dies between sending and settling (receivers
//! deduplicate by `id`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use rbac_core::events::{Attempt, Delivery};
use rbac_core::store::EventStore;
use rbac_core::BoxError;
use sha2::Sha256;

use crate::config::Config;

/// How long a claimed delivery stays this instance's: longer than a whole batch can take
/// (each send times out after 10 s).
const LEASE_SECS: i64 = 300;
/// Deliveries claimed per target and poll.
const BATCH: u32 = 20;
/// Attempts before a delivery is given up (it stays visible with its last error).
const MAX_ATTEMPTS: u32 = 20;

/// The signing key of each target, from the secret file: a file holding one secret signs
/// every target's events; lines `URL SECRET` give each target its own, so a receiver that
/// knows its key cannot sign events another receiver would believe. Every target needs
/// one, a line naming no target is refused (a typo would leave one unsigned), and every
/// secret has at least 16 characters.
fn secrets_for(targets: &[String], text: &str) -> Result<HashMap<String, Arc<[u8]>>, String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let strong = |secret: &str| -> Result<Arc<[u8]>, String> {
        if secret.len() < 16 {
            return Err("a webhook secret has at least 16 characters".into());
        }
        Ok(Arc::from(secret.as_bytes()))
    };
    let per_target = lines
        .iter()
        .any(|l| l.split_once(char::is_whitespace).is_some());
    if !per_target {
        let shared = match lines.as_slice() {
            [one] => strong(one)?,
            _ => return Err("one secret, or lines `URL SECRET`".into()),
        };
        return Ok(targets
            .iter()
            .map(|t| (t.clone(), shared.clone()))
            .collect());
    }
    let mut secrets = HashMap::new();
    for line in lines {
        let Some((url, secret)) = line.split_once(char::is_whitespace) else {
            return Err("every line is `URL SECRET` once one is".into());
        };
        if !targets.iter().any(|t| t == url) {
            return Err(format!("{url} is not a --webhook target"));
        }
        if secrets
            .insert(url.to_string(), strong(secret.trim())?)
            .is_some()
        {
            return Err(format!("{url} has two secrets"));
        }
    }
    if let Some(missing) = targets.iter().find(|t| !secrets.contains_key(*t)) {
        return Err(format!("no secret for the target {missing}"));
    }
    Ok(secrets)
}

/// The webhook settings, checked at start.
#[derive(Clone)]
pub struct Webhooks {
    targets: Vec<String>,
    /// The key each target's events are signed with.
    secrets: HashMap<String, Arc<[u8]>>,
    poll: Duration,
    retry: i64,
}

impl Webhooks {
    /// The configured webhooks; `None` without any. A webhook without a secret, or one
    /// that is not an http(s) URL, refuses the start.
    pub fn from_config(config: &Config) -> Result<Option<Self>, BoxError> {
        let targets: Vec<String> = config
            .webhooks
            .iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if targets.is_empty() {
            return Ok(None);
        }
        for t in &targets {
            let url = reqwest::Url::parse(t).map_err(|e| format!("--webhook {t}: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!("--webhook {t}: not an http(s) URL").into());
            }
        }
        let path = config
            .webhook_secret_file
            .as_ref()
            .ok_or("--webhook needs --webhook-secret-file (the key that signs events)")?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let secrets =
            secrets_for(&targets, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Some(Webhooks {
            targets,
            secrets,
            poll: Duration::from_millis(config.webhook_poll_ms.max(10)),
            retry: i64::try_from(config.webhook_retry_secs.max(1)).unwrap_or(5),
        }))
    }

    /// Delivers from `store` until the process ends.
    pub fn spawn(self, store: Arc<dyn EventStore>) -> tokio::task::JoinHandle<()> {
        let owner = rbac_core::service::random_token(12);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.poll);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                for target in &self.targets {
                    if let Err(e) = self.round(&*store, &client, &owner, target).await {
                        tracing::warn!(error = %e, target = %without_secrets(target), "webhook delivery round failed");
                    }
                }
            }
        })
    }

    async fn round(
        &self,
        store: &dyn EventStore,
        client: &reqwest::Client,
        owner: &str,
        target: &str,
    ) -> Result<(), rbac_core::StoreError> {
        let at = rbac_core::now();
        let due = store
            .claim_deliveries(target, owner, at, at + LEASE_SECS, BATCH, MAX_ATTEMPTS)
            .await?;
        // The batch is sent at once (a slow receiver answers each in its own time), and
        // each delivery is settled as soon as its answer is in.
        let sends = due.iter().map(|delivery| async move {
            let attempt = self.send(client, delivery).await;
            if let Attempt::Failed { error, .. } = &attempt {
                tracing::warn!(target = %without_secrets(target), event = %delivery.event.event_id, error = %error, "webhook delivery failed");
            }
            store
                .settle_delivery(delivery.event.id, target, owner, &attempt)
                .await
        });
        for settled in futures_util::future::join_all(sends).await {
            settled?;
        }
        Ok(())
    }

    async fn send(&self, client: &reqwest::Client, delivery: &Delivery) -> Attempt {
        // Only configured targets are claimed; one without a key is never sent unsigned.
        let Some(secret) = self.secrets.get(&delivery.target) else {
            return Attempt::Failed {
                next_at: rbac_core::now() + 3600,
                error: "no secret for this target".into(),
            };
        };
        let e = &delivery.event;
        let body = serde_json::json!({
            "id": e.event_id,
            "type": e.kind,
            "created_at": e.created_at,
            "subject": e.subject,
            "actor": e.actor,
            "ip": e.ip,
            "detail": e.detail,
            "attempt": delivery.attempts + 1,
        })
        .to_string();
        let t = rbac_core::now();
        let result = client
            .post(&delivery.target)
            .header("Content-Type", "application/json")
            .header("Rbac-Event-Id", e.event_id.as_str())
            .header("Rbac-Signature", signature(secret, t, &body))
            .body(body)
            .send()
            .await;
        let error = match result {
            Ok(resp) if resp.status().is_success() => return Attempt::Delivered(rbac_core::now()),
            Ok(resp) => format!("HTTP {}", resp.status().as_u16()),
            // Without the URL: it may carry a token, and the error is logged and shown.
            Err(e) => e.without_url().to_string(),
        };
        let backoff = self
            .retry
            .saturating_mul(1i64 << delivery.attempts.min(20))
            .min(3600);
        Attempt::Failed {
            next_at: rbac_core::now() + backoff,
            error,
        }
    }
}

/// `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn signature(secret: &[u8], t: i64, body: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// A URL as it may be logged: no credentials, no query string (webhook URLs often carry
/// their API key there).
pub(crate) fn without_secrets(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "<unparsable URL>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::secrets_for;

    fn targets() -> Vec<String> {
        vec!["http://a.test/hook".into(), "http://b.test/hook".into()]
    }

    #[test]
    fn one_secret_signs_every_target_and_lines_give_each_its_own() {
        let shared = secrets_for(&targets(), "  shared-secret-0123456789  \n").expect("shared");
        assert_eq!(&*shared["http://a.test/hook"], b"shared-secret-0123456789");
        assert_eq!(shared["http://a.test/hook"], shared["http://b.test/hook"]);
        let text = "# keys\nhttp://a.test/hook key-of-a-0123456789\n\nhttp://b.test/hook key-of-b-0123456789\n";
        let own = secrets_for(&targets(), text).expect("per target");
        assert_eq!(&*own["http://a.test/hook"], b"key-of-a-0123456789");
        assert_eq!(&*own["http://b.test/hook"], b"key-of-b-0123456789");
    }

    #[test]
    fn gaps_typos_and_short_keys_refuse_the_start() {
        let refused = |text: &str| secrets_for(&targets(), text).expect_err(text);
        assert!(refused("short").contains("16 characters"));
        assert!(refused("http://a.test/hook key-of-a-0123456789").contains("no secret"));
        assert!(refused(
            "http://a.test/hook key-of-a-0123456789\nhttp://c.test/hook key-of-c-0123456789\nhttp://b.test/hook key-of-b-0123456789"
        )
        .contains("not a --webhook target"));
        assert!(refused(
            "http://a.test/hook key-of-a-0123456789\nhttp://a.test/hook key-of-x-0123456789\nhttp://b.test/hook key-of-b-0123456789"
        )
        .contains("two secrets"));
        assert!(
            refused("http://a.test/hook short\nhttp://b.test/hook key-of-b-0123456789")
                .contains("16 characters")
        );
        assert!(refused("one-secret-0123456789\nanother-0123456789").contains("one secret"));
    }
}
