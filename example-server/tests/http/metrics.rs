//! `GET /metrics`: a Prometheus exposition read with a real text-format parser; known
//! requests move the counters by exactly what they should; access follows the setting.

use prometheus_parse::{Scrape, Value as Metric};
use tests::*;

/// Scrapes `/metrics` (200 asserted) and parses it.
async fn scrape(srv: &TestServer, headers: &[(&str, &str)]) -> Scrape {
    let (status, text) = srv.get_text("/metrics", headers).await;
    assert_eq!(status, 200, "/metrics: {text}");
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("a Prometheus exposition")
}

/// The value of the series `name` whose labels include `labels` (0 when absent). For a
/// histogram, its observation count (the `+Inf` bucket).
fn value(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let matching: Vec<f64> = s
        .samples
        .iter()
        .filter(|x| x.metric == name)
        .filter(|x| labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match &x.value {
            Metric::Counter(v) | Metric::Gauge(v) | Metric::Untyped(v) => *v,
            Metric::Histogram(buckets) => buckets
                .iter()
                .find(|b| b.less_than.is_infinite())
                .map_or(0.0, |b| b.count),
            Metric::Summary(_) => panic!("{name} should not be a summary"),
        })
        .collect();
    assert!(
        matching.len() <= 1,
        "{name}{labels:?} matches {} series; be more specific",
        matching.len()
    );
    matching.first().copied().unwrap_or(0.0)
}

fn delta(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    value(after, name, labels) - value(before, name, labels)
}

#[tokio::test]
async fn known_requests_move_the_counters_exactly() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    // A user without UserAccess, set up before the first scrape.
    let plain = srv.new_user(&admin, &["RoleAccess"]).await;

    let before = scrape(&srv, &[]).await;
    for _ in 0..3 {
        assert_eq!(srv.request("GET", "platform/ping", None).await.0, 200);
    }
    // Logins: two successes (platform and cloud surfaces), one wrong password, one unknown.
    srv.login(&plain.name, &plain.password).await;
    let r = srv
        .post(
            "user/login",
            &json!({"username": plain.name, "password": plain.password}),
            None,
        )
        .await;
    assert_eq!(r.1["errCode"], json!(0), "{}", r.1);
    srv.post(
        "login",
        &json!({"name": "admin", "password": "wrong"}),
        None,
    )
    .await;
    srv.post(
        "login",
        &json!({"name": unique_name("nobody"), "password": "x"}),
        None,
    )
    .await;
    // Decisions on list/user (UserAccess): allowed, denied, and no token.
    let list = json!({"page_no": 0, "page_size": 0});
    expect_ok(
        &srv.post("platform/list/user", &list, Some(&admin)).await,
        "admin lists",
    );
    expect_denied(
        &srv.post("platform/list/user", &list, Some(&plain.token))
            .await,
        "UserAccess",
        "plain user lists",
    );
    expect_unauthorized(
        &srv.post("platform/list/user", &list, None).await,
        "no token",
    );
    let after = scrape(&srv, &[]).await;

    let ping = [
        ("surface", "cloud"),
        ("route", "/api/v1/platform/ping"),
        ("status", "200"),
    ];
    assert_eq!(delta(&before, &after, "http_requests_total", &ping), 3.0);
    assert_eq!(
        delta(
            &before,
            &after,
            "http_request_duration_seconds",
            &[("surface", "cloud"), ("route", "/api/v1/platform/ping")]
        ),
        3.0,
        "latency histogram observations"
    );
    let list_route = [
        ("surface", "platform"),
        ("route", "/api/v1/platform/list/user"),
    ];
    for (status, n) in [("200", 2.0), ("401", 1.0)] {
        let mut labels = list_route.to_vec();
        labels.push(("status", status));
        assert_eq!(
            delta(&before, &after, "http_requests_total", &labels),
            n,
            "list/user answered HTTP {status}"
        );
    }
    // The first scrape itself is counted under its own route.
    assert_eq!(
        delta(
            &before,
            &after,
            "http_requests_total",
            &[
                ("surface", "operations"),
                ("route", "/metrics"),
                ("status", "200")
            ]
        ),
        1.0
    );

    for (outcome, n) in [
        ("success", 2.0),
        ("bad_credentials", 2.0),
        ("disabled", 0.0),
    ] {
        assert_eq!(
            delta(
                &before,
                &after,
                "rbac_logins_total",
                &[("outcome", outcome)]
            ),
            n,
            "logins {outcome}"
        );
    }
    for (outcome, n) in [("allowed", 1.0), ("denied", 1.0), ("unauthenticated", 1.0)] {
        assert_eq!(
            delta(
                &before,
                &after,
                "rbac_authorization_decisions_total",
                &[("outcome", outcome), ("privilege", "UserAccess")]
            ),
            n,
            "decisions {outcome} on UserAccess"
        );
    }
    // Two authenticated requests: each looked its session and its role up in a cache; the
    // admin's session was warm already.
    for cache in ["session", "role"] {
        let lookups: f64 = ["hit", "miss"]
            .iter()
            .map(|result| {
                delta(
                    &before,
                    &after,
                    "rbac_cache_requests_total",
                    &[("cache", cache), ("result", result)],
                )
            })
            .sum();
        assert!(lookups >= 2.0, "{cache} cache lookups: {lookups}");
    }
    assert!(
        delta(
            &before,
            &after,
            "rbac_cache_requests_total",
            &[("cache", "session"), ("result", "hit")]
        ) >= 1.0
    );
    // admin, plain (platform), plain (cloud), plain (new_user's login): live sessions.
    assert!(value(&after, "rbac_active_sessions", &[]) >= 4.0);
    assert!(after
        .samples
        .iter()
        .any(|s| s.metric == "rbac_password_hash_queue_depth"));
    assert_eq!(value(&after, "rbac_password_hash_queue_depth", &[]), 0.0);
}

#[tokio::test]
async fn token_mode_needs_user_access() {
    let srv = TestServer::start_with(&["--metrics-access", "token"]).await;
    let (status, _) = srv.get_text("/metrics", &[]).await;
    assert_eq!(status, 401, "no token");
    let (status, _) = srv
        .get_text("/metrics", &[("Authorization", "Bearer not-a-token")])
        .await;
    assert_eq!(status, 401, "bad token");
    let admin = srv.admin_token().await;
    let plain = srv.new_user(&admin, &["RoleAccess"]).await;
    let bearer = format!("Bearer {}", plain.token);
    let (status, _) = srv
        .get_text("/metrics", &[("Authorization", &bearer)])
        .await;
    assert_eq!(status, 403, "a token without UserAccess");
    let bearer = format!("Bearer {admin}");
    let s = scrape(&srv, &[("Authorization", &bearer)]).await;
    assert!(value(&s, "rbac_logins_total", &[("outcome", "success")]) >= 2.0);
}

#[tokio::test]
async fn loopback_clients_read_metrics_by_default() {
    let srv = TestServer::start().await;
    assert_eq!(srv.request("GET", "platform/ping", None).await.0, 200);
    let s = scrape(&srv, &[]).await;
    for name in [
        "http_requests_total",
        "http_request_duration_seconds",
        "rbac_cache_requests_total",
        "rbac_active_sessions",
    ] {
        assert!(s.docs.contains_key(name), "HELP line of {name}");
    }
}
