//! Prometheus metrics: the `metrics` recorder, request counters and latency per surface and
//! route template, and the gauges read when `/metrics` is scraped.
//!
//! The library crates emit through the `metrics` facade (`rbac_logins_total`,
//! `rbac_authorization_decisions_total`); this module installs the exporter they reach.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use rbac_core::{now, Rbac};
use utoipa_axum::router::OpenApiRouter;

use crate::config::MetricsAccess;
use crate::serve::ClientAddr;
use crate::state::AppState;

/// Latency buckets, in seconds: 100 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Installs the process-wide Prometheus recorder (before any layer resolves its counters).
pub fn install() -> Result<PrometheusHandle, Box<dyn std::error::Error + Send + Sync>> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("http_request_duration_seconds".into()),
            LATENCY_BUCKETS,
        )?
        .install_recorder()?;
    describe();
    // Histograms and idle series are compacted in the background, as the exporter expects.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

fn describe() {
    metrics::describe_counter!(
        "http_requests_total",
        "HTTP requests by surface, route template and status"
    );
    metrics::describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency by surface and route template"
    );
    metrics::describe_counter!("rbac_logins_total", "Password logins by outcome");
    metrics::describe_counter!(
        "rbac_authorization_decisions_total",
        "Layer decisions by outcome and required privilege"
    );
    metrics::describe_counter!(
        "rbac_cache_requests_total",
        "Role and session cache lookups by result"
    );
    metrics::describe_gauge!(
        "rbac_active_sessions",
        "Sessions neither revoked nor expired"
    );
    metrics::describe_gauge!(
        "rbac_password_hash_queue_depth",
        "Password hashes running or waiting"
    );
}

/// Counts and times every request of a surface's routes (by route template, not raw path).
pub fn instrument(
    surface: &'static str,
    routes: OpenApiRouter<AppState>,
) -> OpenApiRouter<AppState> {
    routes.route_layer(axum::middleware::from_fn(
        move |req: Request, next: Next| track(surface, req, next),
    ))
}

async fn track(surface: &'static str, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "http_requests_total",
        "surface" => surface,
        "route" => route.clone(),
        "status" => status
    )
    .increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        "surface" => surface,
        "route" => route
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: the exposition, subject to the access setting.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "operations_scrape",
    summary = "Prometheus metrics",
    description = "Open, loopback-only, or for a bearer token holding `UserAccess`, as `--metrics-access` says.",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The Prometheus text exposition", content_type = "text/plain"),
        (status = 401, description = "No valid bearer token from a non-loopback address"),
        (status = 403, description = "The token lacks `UserAccess`")
    )
)]
pub async fn scrape(State(app): State<AppState>, addr: ClientAddr, headers: HeaderMap) -> Response {
    if let Err(refusal) = allowed(&app, addr.0, &headers).await {
        return refusal;
    }
    refresh(&app.rbac).await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}

async fn allowed(
    app: &AppState,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
) -> Result<(), Response> {
    let loopback = peer.is_some_and(|p| is_loopback(p.ip()));
    match app.metrics_access {
        MetricsAccess::Open => return Ok(()),
        MetricsAccess::Loopback if loopback => return Ok(()),
        _ => {}
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err((StatusCode::UNAUTHORIZED, "metrics need a bearer token").into_response());
    };
    let authorizer = app.rbac.authorizer();
    let principal = authorizer
        .authenticate_jwt(token)
        .await
        .map_err(|_| (StatusCode::UNAUTHORIZED, "invalid token").into_response())?;
    authorizer
        .require_code(&principal, "UserAccess")
        .map_err(|_| (StatusCode::FORBIDDEN, "metrics need UserAccess").into_response())
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Values read at scrape time: cache counters, live sessions, hash queue depth.
async fn refresh(rbac: &Rbac) {
    let stats = rbac.authorizer().stats();
    for (cache, result, value) in [
        ("session", "hit", stats.session_hits.get()),
        ("session", "miss", stats.session_misses.get()),
        ("role", "hit", stats.role_hits.get()),
        ("role", "miss", stats.role_misses.get()),
    ] {
        metrics::counter!("rbac_cache_requests_total", "cache" => cache, "result" => result)
            .absolute(value);
    }
    match rbac.store().count_live_sessions(now()).await {
        Ok(n) => metrics::gauge!("rbac_active_sessions").set(n as f64),
        Err(e) => tracing::warn!(error = %e, "counting live sessions for metrics failed"),
    }
    metrics::gauge!("rbac_password_hash_queue_depth")
        .set(rbac.users().hasher().queue_depth() as f64);
}
