//! Cloud-management surface (seed 000): ping, address, register, login, user list, every
//! `errCode`, and users shared with the platform surface.

use tests::*;

/// `errCode` of a cloud answer.
fn err_code(v: &Value) -> i64 {
    v["errCode"]
        .as_i64()
        .unwrap_or_else(|| panic!("no numeric errCode in {v}"))
}

/// Asserts HTTP `status`, `errCode` `code` and a non-empty `errMsg` in words.
#[track_caller]
fn expect_cloud_error(r: &(u16, Value), status: u16, code: i64, ctx: &str) {
    assert_eq!(r.0, status, "{ctx}: HTTP status, body {}", r.1);
    assert_eq!(err_code(&r.1), code, "{ctx}: errCode, body {}", r.1);
    let msg = r.1["errMsg"].as_str().unwrap_or_default();
    assert!(
        !msg.is_empty(),
        "{ctx}: errMsg must say what went wrong: {}",
        r.1
    );
}

async fn register(srv: &TestServer, body: &Value) -> (u16, Value) {
    srv.post("user/register", body, None).await
}

async fn cloud_login(srv: &TestServer, name: &str, password: &str) -> (u16, Value) {
    srv.post(
        "user/login",
        &json!({"username": name, "password": password}),
        None,
    )
    .await
}

/// Logs in on the cloud surface (errCode 0 asserted) and returns the token.
async fn cloud_token(srv: &TestServer, name: &str, password: &str) -> String {
    let r = cloud_login(srv, name, password).await;
    assert_eq!(r.0, 200, "cloud login as {name}: {}", r.1);
    assert_eq!(err_code(&r.1), 0, "cloud login as {name}: {}", r.1);
    r.1["data"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no data.token in {}", r.1))
        .to_string()
}

async fn list_with_header(srv: &TestServer, token: &str) -> (u16, Value) {
    srv.send_with("GET", "user/list", &[("token", token)], None)
        .await
}

async fn list_with_query(srv: &TestServer, token: &str) -> (u16, Value) {
    srv.send_with("GET", &format!("user/list?token={token}"), &[], None)
        .await
}

#[tokio::test]
async fn ping_and_address() {
    let srv = TestServer::start().await;
    let r = srv.request("GET", "platform/ping", None).await;
    assert_eq!(r, (200, json!("pong")));

    // The socket's peer; a forged X-Forwarded-For is ignored without a trusted proxy.
    let r = srv
        .send_with(
            "GET",
            "platform/address",
            &[("X-Forwarded-For", "203.0.113.5")],
            None,
        )
        .await;
    assert_eq!(r.0, 200);
    let text =
        r.1.as_str()
            .unwrap_or_else(|| panic!("not a JSON string: {}", r.1));
    let (ip, port) = text.rsplit_once(':').expect("IP:port");
    assert_eq!(ip, "127.0.0.1", "address {text}");
    let port: u16 = port.parse().expect("numeric port");
    assert!(port > 0, "address {text}");
}

#[tokio::test]
async fn address_behind_a_trusted_proxy() {
    let srv = TestServer::start_with(&["--trusted-proxy", "127.0.0.1"]).await;
    let r = srv
        .send_with(
            "GET",
            "platform/address",
            &[
                ("X-Forwarded-For", "198.51.100.77, 203.0.113.5"),
                ("X-Forwarded-Port", "56203"),
            ],
            None,
        )
        .await;
    assert_eq!(r, (200, json!("203.0.113.5:56203")));
    // No header: the proxy's own address.
    let r = srv.request("GET", "platform/address", None).await;
    assert!(
        r.1.as_str().is_some_and(|s| s.starts_with("127.0.0.1:")),
        "{}",
        r.1
    );
}

#[tokio::test]
async fn register_then_login_then_list() {
    let srv = TestServer::start().await;
    let name = unique_name("cloud");
    let password = "admin123";
    let r = register(&srv, &json!({"username": name, "password": password})).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(err_code(&r.1), 0, "{}", r.1);

    let r = cloud_login(&srv, &name, password).await;
    assert_eq!(r.0, 200);
    assert_eq!(err_code(&r.1), 0, "{}", r.1);
    for field in ["msg", "errMsg"] {
        assert!(r.1[field].is_string(), "{field} missing: {}", r.1);
    }
    assert_eq!(r.1["data"]["username"], json!(name));
    let token = r.1["data"]["token"].as_str().expect("token").to_string();

    for (how, r) in [
        ("header", list_with_header(&srv, &token).await),
        ("query", list_with_query(&srv, &token).await),
    ] {
        assert_eq!(r.0, 200, "{how}: {}", r.1);
        assert_eq!(r.1["errcode"], json!(0), "{how}: {}", r.1);
        let user = &r.1["data"]["user"];
        assert!(
            user["id"].as_i64().is_some_and(|id| id > 0),
            "{how}: {user}"
        );
        assert_eq!(
            user["uid"],
            json!(user["id"].as_i64().expect("id").to_string())
        );
        assert_eq!(user["userName"], json!(name));
        assert_eq!(user["password"], json!(""), "never a hash");
        assert_eq!(user["Status"], json!(true));
        for field in ["CreatedAt", "UpdatedAt"] {
            let s = user[field].as_str().unwrap_or_default();
            assert!(is_datetime(s), "{how}: {field} = {s:?}");
        }
        assert!(
            r.1["data"].get("users").is_none(),
            "a plain user sees only itself: {}",
            r.1
        );
    }

    // An admin (UserAccess) sees every user too.
    let admin = cloud_token(&srv, "admin", srv.admin_password()).await;
    let r = list_with_header(&srv, &admin).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["data"]["user"]["userName"], json!("admin"));
    let users = r.1["data"]["users"].as_array().expect("data.users");
    assert!(
        users.iter().any(|u| u["userName"] == json!(name)),
        "{name} missing from {users:?}"
    );
    assert!(users.iter().all(|u| u["password"] == json!("")));
    assert_no_secret(&srv, password);
}

fn assert_no_secret(srv: &TestServer, secret: &str) {
    for body in srv.recorded_bodies() {
        assert!(
            !body.contains(secret),
            "a response leaked a password: {body}"
        );
        assert!(
            !body.contains("$argon2"),
            "a response leaked a hash: {body}"
        );
    }
    assert!(
        !srv.server_log().contains(secret),
        "the server log contains a password"
    );
}

#[tokio::test]
async fn registration_refusals_are_1004_and_store_nothing() {
    let srv = TestServer::start().await;
    let name = unique_name("dup");
    let ok = register(&srv, &json!({"username": name, "password": "pw-12345"})).await;
    assert_eq!(err_code(&ok.1), 0, "{}", ok.1);
    let cases = [
        (
            json!({"username": name, "password": "other-pw"}),
            "duplicate name",
        ),
        (json!({"username": "", "password": "pw"}), "empty name"),
        (json!({"username": "   ", "password": "pw"}), "blank name"),
        (
            json!({"username": unique_name("nopw"), "password": ""}),
            "empty password",
        ),
        (json!({"username": unique_name("nopw")}), "missing password"),
        (json!({"password": "pw"}), "missing name"),
        (json!({}), "empty object"),
    ];
    for (body, ctx) in cases {
        let r = register(&srv, &body).await;
        expect_cloud_error(&r, 200, 1004, ctx);
    }
    // The duplicate did not replace the first password.
    cloud_token(&srv, &name, "pw-12345").await;
    let r = cloud_login(&srv, &name, "other-pw").await;
    expect_cloud_error(&r, 200, 1003, "the duplicate's password");
}

#[tokio::test]
async fn bad_json_and_wrong_types_are_1002() {
    let srv = TestServer::start().await;
    for path in ["user/register", "user/login"] {
        for (body, ctx) in [
            (&b"{not json"[..], "malformed JSON"),
            (&b"[1,2]"[..], "an array"),
            (
                &br#"{"username": 5, "password": "x"}"#[..],
                "a number as name",
            ),
            (
                &br#"{"username": "a", "password": ["x"]}"#[..],
                "an array as password",
            ),
        ] {
            let r = srv.post_raw(path, body, &[JSON_CT]).await;
            expect_cloud_error(&r, 200, 1002, &format!("{path}: {ctx}"));
        }
    }
    // A login missing a field is a parameter error too.
    let r = srv
        .post("user/login", &json!({"username": "admin"}), None)
        .await;
    expect_cloud_error(&r, 200, 1002, "login without password");
    // A huge body is refused before parsing, and the server stays up.
    let huge = vec![b' '; 2 << 20];
    let r = srv.post_raw("user/register", huge, &[JSON_CT]).await;
    expect_cloud_error(&r, 200, 1002, "a 2 MiB body");
    assert_eq!(srv.request("GET", "platform/ping", None).await.0, 200);
}

#[tokio::test]
async fn wrong_user_or_password_answer_alike() {
    let srv = TestServer::start().await;
    let wrong_pw = cloud_login(&srv, "admin", "not-the-password").await;
    let no_user = cloud_login(&srv, &unique_name("ghost"), "whatever").await;
    expect_cloud_error(&wrong_pw, 200, 1003, "wrong password");
    expect_cloud_error(&no_user, 200, 1003, "unknown user");
    assert_eq!(wrong_pw.1, no_user.1, "the two refusals must be identical");
}

#[tokio::test]
async fn disabled_user_is_1007_after_the_right_password() {
    let srv = TestServer::start().await;
    let name = unique_name("off");
    let r = register(&srv, &json!({"username": name, "password": "pw-off-1"})).await;
    assert_eq!(err_code(&r.1), 0);
    let token = cloud_token(&srv, &name, "pw-off-1").await;
    let admin = srv.admin_token().await;
    expect_ok(
        &srv.post(
            "platform/disable/user",
            &json!({"user_name": name}),
            Some(&admin),
        )
        .await,
        "disable",
    );
    let r = cloud_login(&srv, &name, "pw-off-1").await;
    expect_cloud_error(&r, 200, 1007, "disabled user, right password");
    let r = cloud_login(&srv, &name, "wrong").await;
    expect_cloud_error(&r, 200, 1003, "disabled user, wrong password");
    // Disabling revoked the session it already had.
    let r = list_with_header(&srv, &token).await;
    expect_cloud_error(&r, 401, 1003, "token of a disabled user");
}

#[tokio::test]
async fn missing_bad_or_revoked_tokens_are_401_1003() {
    let srv = TestServer::start().await;
    let r = srv.request("GET", "user/list", None).await;
    expect_cloud_error(&r, 401, 1003, "no token");
    let r = list_with_header(&srv, "not-a-jwt").await;
    expect_cloud_error(&r, 401, 1003, "garbage token");
    let r = list_with_query(&srv, "eyJhbGciOiJIUzI1NiJ9.e30.AAAA").await;
    expect_cloud_error(&r, 401, 1003, "forged token");

    let token = cloud_token(&srv, "admin", srv.admin_password()).await;
    assert_eq!(list_with_query(&srv, &token).await.0, 200);
    expect_ok(
        &srv.post("platform/logout", &json!({}), Some(&token)).await,
        "logout on the platform surface",
    );
    let r = list_with_query(&srv, &token).await;
    expect_cloud_error(&r, 401, 1003, "revoked token");
}

#[tokio::test]
async fn users_are_shared_with_the_platform_surface() {
    let srv = TestServer::start().await;
    // Registered here, logs in on the platform surface.
    let name = unique_name("x");
    let r = register(&srv, &json!({"username": name, "password": "Cross-pw1"})).await;
    assert_eq!(err_code(&r.1), 0);
    srv.login(&name, "Cross-pw1").await;

    // Created on the platform surface, logs in here; a platform token reads the list here.
    let admin = srv.admin_token().await;
    let other = unique_name("p");
    srv.create_user(&admin, &other, "Plat-pw-2", None).await;
    let token = cloud_token(&srv, &other, "Plat-pw-2").await;
    let r = list_with_header(&srv, &token).await;
    assert_eq!(r.1["data"]["user"]["userName"], json!(other));
    let r = list_with_header(&srv, &admin).await;
    assert_eq!(r.0, 200, "a platform token works here: {}", r.1);
}
