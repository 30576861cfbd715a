//! Requests that end early never break the store. Eight clients send 300 logins and admin
//! writes and close each connection at a random moment, mostly before the answer (as a
//! client that goes away, or a timeout, does); afterwards every surface's login and an admin
//! write succeed (SQLite, PostgreSQL, MariaDB). Before the store ran its work detached, 30–50
//! such logins made every later login and admin write answer 500 until a restart.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::console_support::{console_login, console_server, register};
use tests::*;

/// Sends one raw HTTP request and closes the connection `after` it was sent, answered or not.
async fn abandon(addr: &str, request: String, after: Duration) {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return;
    };
    if stream.write_all(request.as_bytes()).await.is_err() {
        return;
    }
    tokio::time::sleep(after).await;
    drop(stream);
}

/// 0–50 ms, spread over the requests (a multiplicative hash of the client and request).
fn jitter(client: u32, i: u32) -> u64 {
    let seed = std::process::id();
    let h = (client.wrapping_mul(0x9E37_79B9) ^ i.wrapping_mul(0x85EB_CA6B) ^ seed)
        .wrapping_mul(0xC2B2_AE35);
    u64::from(h >> 16) % 51
}

/// A raw `POST` with a JSON body, as the client at `from` behind the trusted proxy.
fn post(path: &str, body: &Value, from: &str, token: Option<&str>) -> String {
    let body = body.to_string();
    let auth = token.map_or_else(String::new, |t| format!("Auth-Token: {t}\r\n"));
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nX-Forwarded-For: {from}\r\n{auth}Connection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn abandoned_logins_and_writes_leave_every_surface_working() {
    let hook = Webhook::start().await;
    let srv = Arc::new(console_server(&hook, &["--trusted-proxy", "127.0.0.1"]).await);
    let admin = srv.admin_token().await;
    let password = gen_password();
    let known = unique_name("known");
    srv.create_user(&admin, &known, &password, None).await;
    // Wrong passwords go to another account, which they may lock.
    let victim = unique_name("victim");
    srv.create_user(&admin, &victim, &password, None).await;
    let addr = srv.base_url().trim_start_matches("http://").to_string();

    // 8 clients × 38 requests, each connection closed 0–50 ms after its request was sent.
    let clients: Vec<_> = (0..8u32)
        .map(|client| {
            let (addr, admin, victim) = (addr.clone(), admin.clone(), victim.clone());
            tokio::spawn(async move {
                for i in 0..38u32 {
                    let from = format!("10.{client}.{}.{}", i / 200, i % 200 + 1);
                    let request = match i % 6 {
                        0 | 1 => post(
                            "/api/v1/login",
                            &json!({"name": unique_name("nobody"), "password": "Wrong-pw-1"}),
                            &from,
                            None,
                        ),
                        2 => post(
                            "/api/v1/login",
                            &json!({"name": victim, "password": "Wrong-pw-1"}),
                            &from,
                            None,
                        ),
                        3 => post(
                            "/api/v1/platform/create/role",
                            &json!({"role_name": unique_name("gone"), "remark": "abandoned"}),
                            &from,
                            Some(&admin),
                        ),
                        4 => post(
                            "/api/v1/platform/create/user",
                            &json!({
                                "user_name": unique_name("gone"),
                                "user_alias": "abandoned",
                                "phone_number": gen_phone(),
                                "password": "Abandoned-pw-1",
                            }),
                            &from,
                            Some(&admin),
                        ),
                        _ => post(
                            "/api/v1/user/login",
                            &json!({"username": unique_name("nobody"), "password": "Wrong-pw-1"}),
                            &from,
                            None,
                        ),
                    };
                    let after = Duration::from_millis(jitter(client, i));
                    abandon(&addr, request, after).await;
                }
            })
        })
        .collect();
    for c in clients {
        c.await.expect("client");
    }

    // Recovery: the first login that succeeds, timed from the last abandoned request. The
    // abandoned logins and creations still hash (they are counted and written as if their
    // clients had waited), so until that backlog drains a login may be answered busy
    // (1019); never a 500.
    let ended = Instant::now();
    loop {
        let r = srv
            .post("login", &json!({"name": known, "password": password}), None)
            .await;
        assert_eq!(r.0, 200, "{r:?}");
        match code(&r.1) {
            0 => break,
            1019 => {}
            other => panic!("a login after the abandoned requests answered {other}: {r:?}"),
        }
        assert!(
            ended.elapsed() < Duration::from_secs(60),
            "logins still busy 60 s after the abandoned requests: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "abandoned requests: the first login succeeded {:?} after the last",
        ended.elapsed()
    );

    // Every surface logs in; an admin write succeeds; the store is ready.
    srv.login(&known, &password).await;
    let cloud = srv
        .post(
            "user/login",
            &json!({"username": known, "password": password}),
            None,
        )
        .await;
    assert_eq!(cloud.1["errCode"], json!(0), "cloud login: {cloud:?}");
    let iam = srv
        .iam(
            "POST",
            "/login",
            Auth::None,
            Some(&json!({"username": known, "password": password})),
        )
        .await;
    assert_eq!(iam.0, 200, "IAM login: {iam:?}");
    let (console_name, console_password, _) = register(&srv, &hook, 2).await;
    console_login(&srv, &console_name, &console_password, 2).await;
    let admin = srv.admin_token().await;
    srv.create_role(&admin, &unique_name("after")).await;
    srv.create_user(&admin, &unique_name("after"), &gen_password(), None)
        .await;
    let ready = srv.request("GET", "/readyz", None).await;
    assert_eq!(
        ready.0, 200,
        "ready after the abandoned requests: {ready:?}"
    );
}

#[tokio::test]
async fn readiness_answers_503_while_no_write_gets_through() {
    let srv = TestServer::start().await;
    let (status, body) = srv.get_text("/readyz", &[]).await;
    assert_eq!(status, 200, "ready before the lock: {body}");
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let lock = WriteLock::take(srv.database_url()).await;
    let asked = Instant::now();
    let (status, body) = srv.get_text("/readyz", &[]).await;
    assert_eq!(status, 503, "not ready while writes are locked out: {body}");
    assert!(body.contains("write"), "says why: {body}");
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "answered within the probe's second"
    );
    // Many anonymous askers share one probe: none waits much longer than it.
    let askers: Vec<_> = (0..20)
        .map(|_| {
            let url = srv.url("/readyz");
            tokio::spawn(async move {
                let t = Instant::now();
                let status = reqwest::get(url).await.map(|r| r.status().as_u16());
                (status, t.elapsed())
            })
        })
        .collect();
    for a in askers {
        let (status, took) = a.await.expect("asker");
        assert_eq!(status.ok(), Some(503));
        assert!(took < Duration::from_secs(4), "an asker waited {took:?}");
    }
    lock.release().await;

    // Once writes get through again (and the kept answer is a second old), ready again.
    let released = Instant::now();
    loop {
        let (status, body) = srv.get_text("/readyz", &[]).await;
        if status == 200 {
            break;
        }
        assert!(
            released.elapsed() < Duration::from_secs(10),
            "still not ready 10 s after the lock was released: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A sample of `/metrics`: the line starting with `series ` (0 when absent).
async fn metric(srv: &TestServer, series: &str) -> f64 {
    let (status, text) = srv.get_text("/metrics", &[]).await;
    assert_eq!(status, 200, "/metrics: {text}");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{series} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Logins the server has taken up: hashing or waiting for a hash, or answered wrong.
async fn logins_taken_up(srv: &TestServer) -> f64 {
    metric(srv, "rbac_password_hash_queue_depth").await
        + metric(srv, "rbac_logins_total{outcome=\"bad_credentials\"}").await
}

/// Sends `n` wrong logins of unknown names from `from`, one by one, closing each
/// connection as soon as the server has taken the login up (one worker hashes them in
/// turn, so they are abandoned while waiting for their hash or during it); then waits until
/// no hash runs or waits.
async fn abandon_wrong_logins(srv: &TestServer, from: &str, n: usize) {
    let addr = srv.base_url().trim_start_matches("http://").to_string();
    let mut taken = logins_taken_up(srv).await;
    for _ in 0..n {
        let request = post(
            "/api/v1/login",
            &json!({"name": unique_name("nobody"), "password": "Wrong-pw-1"}),
            from,
            None,
        );
        let mut stream = TcpStream::connect(&addr).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("send");
        let started = Instant::now();
        while logins_taken_up(srv).await < taken + 1.0 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "a login never taken up"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        taken += 1.0;
        drop(stream);
    }
    let started = Instant::now();
    while metric(srv, "rbac_password_hash_queue_depth").await > 0.0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "hashes never ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Logs in with the right password from `from`: the code (0, or 1009 while it is locked).
async fn right_login_from(srv: &TestServer, from: &str, name: &str, password: &str) -> i64 {
    let r = srv
        .post_with_headers(
            "login",
            &json!({"name": name, "password": password}),
            None,
            &[("X-Forwarded-For", from)],
        )
        .await;
    assert_eq!(r.0, 200, "{r:?}");
    code(&r.2)
}

#[tokio::test]
async fn abandoned_wrong_logins_count_against_their_address() {
    let srv = TestServer::start_with(&[
        "--trusted-proxy",
        "127.0.0.1",
        "--login-address-max-failures",
        "60",
        "--login-max-failures",
        "1000",
        "--login-backoff-secs",
        "0",
        "--login-address-concurrency",
        "100",
        "--argon2-workers",
        "1",
    ])
    .await;
    let admin = srv.admin_token().await;
    let (name, password) = (unique_name("owner"), gen_password());
    srv.create_user(&admin, &name, &password, None).await;

    // Sixty abandoned failures lock the address, as sixty completed ones do.
    abandon_wrong_logins(&srv, "10.60.0.1", 60).await;
    let started = Instant::now();
    while right_login_from(&srv, "10.60.0.1", &name, &password).await != 1009 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "60 abandoned failures did not lock their address"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Control: 59 abandoned leave the address open; the 60th, completed, locks it.
    abandon_wrong_logins(&srv, "10.59.0.1", 59).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        right_login_from(&srv, "10.59.0.1", &name, &password).await,
        0,
        "59 failures leave the address open"
    );
    let r = srv
        .post_with_headers(
            "login",
            &json!({"name": unique_name("nobody"), "password": "Wrong-pw-1"}),
            None,
            &[("X-Forwarded-For", "10.59.0.1")],
        )
        .await;
    assert_eq!(code(&r.2), 1002, "{r:?}");
    assert_eq!(
        right_login_from(&srv, "10.59.0.1", &name, &password).await,
        1009,
        "the 60th failure locks it"
    );
    // And another address is untouched.
    assert_eq!(
        right_login_from(&srv, "10.61.0.1", &name, &password).await,
        0
    );
}
