//! Gateway surface: API keys on /rpc, counted, capped per UTC day across instances, revoked with their project; /rpc without an upstream.

use std::time::Duration;
use tests::*;

use crate::gateway_support;
use gateway_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_keys_are_counted_capped_and_revoked() {
    let smtp = SmtpServer::start();
    let upstream = Webhook::start().await;
    let s = TestServer::start_with(&[
        "--smtp-url",
        &smtp.url(),
        "--gateway-upstream",
        upstream.url(),
    ])
    .await;
    let (_, _, token) = registered(&s, &smtp).await;
    let (key, secret) = create_project(&s, &token, "quota").await;

    // Bad credentials are refused before anything is counted or forwarded.
    assert_eq!(rpc(&s, &key, "wrong-secret", "{}").await.0, 401);
    assert_eq!(rpc(&s, "NoSuchKey0000000", &secret, "{}").await.0, 401);
    let r = s
        .send_with("POST", "/rpc", &[JSON_CT], Some(b"{}".to_vec()))
        .await;
    assert_eq!(r.0, 401, "{}", r.1);
    assert!(upstream.received().is_empty());

    // Forwarded as is: body, query; the upstream's answer comes back.
    let r = rpc(
        &s,
        &key,
        &secret,
        r#"{"jsonrpc":"2.0","method":"ping","id":1}"#,
    )
    .await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["result"], "from upstream", "{}", r.1);
    assert_eq!(upstream.received()[0]["method"], "ping");
    let head = upstream.heads()[0].to_ascii_lowercase();
    assert!(head.starts_with("post /sms?chain=main"), "{head}");
    assert!(
        !head.contains("x-project-secret"),
        "credentials are not forwarded: {head}"
    );
    // Nor the caller's other credentials: a session token or a cookie.
    let r = s
        .send_with(
            "POST",
            "/rpc",
            &[
                JSON_CT,
                ("X-Project-Key", key.as_str()),
                ("X-Project-Secret", secret.as_str()),
                ("Auth-Token", "callers-session-token"),
                ("Cookie", "session=callers-cookie"),
                ("X-Trace", "kept"),
            ],
            Some(b"{}".to_vec()),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    let head = upstream.heads().last().cloned().unwrap_or_default();
    let lower = head.to_ascii_lowercase();
    assert!(
        lower.contains("x-trace: kept"),
        "other headers pass: {head}"
    );
    for secret_header in ["auth-token", "cookie", "callers-"] {
        assert!(
            !lower.contains(secret_header),
            "{secret_header} forwarded: {head}"
        );
    }
    // Basic key:secret works too.
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
    );
    let r = s
        .send_with(
            "POST",
            "/rpc",
            &[JSON_CT, ("Authorization", basic.as_str())],
            Some(b"{}".to_vec()),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);

    // 3 used; 40 at once: exactly 27 more pass (request 30 is the last), the rest get 429.
    let mut calls = Vec::new();
    for _ in 0..40 {
        let (s, key, secret) = (&s, key.clone(), secret.clone());
        calls.push(async move { rpc(s, &key, &secret, "{}").await });
    }
    let results = futures_join_all(calls).await;
    let passed = results.iter().filter(|r| r.0 == 200).count();
    let refused: Vec<_> = results.iter().filter(|r| r.0 == 429).collect();
    assert_eq!(
        passed,
        27,
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert_eq!(refused.len(), 13);
    assert_ne!(header_code(refused[0]), 0, "{}", refused[0].1);
    assert_eq!(rpc(&s, &key, &secret, "{}").await.0, 429, "request 31");

    // The counts reach the store within about a second (batched, not per request).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let r = list_projects(&s, &token, None).await;
        let p = expect_ok(&r, "list")["list"][0].clone();
        if p["request_total"] == 30 {
            assert_eq!(p["request_today"], 30, "{p}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "counts not flushed: {p}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Deleting the project ends its key at once.
    let (key2, secret2) = create_project(&s, &token, "revoked").await;
    assert_eq!(rpc(&s, &key2, &secret2, "{}").await.0, 200);
    let r = list_projects(&s, &token, None).await;
    let id2 = expect_ok(&r, "list")["list"]
        .as_array()
        .and_then(|l| l.iter().find(|p| p["project_key"] == key2.as_str()))
        .and_then(|p| p["id"].as_i64())
        .expect("id");
    expect_ok(
        &gw(&s, "project/delete", &json!({"id": id2}), &token).await,
        "delete",
    );
    assert_eq!(rpc(&s, &key2, &secret2, "{}").await.0, 401, "deleted key");
}

#[tokio::test]
async fn counts_are_batched_and_flushed_at_shutdown() {
    let upstream = Webhook::start().await;
    // Flushing only every ten minutes: whatever reaches the store came from the shutdown.
    let s = TestServer::start_with(&[
        "--gateway-upstream",
        upstream.url(),
        "--count-flush-ms",
        "600000",
    ])
    .await;
    let admin = s.admin_token().await;
    let (key, secret) = create_project(&s, &admin, "flush").await;
    for _ in 0..5 {
        assert_eq!(rpc(&s, &key, &secret, "{}").await.0, 200);
    }
    // Counted in process, not written per request.
    let r = list_projects(&s, &admin, None).await;
    assert_eq!(
        expect_ok(&r, "list")["list"][0]["request_total"],
        0,
        "{}",
        r.1
    );
    s.terminate();
    let again = s
        .start_sharing(&["--gateway-upstream", upstream.url()])
        .await;
    let admin = again.admin_token().await;
    let r = list_projects(&again, &admin, None).await;
    let p = expect_ok(&r, "list after restart")["list"][0].clone();
    assert_eq!(p["request_total"], 5, "{p}");
    assert_eq!(p["request_today"], 5, "{p}");
    // The quota counts them after the restart too: the first instance gave its unused
    // slice back at shutdown, so 25 more pass and the 31st request of the day is refused.
    let again_key = p["project_key"].as_str().expect("key").to_string();
    assert_eq!(again_key, key);
    for i in 0..25 {
        assert_eq!(
            rpc(&again, &key, &secret, "{}").await.0,
            200,
            "request {}",
            i + 6
        );
    }
    assert_eq!(rpc(&again, &key, &secret, "{}").await.0, 429, "request 31");
}

/// Two instances on one store share one quota: 30 calls through each at once let exactly
/// 30 through in all (the quota), never 30 each.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_quota_across_instances() {
    let upstream = Webhook::start().await;
    let a = TestServer::start_with(&["--gateway-upstream", upstream.url()]).await;
    let b = a
        .start_sharing(&["--gateway-upstream", upstream.url()])
        .await;
    let admin = a.admin_token().await;
    let (key, secret) = create_project(&a, &admin, "shared quota").await;
    // Positive control: both instances accept the key.
    assert_eq!(rpc(&a, &key, &secret, "{}").await.0, 200);
    assert_eq!(rpc(&b, &key, &secret, "{}").await.0, 200);
    let mut calls = Vec::new();
    for i in 0..60 {
        let (srv, key, secret) = (
            if i % 2 == 0 { &a } else { &b },
            key.clone(),
            secret.clone(),
        );
        calls.push(async move { rpc(srv, &key, &secret, "{}").await.0 });
    }
    let results = futures_join_all(calls).await;
    let passed = results.iter().filter(|c| **c == 200).count();
    assert_eq!(passed, 28, "{results:?}");
    assert!(
        results.iter().all(|c| *c == 200 || *c == 429),
        "{results:?}"
    );
    assert_eq!(
        rpc(&a, &key, &secret, "{}").await.0,
        429,
        "A after the quota"
    );
    assert_eq!(
        rpc(&b, &key, &secret, "{}").await.0,
        429,
        "B after the quota"
    );
}

#[tokio::test]
async fn rpc_without_an_upstream_is_unavailable() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let (key, secret) = create_project(&s, &admin, "no upstream").await;
    let r = rpc(&s, &key, &secret, "{}").await;
    assert_eq!(r.0, 503, "{}", r.1);
    assert_ne!(header_code(&r), 0);
}

#[tokio::test]
async fn a_forwarded_answer_carries_no_revision() {
    let upstream = Webhook::start().await;
    let s = TestServer::start_with(&["--gateway-upstream", upstream.url()]).await;
    let admin = s.admin_token().await;
    // The control: this server's own successful write carries its revision.
    let (status, headers, body) = s
        .post_with_headers(
            "project/create",
            &json!({"project_type": 1, "project_name": "revised"}),
            Some(&admin),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        headers.iter().any(|(k, _)| k == "x-rbac-revision"),
        "the server's own write carries its revision: {headers:?}"
    );
    let key = body["data"]["project_key"]
        .as_str()
        .expect("key")
        .to_string();
    let secret = body["data"]["project_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    // A forwarded answer is the upstream's, not this server's write: no revision.
    let (status, headers, body) = s
        .post_with_headers(
            "/rpc",
            &json!({"jsonrpc": "2.0", "method": "ping", "id": 2}),
            None,
            &[
                ("X-Project-Key", key.as_str()),
                ("X-Project-Secret", secret.as_str()),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "from upstream", "{body}");
    assert!(
        !headers.iter().any(|(k, _)| k == "x-rbac-revision"),
        "a forwarded answer carries no revision: {headers:?}"
    );
}
