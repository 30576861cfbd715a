//! The gateway surface (seed 002) through the real binary: registration with codes mailed
//! through a real SMTP server (aiosmtpd), projects, API keys with a daily quota, and
//! forwarding to an upstream on loopback.

use std::time::Duration;

use tests::*;

fn header_code(r: &(u16, Value)) -> i64 {
    r.1["header"]["code"].as_i64().unwrap_or(-999)
}

fn expect_header(r: &(u16, Value), code: i64, ctx: &str) {
    assert_eq!(header_code(r), code, "{ctx}: {}", r.1);
}

async fn auth_code(s: &TestServer, name: &str, email: &str) -> (u16, Value) {
    s.post(
        "auth-code",
        &json!({"user_name": name, "email": email}),
        None,
    )
    .await
}

async fn register(
    s: &TestServer,
    name: &str,
    password: &str,
    email: &str,
    code: &str,
) -> (u16, Value) {
    s.post(
        "register",
        &json!({"user_name": name, "password": password, "email": email, "reg_code": code}),
        None,
    )
    .await
}

fn email_of(name: &str) -> String {
    format!("{name}@example.com")
}

/// Registers a user through the mail flow; returns (name, password, token).
async fn registered(s: &TestServer, smtp: &SmtpServer) -> (String, String, String) {
    let (name, password) = (unique_name("gw"), gen_password());
    let email = email_of(&name);
    expect_ok(&auth_code(s, &name, &email).await, "auth-code");
    let code = smtp.code_for(&email).await;
    expect_ok(
        &register(s, &name, &password, &email, &code).await,
        "register",
    );
    let token = s.login(&name, &password).await;
    (name, password, token)
}

async fn gw(s: &TestServer, path: &str, body: &Value, token: &str) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).expect("json");
    let auth = format!("Bearer {token}");
    s.send_with(
        "POST",
        path,
        &[JSON_CT, ("Authorization", auth.as_str())],
        Some(bytes),
    )
    .await
}

async fn create_project(s: &TestServer, token: &str, name: &str) -> (String, String) {
    let r = gw(
        s,
        "project/create",
        &json!({"project_type": 1, "project_name": name}),
        token,
    )
    .await;
    let data = expect_ok(&r, "project/create");
    let key = data["project_key"].as_str().expect("key").to_string();
    let secret = data["project_secret"].as_str().expect("secret").to_string();
    assert_eq!(key.len(), 16, "{key}");
    assert_eq!(secret.len(), 48, "{secret}");
    assert!(key
        .bytes()
        .chain(secret.bytes())
        .all(|b| b.is_ascii_alphanumeric()));
    (key, secret)
}

async fn list_projects(s: &TestServer, token: &str, user_id: Option<i64>) -> (u16, Value) {
    let mut body = json!({"page_no": 0, "page_size": 20});
    if let Some(id) = user_id {
        body["user_id"] = json!(id);
    }
    gw(s, "project/list", &body, token).await
}

async fn rpc(s: &TestServer, key: &str, secret: &str, body: &str) -> (u16, Value) {
    s.send_with(
        "POST",
        "/rpc?chain=main",
        &[
            JSON_CT,
            ("X-Project-Key", key),
            ("X-Project-Secret", secret),
        ],
        Some(body.as_bytes().to_vec()),
    )
    .await
}

#[tokio::test]
async fn registration_through_a_real_smtp_server() {
    let smtp = SmtpServer::start();
    let s = TestServer::start_with(&["--smtp-url", &smtp.url()]).await;
    let (name, password) = (unique_name("reg"), gen_password());
    let email = email_of(&name);

    // Malformed address: 1027, and nothing is sent.
    expect_header(
        &auth_code(&s, &name, "not-an-address").await,
        1027,
        "bad e-mail",
    );
    expect_ok(&auth_code(&s, &name, &email).await, "auth-code");
    let code = smtp.code_for(&email).await;
    // One send per address per minute.
    let again = auth_code(&s, &name, &email).await;
    assert_ne!(
        header_code(&again),
        0,
        "a second code within a minute: {}",
        again.1
    );
    // A wrong code: 1032; the right one still works before the limit.
    let wrong = if code == "000000" { "000001" } else { "000000" };
    expect_header(
        &register(&s, &name, &password, &email, wrong).await,
        1032,
        "wrong code",
    );
    // A taken name is refused before the code is used (1005).
    let taken = unique_name("taken");
    s.create_user(&s.admin_token().await, &taken, &gen_password(), None)
        .await;
    expect_header(
        &register(&s, &taken, &password, &email, &code).await,
        1005,
        "taken name",
    );
    expect_ok(
        &register(&s, &name, &password, &email, &code).await,
        "register",
    );
    // The code worked once; the address is now taken: 1018, as the document words it.
    let r = register(&s, &unique_name("other"), &password, &email, &code).await;
    expect_header(&r, 1018, "duplicate e-mail");
    assert_eq!(r.1["header"]["message"], "Email already exist", "{}", r.1);
    expect_header(
        &auth_code(&s, "x", &email).await,
        1018,
        "code for a registered address",
    );

    // The new user logs in (shared login) with the self-registration role: no privileges.
    let r = s
        .post(
            "login",
            &json!({"user_name": name, "password": password}),
            None,
        )
        .await;
    let data = expect_ok(&r, "login");
    assert_eq!(data["role"], "registered-user", "{data}");
    assert_eq!(data["privilege"], json!([]), "{data}");

    // Five wrong codes burn a code.
    let (name2, email2) = (unique_name("burn"), email_of(&unique_name("burn")));
    expect_ok(&auth_code(&s, &name2, &email2).await, "auth-code 2");
    let code2 = smtp.code_for(&email2).await;
    let wrong2 = if code2 == "000000" {
        "000001"
    } else {
        "000000"
    };
    for _ in 0..5 {
        expect_header(
            &register(&s, &name2, &password, &email2, wrong2).await,
            1032,
            "wrong",
        );
    }
    expect_header(
        &register(&s, &name2, &password, &email2, &code2).await,
        1032,
        "burned code",
    );
    // Missing fields: 1004.
    let r = s.post("register", &json!({"user_name": name2}), None).await;
    expect_header(&r, 1004, "missing fields");
}

#[tokio::test]
async fn expired_codes_and_failed_sends() {
    let smtp = SmtpServer::start();
    let s = TestServer::start_with(&["--smtp-url", &smtp.url(), "--code-ttl-secs", "1"]).await;
    let (name, password) = (unique_name("exp"), gen_password());
    let email = email_of(&name);
    expect_ok(&auth_code(&s, &name, &email).await, "auth-code");
    let code = smtp.code_for(&email).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    expect_header(
        &register(&s, &name, &password, &email, &code).await,
        1030,
        "expired code",
    );

    // A relay that is not there: 1029, and no usable code is left behind.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let down = TestServer::start_with(&["--smtp-url", &format!("smtp://127.0.0.1:{closed}")]).await;
    let email3 = email_of(&unique_name("down"));
    expect_header(&auth_code(&down, "n", &email3).await, 1029, "relay down");
    // Nothing blocks a new try (no resend wait), and no code is pending.
    expect_header(
        &auth_code(&down, "n", &email3).await,
        1029,
        "relay still down",
    );
    expect_header(
        &register(&down, &unique_name("d"), &password, &email3, "123456").await,
        1032,
        "no code pending",
    );
}

/// An e-mail address set without proof (an admin typed it into `create/user`) does not
/// keep its owner from registering it: the registration with the mailed code wins, the
/// unverified claim is cleared and audited. An address registered with a code stays taken.
#[tokio::test]
async fn unverified_email_yields_to_a_verified_registration() {
    let smtp = SmtpServer::start();
    let s = TestServer::start_with(&["--smtp-url", &smtp.url()]).await;
    let admin = s.admin_token().await;
    let squatter = unique_name("sq");
    let owner = unique_name("own");
    let email = email_of(&owner);
    let r = s
        .post(
            "platform/create/user",
            &json!({"user_name": squatter, "user_alias": "A", "phone_number": gen_phone(),
                    "password": gen_password(), "remark": "r",
                    "email": email.to_uppercase()}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "an unverified claim");

    expect_ok(
        &auth_code(&s, &owner, &email).await,
        "a code for the claimed address",
    );
    let code = smtp.code_for(&email).await;
    let password = gen_password();
    expect_ok(
        &register(&s, &owner, &password, &email, &code).await,
        "the owner registers it",
    );
    s.login(&owner, &password).await;
    let claimed = s
        .find_user(&admin, &squatter)
        .await
        .expect("squatter listed");
    assert_eq!(claimed["email"], "", "claim cleared: {claimed}");
    let r = s
        .post(
            "platform/list/oper-log",
            &json!({"page_no": 0, "page_size": 50}),
            Some(&admin),
        )
        .await;
    assert!(
        r.1.to_string().contains("cleared the unverified"),
        "the clearing is audited: {}",
        r.1
    );

    // Now the address is held with proof: another registration of it is refused.
    let r = auth_code(&s, &unique_name("late"), &email.to_uppercase()).await;
    expect_header(&r, 1018, "verified address taken");
}

/// `smtps://`, `?tls=required`, and credentials in a plain `smtp://` URL all insist on TLS:
/// a relay without it (aiosmtpd here offers no STARTTLS) gets no mail and the client the
/// send failure (1029); the same relay by plain `smtp://` delivers (the control).
#[tokio::test]
async fn smtp_tls_modes_refuse_a_relay_without_tls() {
    let smtp = SmtpServer::start();
    let port = smtp
        .url()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    for url in [
        format!("smtps://127.0.0.1:{port}"),
        format!("smtp://127.0.0.1:{port}?tls=required"),
        format!("smtp://mailer:secret@127.0.0.1:{port}"),
    ] {
        let s = TestServer::start_with(&["--smtp-url", &url]).await;
        let email = email_of(&unique_name("tls"));
        expect_header(&auth_code(&s, "n", &email).await, 1029, &url);
    }
    let s = TestServer::start_with(&["--smtp-url", &smtp.url()]).await;
    let email = email_of(&unique_name("plain"));
    expect_ok(&auth_code(&s, "n", &email).await, "plain smtp");
    assert_eq!(smtp.code_for(&email).await.len(), 6);
}

#[tokio::test]
async fn projects_belong_to_their_owner() {
    let smtp = SmtpServer::start();
    let s = TestServer::start_with(&[
        "--smtp-url",
        &smtp.url(),
        "--gateway-endpoint",
        "https://api.example.org/rpc",
        "--gateway-endpoint",
        "wss://api.example.org/ws",
    ])
    .await;
    let (a_name, _, a) = registered(&s, &smtp).await;
    let (_, _, b) = registered(&s, &smtp).await;
    let (key, secret) = create_project(&s, &a, "我的ChatGPT项目").await;
    create_project(&s, &a, "second").await;

    let r = list_projects(&s, &a, None).await;
    let data = expect_ok(&r, "list");
    assert_eq!(r.1["header"]["total"], 2, "{}", r.1);
    let first = &data["list"][0];
    for field in [
        "id",
        "project_name",
        "project_type",
        "project_key",
        "project_secret",
        "end_points",
        "deleted",
        "created_time",
        "request_total",
        "request_today",
        "request_max",
        "pool_id",
        "pool_name",
    ] {
        assert!(first.get(field).is_some(), "{field} missing in {first}");
    }
    assert_eq!(first["project_name"], "我的ChatGPT项目");
    assert_eq!(first["project_key"], key.as_str());
    assert_eq!(first["project_secret"], secret.as_str());
    assert_eq!(
        first["end_points"],
        json!(["https://api.example.org/rpc", "wss://api.example.org/ws"])
    );
    assert_eq!(first["deleted"], false);
    assert_eq!(first["request_max"], 30);
    assert!(
        is_datetime(first["created_time"].as_str().unwrap_or("")),
        "{first}"
    );
    let id = first["id"].as_i64().expect("id");

    // B sees none of A's, cannot list A's by id without UserAccess, cannot delete A's.
    let r = list_projects(&s, &b, None).await;
    assert_eq!(expect_ok(&r, "b's list")["list"], json!([]));
    let admin = s.admin_token().await;
    let a_id = s
        .find_user(&admin, &a_name)
        .await
        .and_then(|u| u["user_id"].as_i64().or(u["id"].as_i64()))
        .expect("a's id");
    expect_header(
        &list_projects(&s, &b, Some(a_id)).await,
        1000,
        "b lists a's",
    );
    let r = list_projects(&s, &admin, Some(a_id)).await;
    let listed = expect_ok(&r, "admin lists a's")["list"].clone();
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    // Only the owner sees a project's secret; others see the project with an empty one.
    for p in listed.as_array().into_iter().flatten() {
        assert_eq!(p["project_secret"], "", "a's secret shown to admin: {p}");
        assert_eq!(p["project_key"].as_str().map(str::len), Some(16), "{p}");
    }
    // Control: the owner still sees it, and `user_id: 0` (a Go client's unset field) is
    // the caller's own list.
    let r = list_projects(&s, &a, Some(0)).await;
    let own = expect_ok(&r, "a lists with user_id 0")["list"].clone();
    assert_eq!(own.as_array().map(Vec::len), Some(2), "{own}");
    assert!(
        own.as_array()
            .into_iter()
            .flatten()
            .any(|p| p["project_secret"] == secret.as_str()),
        "{own}"
    );
    let r = list_projects(&s, &b, Some(0)).await;
    assert_eq!(expect_ok(&r, "b lists with user_id 0")["list"], json!([]));
    expect_header(
        &gw(&s, "project/delete", &json!({"id": id}), &b).await,
        1006,
        "b deletes a's",
    );
    // Unauthenticated: 401.
    let r = s
        .send_with("POST", "project/list", &[JSON_CT], Some(b"{}".to_vec()))
        .await;
    assert_eq!(r.0, 401, "{}", r.1);

    expect_ok(
        &gw(&s, "project/delete", &json!({"id": id}), &a).await,
        "delete",
    );
    let r = list_projects(&s, &a, None).await;
    assert_eq!(
        expect_ok(&r, "after delete")["list"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    expect_header(
        &gw(&s, "project/delete", &json!({"id": id}), &a).await,
        1006,
        "delete twice",
    );
}

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

/// Runs futures concurrently and collects their outputs in order.
async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output>
where
    F::Output: Send,
{
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
