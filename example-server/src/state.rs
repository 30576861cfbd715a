//! What every handler shares: the services, the metrics handle, and the settings the
//! surfaces read (built from the configuration at start-up).

use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use rbac_core::Rbac;

use crate::config::MetricsAccess;

/// What every handler shares, behind one `Arc`: the router and each middleware clone the
/// state for every request, so a clone is one reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// The state over `shared`.
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The services, settings and handles of [`AppState`].
pub struct Shared {
    /// The use-case services.
    pub rbac: Rbac,
    /// Renders the Prometheus exposition.
    pub metrics: PrometheusHandle,
    /// Who may read `/metrics`.
    pub metrics_access: MetricsAccess,
    /// The gateway's upstream and public endpoints.
    pub gateway: Arc<GatewayConfig>,
    /// The console's own rules (the phone formats it texts).
    pub console: Arc<ConsoleConfig>,
    /// How long a request may wait for the revision it names (`X-Rbac-Consistency`).
    pub consistency_wait: Duration,
    /// The SQL store itself, for readiness (reachable, schema current).
    pub sql: rbac_sqlx::SqlStore,
    /// Large listings served at once, and how long one waits for its turn.
    pub listings: Arc<crate::api::listings::Listings>,
    /// Whether the console's cookies are `Secure` (browsers reach it over https).
    pub secure_cookies: bool,
}

/// Where `/rpc` forwards to, and what `end_points` lists.
#[derive(Debug, Clone, Default)]
pub struct GatewayConfig {
    /// The upstream base URL (`None`: `/rpc` answers 503).
    pub upstream: Option<reqwest::Url>,
    /// The public URLs a project's programs call (`end_points`).
    pub endpoints: Vec<String>,
    /// The client that forwards.
    pub client: reqwest::Client,
    /// Requests a new project's key may make per UTC day.
    pub daily_quota: i64,
}

impl GatewayConfig {
    /// A gateway forwarding to `upstream` (if any), each forward bounded by `timeout`,
    /// whose new projects may make `daily_quota` requests per UTC day.
    pub fn new(
        upstream: Option<&str>,
        endpoints: Vec<String>,
        timeout: Duration,
        daily_quota: i64,
    ) -> std::result::Result<Self, String> {
        let upstream = upstream
            .map(|u| {
                let url =
                    reqwest::Url::parse(u).map_err(|e| format!("--gateway-upstream {u:?}: {e}"))?;
                if url.scheme() != "http" {
                    return Err(format!(
                        "--gateway-upstream must be an http:// URL; got {}:",
                        url.scheme()
                    ));
                }
                Ok(url)
            })
            .transpose()?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(GatewayConfig {
            upstream,
            endpoints,
            client,
            daily_quota,
        })
    }
}

/// The console's own rules.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// The phone number formats SMS codes may go to (the whole number must match one).
    pub phone_patterns: Vec<regex::Regex>,
}

impl ConsoleConfig {
    /// Compiles the allowed phone formats; a malformed one is a start-up error.
    pub fn new(patterns: &[String]) -> Result<Self, regex::Error> {
        let phone_patterns = patterns
            .iter()
            .map(|p| regex::Regex::new(p))
            .collect::<Result<_, _>>()?;
        Ok(ConsoleConfig { phone_patterns })
    }

    /// Whether an SMS code may go to `phone`.
    pub fn phone_allowed(&self, phone: &str) -> bool {
        self.phone_patterns.iter().any(|p| p.is_match(phone))
    }
}
