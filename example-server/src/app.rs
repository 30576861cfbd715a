//! Start-up: store, migrations, secrets, bootstrap, change feed, router, serve.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use rbac_core::service::{random_token, JWT_SECRET_SETTING};
use rbac_core::{HasherConfig, JwtCodec, JwtKey, PrivilegeRegistry, Rbac, RbacConfig, Store};
use tokio::net::TcpListener;

use crate::api;
use crate::config::Config;
use crate::metrics::{self, MetricsAccess};
use crate::serve;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The use-case services.
    pub rbac: Rbac,
    /// Renders the Prometheus exposition.
    pub metrics: PrometheusHandle,
    /// Who may read `/metrics`.
    pub metrics_access: MetricsAccess,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<[IpAddr]>,
}

/// Runs the server until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // First, so every layer and service built below reaches the recorder.
    let metrics = metrics::install()?;
    let sql = rbac_sqlx::SqlStore::connect(&config.database).await?;
    sql.migrate().await?;
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
    let rbac_config = RbacConfig {
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
        ..RbacConfig::default()
    };
    let rbac = Rbac::new(
        store,
        Arc::new(PrivilegeRegistry::builtin()),
        jwt,
        rbac_config,
    )
    .await?;
    if let Some(generated) = rbac.bootstrap(config.admin_password.as_deref()).await? {
        // Shown once, on the terminal, never through the log.
        println!("created user admin with generated password: {generated}");
    }
    let _feed = rbac_sqlx::spawn_change_feed(sql, rbac.authorizer().clone(), config.change_poll());

    let state = AppState {
        rbac,
        metrics,
        metrics_access: config.metrics_access,
        trusted_proxies: config.trusted_proxies.clone().into(),
    };
    let app: Router = api::router(state, &config);

    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    tracing::info!(%addr, database = %redact(&config.database), "example-server listening");
    let app = serve::with_request_timeout(app, config.request_timeout());
    serve::serve(listener, app, config.limits(), shutdown()).await;
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
