//! The accept loop: hyper HTTP/1 with a header-read timeout (slow clients cannot hold a
//! connection by trickling headers), a write-progress timeout (nor by reading no answer), a
//! header-size cap, a cap on open connections, a per-request timeout, and a graceful
//! shutdown that drains in-flight requests.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::progress::WriteProgress;

/// Connection and request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time allowed for a request's headers to arrive.
    pub header_read_timeout: Duration,
    /// Time an answer may wait for the client to read any of it before the connection is cut.
    pub write_progress_timeout: Duration,
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
    /// Connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// Time in-flight requests get to finish after a shutdown signal.
    pub shutdown_grace: Duration,
}

/// Adds the per-request timeout to a router.
pub fn with_request_timeout(router: Router, timeout: Duration) -> Router {
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| async move {
            match tokio::time::timeout(timeout, next.run(req)).await {
                Ok(response) => response,
                Err(_) => {
                    tracing::warn!(?timeout, "request timed out");
                    (StatusCode::SERVICE_UNAVAILABLE, "request timed out").into_response()
                }
            }
        },
    ))
}

/// Resolves each request's client once, by the trusted-proxy rule ([`client_socket`]), and
/// leaves it where everything reads it: `ConnectInfo` (handlers, audit, `login_ip`,
/// throttling) and [`rbac_tower::ClientAddress`] (the layer's throttling of passwords).
pub fn with_client_address(router: Router, trusted: Arc<[IpAddr]>) -> Router {
    router.layer(axum::middleware::from_fn(
        move |mut req: Request, next: Next| {
            let trusted = trusted.clone();
            async move {
                let peer = req
                    .extensions()
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0);
                if let Some(peer) = peer {
                    let client = client_socket(peer, req.headers(), &trusted);
                    req.extensions_mut().insert(ConnectInfo(client));
                    req.extensions_mut()
                        .insert(rbac_tower::ClientAddress(client.ip()));
                }
                next.run(req).await
            }
        },
    ))
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy; then the nearest
/// `X-Forwarded-For` hop that is not a trusted proxy (with `X-Forwarded-Port`, or 0). A
/// client cannot hide behind a forged left-most entry.
pub fn client_socket(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> SocketAddr {
    if !trusted.contains(&peer.ip()) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .collect();
    match hops.iter().rev().find(|ip| !trusted.contains(ip)) {
        Some(ip) => {
            let port = headers
                .get("x-forwarded-port")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u16>().ok())
                .unwrap_or(0);
            SocketAddr::new(*ip, port)
        }
        None => peer,
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut shutdown = pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = app.clone().map_request(move |req: Request<Incoming>| {
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req
        });
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_buf_size(limits.max_header_bytes.max(8192));
            let io = WriteProgress::new(stream, limits.write_progress_timeout);
            let conn =
                builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("draining in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(grace = ?limits.shutdown_grace, "in-flight requests did not finish in time");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdrs(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().expect("header"));
        h
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy: SocketAddr = "10.0.0.1:4000".parse().expect("addr");
        let trusted: Vec<IpAddr> = vec!["10.0.0.1".parse().expect("ip")];
        let h = hdrs("203.0.113.9, 10.0.0.1");
        let at = |s: &str| s.parse::<SocketAddr>().expect("addr");
        assert_eq!(client_socket(proxy, &h, &[]), at("10.0.0.1:4000"));
        assert_eq!(client_socket(proxy, &h, &trusted), at("203.0.113.9:0"));
        // A client cannot hide behind a forged left-most entry: the nearest untrusted hop wins.
        let h = hdrs("198.51.100.1, 203.0.113.9");
        assert_eq!(client_socket(proxy, &h, &trusted), at("203.0.113.9:0"));
    }
}

/// The client's socket address as text (`IP:port`), empty when unknown.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub Option<SocketAddr>);

impl ClientAddr {
    /// The client's IP address as text.
    pub fn ip(&self) -> String {
        self.0.map(|a| a.ip().to_string()).unwrap_or_default()
    }
}

/// The client's `User-Agent` (at most 256 characters), empty when absent or not text.
#[derive(Debug, Clone, Default)]
pub struct UserAgent(pub String);

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        Ok(UserAgent(agent.chars().take(256).collect()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}
