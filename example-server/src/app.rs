//! Start-up: store, migrations, secrets, bootstrap, change feed, router, serve.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use rbac_core::service::{random_token, JWT_SECRET_SETTING};
use rbac_core::store::Store;
use rbac_core::{
    AuthorizerConfig, HasherConfig, JwtCodec, JwtKey, PrivilegeRegistry, Rbac, RbacConfig, Senders,
};
use tokio::net::TcpListener;

use crate::api;
use crate::config::Config;
use crate::metrics;
use crate::serve;
pub use crate::state::AppState;
use crate::webhooks::without_secrets;

/// A boxed error for start-up and the command-line tools.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Runs the server until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> Result<(), BoxError> {
    // First, so every layer and service built below reaches the recorder.
    let metrics = metrics::install()?;
    let webhooks = crate::webhooks::Webhooks::from_config(&config)?;
    let (sql, rbac) = open(&config).await?;
    if let Some(generated) = rbac
        .bootstrap(config.initial_admin_password()?.as_deref())
        .await?
    {
        // Shown once, on the terminal, never through the log.
        println!("created user admin with generated password: {generated}");
    }
    let moved = crate::api::console::accounts::scope_console_roles(&rbac).await?;
    if moved > 0 {
        tracing::info!(
            users = moved,
            "console roles now hold within each account's organisation"
        );
    }
    let _feed =
        rbac_sqlx::spawn_change_feed(sql.clone(), rbac.authorizer().clone(), config.change_poll());
    let _deliveries = webhooks.map(|w| w.spawn(Arc::new(sql.clone())));
    serve_with(&config, sql, rbac, metrics).await
}

/// Connects to the store with the server's own migrations beside the library's.
pub async fn connect(config: &Config) -> Result<rbac_sqlx::SqlStore, BoxError> {
    let sql = rbac_sqlx::SqlStore::connect(&config.database).await?;
    Ok(sql.with_migrations(&api::MIGRATIONS)?)
}

/// Connects to the store, applies the migrations, and builds the use-cases with the
/// configured secrets, policies and message senders (no bootstrap, no background tasks).
pub async fn open(config: &Config) -> Result<(rbac_sqlx::SqlStore, Rbac), BoxError> {
    let sql = connect(config).await?;
    sql.migrate().await?;
    let organisations = api::console::accounts::organisations(&config.organisations);
    api::console::organisations::store(&sql, &organisations).await?;
    let store: Arc<dyn Store> = Arc::new(sql.clone());

    let secret = match &config.jwt_secret {
        Some(s) if s.len() >= 32 => s.clone(),
        Some(_) => return Err("--jwt-secret must be at least 32 bytes".into()),
        None => {
            store
                .setting_or_insert(JWT_SECRET_SETTING, &random_token(48))
                .await?
        }
    };
    let jwt = JwtCodec::new(
        JwtKey::from_secret(&secret),
        config.jwt_previous_secrets.iter().map(JwtKey::from_secret),
    );
    let mut rbac_config = RbacConfig {
        token_ttl: Duration::from_secs(config.token_ttl.max(1)),
        hasher: {
            let defaults = HasherConfig::default();
            HasherConfig {
                memory_kib: config.argon2_memory_kib,
                iterations: config.argon2_iterations,
                workers: config.argon2_workers.unwrap_or(defaults.workers).max(1),
                queue: config.argon2_queue.unwrap_or(defaults.queue),
                ..defaults
            }
        },
        throttle: config.login_throttle(),
        limits: config.abuse_limits(),
        cache: {
            let (sliding_ttl, sliding_interval) = config.sliding();
            AuthorizerConfig {
                sliding_ttl,
                sliding_interval,
                sliding_max: Duration::from_secs(config.console_token_max_age.max(1)),
                session_capacity: config.session_cache_capacity,
                ..AuthorizerConfig::default()
            }
        },
        codes: config.code_policy(),
        system_roles: api::system_roles(),
        admin: api::platform::admin_privileges(),
        scope_kinds: api::scope_kinds(),
        secrets_key: crate::secrets::secrets_key(config, &sql).await?,
        totp_issuer: config.totp_issuer.clone(),
        relying_party: Some(config.relying_party()),
        enrolment_window: Duration::from_secs(config.enrolment_window_secs),
        step_up: Duration::from_secs(config.step_up_secs.max(1)),
        ..RbacConfig::default()
    };
    let mut senders = Senders::default();
    match &config.sms_webhook {
        Some(url) => {
            senders.sms = Arc::new(crate::notify::WebhookSms::new(url, Duration::from_secs(5))?);
            tracing::info!(webhook = %without_secrets(url), "SMS messages go to the webhook");
        }
        None => {
            tracing::warn!(
                "no --sms-webhook: SMS messages are logged, not sent (development mode)"
            );
        }
    }
    match &config.smtp_url {
        Some(url) => {
            senders.mail = Arc::new(crate::notify::SmtpMail::new(url, &config.mail_from)?);
            tracing::info!(relay = %redact(url), "e-mails go to the SMTP relay");
        }
        None => {
            tracing::warn!("no --smtp-url: e-mails are logged, not sent (development mode)");
        }
    }
    rbac_config.senders = senders;
    let rbac = Rbac::new(
        store,
        Arc::new(PrivilegeRegistry::new(api::privileges())),
        jwt,
        rbac_config,
    )
    .await?;
    Ok((sql, rbac))
}

/// Deletes operation-log entries older than `days`, at start and then hourly, a thousand
/// at a time with a pause between, so a large backlog never holds writers up.
async fn prune_audit(store: Arc<dyn rbac_core::store::Store>, days: u32) {
    const BATCH: u32 = 1_000;
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let before = rbac_core::now() - i64::from(days) * 86_400;
        let mut pruned = 0u64;
        loop {
            match store.prune_audit(before, BATCH).await {
                Ok(n) => {
                    pruned += n;
                    if n < u64::from(BATCH) {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "pruning the operation log failed; retried next hour");
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if pruned > 0 {
            tracing::info!(
                entries = pruned,
                days,
                "operation-log entries past retention pruned"
            );
        }
    }
}

/// Deletes security events older than `days` (with their delivery records), at start and
/// then hourly, a thousand at a time.
async fn prune_events(store: Arc<dyn rbac_core::store::Store>, days: u32) {
    const BATCH: u32 = 1_000;
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let before = rbac_core::now() - i64::from(days) * 86_400;
        loop {
            match store.prune_events(before, BATCH).await {
                Ok(n) if n < u64::from(BATCH) => break,
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(e) => {
                    tracing::warn!(error = %e, "pruning security events failed; retried next hour");
                    break;
                }
            }
        }
    }
}

/// The rest of [`run`]: the gateway, the counters' flusher, the router, the accept loop.
async fn serve_with(
    config: &Config,
    sql: rbac_sqlx::SqlStore,
    rbac: Rbac,
    metrics: PrometheusHandle,
) -> Result<(), BoxError> {
    let gateway = crate::state::GatewayConfig::new(
        config.gateway_upstream.as_deref(),
        config.gateway_endpoints.clone(),
        config.request_timeout(),
        config.project_request_max.max(0),
    )?;
    // API-key request counts reach the store in batches, every second and at shutdown.
    let flusher = {
        let authorizer = rbac.authorizer().clone();
        let every = Duration::from_millis(config.count_flush_ms.max(10));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = authorizer.flush_request_counts().await {
                    tracing::warn!(error = %e, "flushing request counts failed; kept for the next try");
                }
            }
        })
    };
    let pruner = config
        .audit_retention_days
        .map(|days| tokio::spawn(prune_audit(rbac.store().clone(), days)));
    let event_pruner = tokio::spawn(prune_events(
        rbac.store().clone(),
        config.event_retention_days,
    ));
    let state = AppState::new(crate::state::Shared {
        rbac: rbac.clone(),
        metrics,
        metrics_access: config.metrics_access,
        gateway: Arc::new(gateway),
        console: Arc::new(crate::state::ConsoleConfig::new(
            &config.sms_phone_patterns,
        )?),
        consistency_wait: Duration::from_millis(config.consistency_wait_ms),
        listings: Arc::new(
            api::listings::Listings::new(
                config.full_listings,
                Duration::from_millis(config.full_listing_wait_ms),
            )
            .with_chunk(config.listing_chunk_rows),
        ),
        sql,
        secure_cookies: config.relying_party().origin.starts_with("https://"),
    });
    let console = crate::admin::router(&state);
    let app: Router = api::router(state, config, console);

    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    tracing::info!(%addr, database = %redact(&config.database), "example-server listening");
    let app = serve::with_request_timeout(app, config.request_timeout());
    let app = serve::with_client_address(app, config.trusted_proxies.clone().into());
    serve::serve(listener, app, config.limits(), shutdown()).await;
    flusher.abort();
    event_pruner.abort();
    if let Some(pruner) = pruner {
        pruner.abort();
    }
    match rbac.authorizer().flush_request_counts_at_exit().await {
        Ok(n) => tracing::info!(requests = n, "request counts flushed"),
        Err(e) => tracing::error!(error = %e, "flushing request counts at shutdown failed"),
    }
    tracing::info!("example-server stopped");
    Ok(())
}

/// A database URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{}@{}", &url[..s], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_urls_carry_no_secrets() {
        assert_eq!(
            without_secrets("http://user:pw@sms.example:8080/hook?key=SECRET#x"),
            "http://sms.example:8080/hook"
        );
        assert_eq!(without_secrets("not a url"), "<unparsable URL>");
        assert_eq!(
            redact("postgres://rbac:secret@db:5432/rbac"),
            "postgres://rbac@db:5432/rbac"
        );
    }
}
