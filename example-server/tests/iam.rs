//! The IAM surface (seed 004): the REST user resource `/v1/users`, `/login`, `/logout`,
//! `/refresh` and `/healthz`, over real HTTP against the built `example-server`.
//!
//! Errors are an HTTP status plus `{"code": N, "message": "..."}`; successes are the resource,
//! a list, a token or `null`.

use std::cell::RefCell;
use std::collections::HashSet;

use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use tests::*;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A user registered through `POST /v1/users`, logged in through `POST /login`.
#[derive(Clone, Debug)]
struct IamUser {
    name: String,
    password: String,
    email: String,
    token: String,
}

/// A unique e-mail address.
fn fresh_email() -> String {
    format!("{}@example.com", unique_name("m"))
}

/// A unique, plausible e-mail address of exactly `len` characters (labels at most 60).
fn email_of_len(len: usize) -> String {
    let local = unique_name("e");
    let mut domain = String::from(".com");
    let mut remaining = len - local.len() - 1 - domain.len();
    let mut labels = Vec::new();
    while remaining > 0 {
        // Each label but the first also takes a '.'.
        let cost = if labels.is_empty() { 0 } else { 1 };
        let n = (remaining - cost).min(60);
        assert!(n > 0, "cannot build an e-mail of {len} characters");
        labels.push("d".repeat(n));
        remaining -= n + cost;
    }
    domain = format!("{}{domain}", labels.join("."));
    let email = format!("{local}@{domain}");
    assert_eq!(email.chars().count(), len, "{email}");
    email
}

/// A create body.
fn user_body(name: &str, nickname: &str, password: &str, email: &str, phone: &str) -> Value {
    json!({
        "metadata": {"name": name},
        "nickname": nickname,
        "password": password,
        "email": email,
        "phone": phone,
    })
}

/// `POST /v1/users` without credentials (self-registration).
async fn create(srv: &TestServer, body: &Value) -> (u16, Value) {
    srv.iam("POST", "/v1/users", Auth::None, Some(body)).await
}

/// Register a fresh user (200 asserted) and log it in.
async fn register(srv: &TestServer, prefix: &str) -> IamUser {
    let name = unique_name(prefix);
    let password = "Reg@2020x".to_string();
    let email = fresh_email();
    let r = create(
        srv,
        &user_body(&name, &name, &password, &email, &gen_phone()),
    )
    .await;
    expect_iam_ok(&r, &format!("register {name}"));
    let token = srv.iam_login(&name, &password).await;
    IamUser {
        name,
        password,
        email,
        token,
    }
}

/// Assert `v` is a user resource with these fields, `password` empty and RFC 3339 times;
/// returns `metadata.id`.
#[track_caller]
fn check_resource(v: &Value, name: &str, nickname: &str, email: &str, phone: &str) -> i64 {
    let ctx = format!("resource of {name}: {v}");
    assert_eq!(v["metadata"]["name"], json!(name), "{ctx}");
    assert_eq!(v["nickname"], json!(nickname), "{ctx}");
    assert_eq!(v["email"], json!(email), "{ctx}");
    assert_eq!(v["phone"], json!(phone), "{ctx}");
    assert_eq!(
        v["password"],
        json!(""),
        "{ctx}: password must be present and empty"
    );
    let created = v["metadata"]["createdAt"].as_str().unwrap_or_default();
    let updated = v["metadata"]["updatedAt"].as_str().unwrap_or_default();
    assert!(is_rfc3339(created), "{ctx}: createdAt not RFC 3339");
    assert!(is_rfc3339(updated), "{ctx}: updatedAt not RFC 3339");
    assert!(
        parse_rfc3339(updated) >= parse_rfc3339(created),
        "{ctx}: updatedAt before createdAt"
    );
    v["metadata"]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{ctx}: metadata.id is not an integer"))
}

/// `GET /v1/users/:name` as `auth`.
async fn get_user(srv: &TestServer, auth: Auth<'_>, name: &str) -> (u16, Value) {
    srv.iam("GET", &format!("/v1/users/{name}"), auth, None)
        .await
}

/// Whether the admin sees `name` (200) or not (404 110001); anything else panics.
async fn exists(srv: &TestServer, admin: &str, name: &str) -> bool {
    let r = get_user(srv, Auth::Bearer(admin), name).await;
    if r.0 == 200 {
        assert_eq!(r.1["metadata"]["name"], json!(name), "GET {name}: {}", r.1);
        return true;
    }
    expect_iam_error(&r, 404, 110001, &format!("GET {name} (absent)"));
    false
}

/// `GET /v1/users?<query>` as the admin: (totalCount, item names). Checks every item's shape.
async fn list(srv: &TestServer, admin: &str, query: &str) -> (u64, Vec<String>) {
    let path = if query.is_empty() {
        "/v1/users".to_string()
    } else {
        format!("/v1/users?{query}")
    };
    let r = srv.iam("GET", &path, Auth::Bearer(admin), None).await;
    let body = expect_iam_ok(&r, &format!("GET {path}"));
    let total = body["totalCount"]
        .as_u64()
        .unwrap_or_else(|| panic!("GET {path}: totalCount missing: {body}"));
    let items = body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("GET {path}: items not an array: {body}"));
    let mut names = Vec::new();
    for item in items {
        assert_eq!(item["password"], json!(""), "GET {path}: item {item}");
        assert_eq!(item["totalPolicy"], json!(0), "GET {path}: item {item}");
        assert!(item["metadata"]["id"].is_i64(), "GET {path}: item {item}");
        for key in ["createdAt", "updatedAt"] {
            assert!(
                is_rfc3339(item["metadata"][key].as_str().unwrap_or_default()),
                "GET {path}: {key} of {item}"
            );
        }
        names.push(
            item["metadata"]["name"]
                .as_str()
                .unwrap_or_else(|| panic!("GET {path}: item without a name: {item}"))
                .to_string(),
        );
    }
    (total, names)
}

/// The admin's total user count.
async fn total(srv: &TestServer, admin: &str) -> u64 {
    list(srv, admin, "").await.0
}

/// `POST /login` with JSON; returns the raw answer.
async fn login_raw(srv: &TestServer, name: &str, password: &str) -> (u16, Value) {
    srv.iam(
        "POST",
        "/login",
        Auth::None,
        Some(&json!({"username": name, "password": password})),
    )
    .await
}

/// `PUT /v1/users/:name/change-password`.
async fn change_password(
    srv: &TestServer,
    auth: Auth<'_>,
    name: &str,
    old: &str,
    new: &str,
) -> (u16, Value) {
    srv.iam(
        "PUT",
        &format!("/v1/users/{name}/change-password"),
        auth,
        Some(&json!({"oldPassword": old, "newPassword": new})),
    )
    .await
}

/// No response body so far contains `$argon2`, a password hash prefix or any of `secrets`,
/// and every `"password"` field in a response is empty.
#[track_caller]
fn assert_no_secrets(srv: &TestServer, secrets: &[&str]) {
    for body in srv.recorded_bodies() {
        for needle in ["$argon2", "$2a$", "$2b$", "$2y$"] {
            assert!(!body.contains(needle), "a response leaks a hash: {body}");
        }
        if let Some(s) = secrets.iter().find(|s| !s.is_empty() && body.contains(**s)) {
            panic!("a response leaks the password {s:?}: {body}");
        }
        if let Ok(v) = serde_json::from_str::<Value>(&body) {
            check_password_fields(&v, &body);
        }
    }
}

fn check_password_fields(v: &Value, body: &str) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k.eq_ignore_ascii_case("password") {
                    assert_eq!(child, &json!(""), "non-empty password field in {body}");
                }
                check_password_fields(child, body);
            }
        }
        Value::Array(items) => items.iter().for_each(|c| check_password_fields(c, body)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// The documented session
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn documented_client_session() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let auth = Auth::Bearer(&admin);

    // Delete foo if present (it is not: deleting is idempotent).
    let r = srv.iam("DELETE", "/v1/users/foo", auth, None).await;
    expect_iam_null(&r, "delete-if-present foo");

    // 1. Create, with the document's body and its Bearer header.
    let body = json!({
        "metadata": {"name": "foo"},
        "nickname": "foo",
        "password": "Foo@2020",
        "email": "foo@foxmail.com",
        "phone": "1812884xxxx"
    });
    let r = srv.iam("POST", "/v1/users", auth, Some(&body)).await;
    let created = expect_iam_ok(&r, "create foo");
    let id = check_resource(&created, "foo", "foo", "foo@foxmail.com", "1812884xxxx");

    // 7. List with the document's query.
    let r = srv
        .iam(
            "GET",
            "/v1/users?offset=0&limit=10&fieldSelector=name=foo",
            auth,
            None,
        )
        .await;
    let listed = expect_iam_ok(&r, "list foo");
    let mut item = created.clone();
    item["totalPolicy"] = json!(0);
    assert_eq!(listed, json!({"totalCount": 1, "items": [item]}), "list");

    // 6. Get.
    let r = get_user(&srv, auth, "foo").await;
    assert_eq!(expect_iam_ok(&r, "get foo"), created, "get foo");

    // 5. Update, with the document's body (nickname foo1).
    let body = json!({
        "metadata": {"name": "foo"},
        "nickname": "foo1",
        "password": "Foo@2020",
        "email": "foo@foxmail.com",
        "phone": "1812884xxxx"
    });
    let r = srv.iam("PUT", "/v1/users/foo", auth, Some(&body)).await;
    let updated = expect_iam_ok(&r, "update foo");
    assert_eq!(
        check_resource(&updated, "foo", "foo1", "foo@foxmail.com", "1812884xxxx"),
        id
    );
    assert_eq!(
        updated["metadata"]["createdAt"], created["metadata"]["createdAt"],
        "createdAt is kept"
    );
    let r = get_user(&srv, auth, "foo").await;
    assert_eq!(expect_iam_ok(&r, "get foo after update"), updated);

    // 4. Change the password (the documented underscore path), with the admin's token as in
    // the document; foo's own earlier session ends, the admin's does not.
    let foo_token = srv.iam_login("foo", "Foo@2020").await;
    let r = srv
        .iam(
            "PUT",
            "/v1/users/foo/change_password",
            auth,
            Some(&json!({"oldPassword": "Foo@2020", "newPassword": "Foo@2021"})),
        )
        .await;
    expect_iam_null(&r, "change_password foo");
    expect_iam_ok(
        &get_user(&srv, auth, "foo").await,
        "admin token still works",
    );
    let r = get_user(&srv, Auth::Bearer(&foo_token), "foo").await;
    assert_eq!(r.0, 401, "foo's earlier token after the change: {}", r.1);
    expect_iam_error(
        &login_raw(&srv, "foo", "Foo@2020").await,
        401,
        100206,
        "old password",
    );
    let foo_token = srv.iam_login("foo", "Foo@2021").await;
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&foo_token), "foo").await,
        "foo with the new password",
    );

    // 3. Delete.
    expect_iam_null(
        &srv.iam("DELETE", "/v1/users/foo", auth, None).await,
        "delete foo",
    );
    assert!(!exists(&srv, &admin, "foo").await);
    let r = get_user(&srv, Auth::Bearer(&foo_token), "foo").await;
    assert_eq!(r.0, 401, "deleted foo's token: {}", r.1);

    // 2. Batch delete with the document's query (both already absent).
    expect_iam_null(
        &srv.iam("DELETE", "/v1/users?name=foo&name=fooo", auth, None)
            .await,
        "batch delete foo, fooo",
    );
    assert_eq!(list(&srv, &admin, "fieldSelector=name=foo").await.0, 0);

    assert_no_secrets(&srv, &["Foo@2020", "Foo@2021", srv.admin_password()]);
}

// ---------------------------------------------------------------------------------------------
// Health, unknown paths
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn healthz_and_unknown_paths() {
    let srv = TestServer::start().await;
    let r = srv.iam("GET", "/healthz", Auth::None, None).await;
    assert_eq!(r, (200, json!({"status": "ok"})), "healthz");

    let admin = srv.iam_admin_token().await;
    for path in ["/v1/nothing", "/v1/users/admin/nothing", "/v1/secrets/x"] {
        for auth in [Auth::None, Auth::Bearer(&admin)] {
            let r = srv.iam("GET", path, auth, None).await;
            expect_iam_error(&r, 404, 100006, &format!("GET {path} ({auth:?})"));
        }
    }
    let r = srv
        .iam(
            "POST",
            "/v1/nothing",
            Auth::Bearer(&admin),
            Some(&json!({})),
        )
        .await;
    expect_iam_error(&r, 404, 100006, "POST /v1/nothing");
}

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn self_registration_answers_the_resource() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let before = srv
        .iam("GET", "/v1/users", Auth::Bearer(&admin), None)
        .await;
    let newest_before = expect_iam_ok(&before, "list")["items"][0]["metadata"]["id"]
        .as_i64()
        .unwrap_or(0);

    let name = unique_name("Reg.A-b_");
    let email = fresh_email();
    let t0 = unix_now();
    let r = create(
        &srv,
        &user_body(&name, "Réka 李", "Aa1!aaaa", &email, "+36 (1) 555-0101"),
    )
    .await;
    let v = expect_iam_ok(&r, "self-registration");
    let id = check_resource(&v, &name, "Réka 李", &email, "+36 (1) 555-0101");
    assert!(id > newest_before, "a fresh id: {v}");
    let created_at = parse_rfc3339(v["metadata"]["createdAt"].as_str().unwrap_or_default())
        .expect("createdAt parses");
    assert!(
        (t0 - 5..=unix_now() + 5).contains(&created_at),
        "createdAt is now: {v}"
    );

    // Phone is free text: empty is fine too.
    let name2 = unique_name("nophone");
    let email2 = fresh_email();
    let r = create(&srv, &user_body(&name2, "x", "Aa1!aaaa", &email2, "")).await;
    check_resource(&expect_iam_ok(&r, "empty phone"), &name2, "x", &email2, "");

    // The stored user: visible to itself and to the admin, and it can log in.
    let token = srv.iam_login(&name, "Aa1!aaaa").await;
    let r = get_user(&srv, Auth::Bearer(&token), &name).await;
    assert_eq!(expect_iam_ok(&r, "get oneself"), v);
    assert!(exists(&srv, &admin, &name).await);

    assert_no_secrets(&srv, &["Aa1!aaaa", srv.admin_password()]);
}

#[tokio::test]
async fn create_boundaries_accepted() {
    let srv = TestServer::start().await;
    let ok_cases: Vec<(String, String, String, String)> = vec![
        // (name, nickname, password, email)
        ("a".into(), "n".into(), "Aa1!aaaa".into(), fresh_email()),
        (
            format!("{}{}", unique_name("x"), "a".repeat(52)),
            "n".repeat(30),
            "Aa1!aaaaaaaaaaaa".into(),
            fresh_email(),
        ),
        (
            unique_name("u"),
            "é".repeat(30),
            // 16 characters, 17 bytes: the rule counts characters.
            "Aä1!aaaaaaaaaaaa".into(),
            // 100 characters.
            email_of_len(100),
        ),
        ("0-_.9".into(), "n".into(), "~Zz9~~~~".into(), fresh_email()),
    ];
    for (name, nickname, password, email) in &ok_cases {
        let ctx = format!("create {name:?} / {nickname:?} / {password:?} / {email:?}");
        assert!(name.chars().count() <= 63, "{ctx}");
        assert!(email.chars().count() <= 100, "{ctx}");
        let r = create(&srv, &user_body(name, nickname, password, email, "1")).await;
        check_resource(&expect_iam_ok(&r, &ctx), name, nickname, email, "1");
        srv.iam_login(name, password).await;
    }
    let long = &ok_cases[1].0;
    assert_eq!(long.len(), 63, "the 63-character name");
    assert_eq!(
        ok_cases[2].3.chars().count(),
        100,
        "the 100-character email"
    );
    let secrets: Vec<&str> = ok_cases.iter().map(|c| c.2.as_str()).collect();
    assert_no_secrets(&srv, &secrets);
}

#[tokio::test]
async fn create_refusals_store_nothing() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let existing = register(&srv, "dup").await;
    let count = total(&srv, &admin).await;

    let good = |name: &str| user_body(name, "nick", "Good@2020", &fresh_email(), "1");

    // 400 100004: validation.
    let mut invalid: Vec<(String, Value)> = Vec::new();
    for bad_name in [
        "".to_string(),
        "-a".into(),
        "a-".into(),
        "_a".into(),
        "a.".into(),
        ".".into(),
        "a b".into(),
        "a@b".into(),
        "a/b".into(),
        "李彬".into(),
        "a".repeat(64),
    ] {
        invalid.push((format!("name {bad_name:?}"), good(&bad_name)));
    }
    let mut no_name = good("x");
    no_name.as_object_mut().expect("object").remove("metadata");
    invalid.push(("no metadata".into(), no_name));
    invalid.push((
        "no metadata.name".into(),
        json!({"metadata": {}, "nickname": "n", "password": "Good@2020", "email": fresh_email()}),
    ));
    let name = unique_name("v");
    for (what, nickname) in [
        ("empty nickname", "".to_string()),
        ("31-char nickname", "n".repeat(31)),
    ] {
        invalid.push((
            what.into(),
            user_body(&name, &nickname, "Good@2020", &fresh_email(), "1"),
        ));
    }
    let mut body = good(&name);
    body.as_object_mut().expect("object").remove("nickname");
    invalid.push(("no nickname".into(), body));
    for email in [
        "".to_string(),
        "foo".into(),
        "foo@".into(),
        "@foxmail.com".into(),
        "foo bar@foxmail.com".into(),
        "foo@@foxmail.com".into(),
        email_of_len(101),
    ] {
        invalid.push((
            format!("email {email:?}"),
            user_body(&name, "n", "Good@2020", &email, "1"),
        ));
    }
    let mut body = good(&name);
    body.as_object_mut().expect("object").remove("email");
    invalid.push(("no email".into(), body));
    for password in [
        "",
        "Aa1!aaa",           // 7
        "Aa1!aaaaaaaaaaaaa", // 17
        "aa1!aaaa",          // no upper-case
        "AA1!AAAA",          // no lower-case
        "Aaa!aaaa",          // no digit
        "Aa1aaaaa",          // no symbol
        "Aa1 aaaa",          // a space is not a symbol
    ] {
        invalid.push((
            format!("password {password:?}"),
            user_body(&name, "n", password, &fresh_email(), "1"),
        ));
    }
    let mut body = good(&name);
    body.as_object_mut().expect("object").remove("password");
    invalid.push(("no password".into(), body));
    for (what, body) in &invalid {
        let r = create(&srv, body).await;
        expect_iam_error(&r, 400, 100004, what);
    }
    assert!(!exists(&srv, &admin, &name).await, "{name} was not stored");

    // 400 100003: malformed JSON and wrong types.
    let malformed: Vec<&[u8]> = vec![
        b"{",
        b"not json",
        b"[]",
        b"null",
        b"\"foo\"",
        br#"{"metadata":{"name":5},"nickname":"n","password":"Good@2020","email":"a@b.cd"}"#,
        br#"{"metadata":"foo","nickname":"n","password":"Good@2020","email":"a@b.cd"}"#,
        br#"{"metadata":{"name":"foo"},"nickname":["n"],"password":"Good@2020","email":"a@b.cd"}"#,
        br#"{"metadata":{"name":"foo"},"nickname":"n","password":20202020,"email":"a@b.cd"}"#,
        br#"{"metadata":{"name":"foo"},"nickname":"n","password":"Good@2020","email":true}"#,
        br#"{"metadata":{"name":"foo"},"nickname":"n","password":"Good@2020","email":"a@b.cd","phone":1812884}"#,
    ];
    for raw in malformed {
        let r = srv
            .iam_raw("POST", "/v1/users", Auth::None, Some(raw.to_vec()), true)
            .await;
        expect_iam_error(&r, 400, 100003, &String::from_utf8_lossy(raw));
    }
    assert!(!exists(&srv, &admin, "foo").await, "foo was not stored");

    // 400 110002: duplicate name; the stored user is untouched.
    let r = create(
        &srv,
        &user_body(&existing.name, "other", "Other@2020", &fresh_email(), "2"),
    )
    .await;
    expect_iam_error(&r, 400, 110002, "duplicate name");
    let r = create(
        &srv,
        &user_body("admin", "other", "Other@2020", &fresh_email(), "2"),
    )
    .await;
    expect_iam_error(&r, 400, 110002, "duplicate name admin");
    let r = get_user(&srv, Auth::Bearer(&admin), &existing.name).await;
    let v = expect_iam_ok(&r, "existing user");
    assert_eq!(
        v["nickname"],
        json!(existing.name),
        "nickname untouched: {v}"
    );
    assert_eq!(v["email"], json!(existing.email), "email untouched: {v}");
    expect_iam_error(
        &login_raw(&srv, &existing.name, "Other@2020").await,
        401,
        100206,
        "the duplicate's password",
    );
    srv.iam_login(&existing.name, &existing.password).await;
    srv.iam_login("admin", srv.admin_password()).await;

    assert_eq!(
        total(&srv, &admin).await,
        count,
        "nothing stored on any refusal"
    );
    assert_no_secrets(
        &srv,
        &[
            "Good@2020",
            "Other@2020",
            &existing.password,
            srv.admin_password(),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Get, update
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_oneself_or_admin_only() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let alice = register(&srv, "alice").await;
    let bob = register(&srv, "bob").await;

    let r = get_user(&srv, Auth::Bearer(&alice.token), &alice.name).await;
    check_resource(
        &expect_iam_ok(&r, "alice gets herself"),
        &alice.name,
        &alice.name,
        &alice.email,
        r.1["phone"].as_str().unwrap_or_default(),
    );
    let r = get_user(&srv, Auth::Bearer(&admin), &alice.name).await;
    expect_iam_ok(&r, "admin gets alice");
    let r = get_user(&srv, Auth::Bearer(&alice.token), &bob.name).await;
    expect_iam_error(&r, 403, 100207, "alice gets bob");
    let r = get_user(&srv, Auth::Bearer(&alice.token), "admin").await;
    expect_iam_error(&r, 403, 100207, "alice gets admin");
    let r = get_user(&srv, Auth::Bearer(&alice.token), &unique_name("ghost")).await;
    expect_iam_error(&r, 403, 100207, "alice gets an unknown user");
    let r = get_user(&srv, Auth::Bearer(&admin), &unique_name("ghost")).await;
    expect_iam_error(&r, 404, 110001, "admin gets an unknown user");
    let r = get_user(&srv, Auth::Bearer(&admin), "admin").await;
    expect_iam_ok(&r, "admin gets itself");
    assert_no_secrets(&srv, &[&alice.password, srv.admin_password()]);
}

#[tokio::test]
async fn update_merges_validates_and_checks_permission() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let alice = register(&srv, "alice").await;
    let bob = register(&srv, "bob").await;
    let path = format!("/v1/users/{}", alice.name);
    let put = |auth, body: Value| {
        let path = path.clone();
        let srv = &srv;
        async move { srv.iam("PUT", &path, auth, Some(&body)).await }
    };
    let me = Auth::Bearer(&alice.token);
    let original = expect_iam_ok(&get_user(&srv, me, &alice.name).await, "get");
    let phone0 = original["phone"].as_str().unwrap_or_default().to_string();

    // Only the nickname sent: the rest is kept.
    let r = put(me, json!({"nickname": "Alice A."})).await;
    let v = expect_iam_ok(&r, "nickname only");
    let id = check_resource(&v, &alice.name, "Alice A.", &alice.email, &phone0);
    assert_eq!(Some(id), original["metadata"]["id"].as_i64());
    assert_eq!(
        v["metadata"]["createdAt"],
        original["metadata"]["createdAt"]
    );

    // Only the email; then only the phone.
    let email2 = fresh_email();
    let r = put(me, json!({"email": email2})).await;
    check_resource(
        &expect_iam_ok(&r, "email only"),
        &alice.name,
        "Alice A.",
        &email2,
        &phone0,
    );
    let r = put(me, json!({"phone": "020-1234 ext. 9"})).await;
    let v = expect_iam_ok(&r, "phone only");
    check_resource(&v, &alice.name, "Alice A.", &email2, "020-1234 ext. 9");

    // A name or a password in the body changes neither.
    let r = put(
        me,
        json!({"metadata": {"name": unique_name("renamed")}, "nickname": "n2", "password": "Other@2099"}),
    )
    .await;
    let v = expect_iam_ok(&r, "with a name and a password");
    check_resource(&v, &alice.name, "n2", &email2, "020-1234 ext. 9");
    srv.iam_login(&alice.name, &alice.password).await;
    expect_iam_error(
        &login_raw(&srv, &alice.name, "Other@2099").await,
        401,
        100206,
        "update does not set the password",
    );
    let stored = expect_iam_ok(&get_user(&srv, me, &alice.name).await, "get");
    assert_eq!(stored, v, "GET answers what PUT answered");

    // Nickname boundaries.
    let r = put(me, json!({"nickname": "n".repeat(30)})).await;
    check_resource(
        &expect_iam_ok(&r, "30 chars"),
        &alice.name,
        &"n".repeat(30),
        &email2,
        "020-1234 ext. 9",
    );
    let stored = expect_iam_ok(&get_user(&srv, me, &alice.name).await, "get");

    // Refusals leave the stored user as it is.
    for (what, body) in [
        ("empty nickname", json!({"nickname": ""})),
        ("31-char nickname", json!({"nickname": "n".repeat(31)})),
        ("empty email", json!({"email": ""})),
        ("invalid email", json!({"email": "not-an-email"})),
        ("101-char email", json!({"email": email_of_len(101)})),
        (
            "valid nickname, invalid email",
            json!({"nickname": "fine", "email": "x@"}),
        ),
    ] {
        expect_iam_error(&put(me, body).await, 400, 100004, what);
    }
    for raw in [
        &b"{"[..],
        b"[1]",
        br#"{"nickname": 7}"#,
        br#"{"email": {"a": 1}}"#,
    ] {
        let r = srv
            .iam_raw("PUT", &path, me, Some(raw.to_vec()), true)
            .await;
        expect_iam_error(&r, 400, 100003, &String::from_utf8_lossy(raw));
    }
    // Another user's: only the admin.
    let r = put(Auth::Bearer(&bob.token), json!({"nickname": "hacked"})).await;
    expect_iam_error(&r, 403, 100207, "bob updates alice");
    let r = srv
        .iam(
            "PUT",
            "/v1/users/admin",
            me,
            Some(&json!({"nickname": "hacked"})),
        )
        .await;
    expect_iam_error(&r, 403, 100207, "alice updates admin");
    let after = expect_iam_ok(&get_user(&srv, me, &alice.name).await, "get");
    assert_eq!(after, stored, "refused updates store nothing");

    let r = put(Auth::Bearer(&admin), json!({"nickname": "by admin"})).await;
    check_resource(
        &expect_iam_ok(&r, "admin updates alice"),
        &alice.name,
        "by admin",
        &email2,
        "020-1234 ext. 9",
    );
    let r = srv
        .iam(
            "PUT",
            &format!("/v1/users/{}", unique_name("ghost")),
            Auth::Bearer(&admin),
            Some(&json!({"nickname": "x"})),
        )
        .await;
    expect_iam_error(&r, 404, 110001, "admin updates an unknown user");
    assert_no_secrets(&srv, &[&alice.password, &bob.password, "Other@2099"]);
}

// ---------------------------------------------------------------------------------------------
// Change password
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn change_password_own_revokes_other_sessions_only() {
    let srv = TestServer::start().await;
    let u = register(&srv, "cp").await;
    let other = srv.iam_login(&u.name, &u.password).await;
    let me = Auth::Bearer(&u.token);

    // Refusals: wrong old (401 100206), invalid new (400 100004), malformed (400 100003).
    let r = change_password(&srv, me, &u.name, "Wrong@2020", "Next@2021").await;
    expect_iam_error(&r, 401, 100206, "wrong oldPassword");
    for bad in [
        "Next@20",
        "Next@2021xxxxxxxx",
        "next@2021",
        "NEXT@2021",
        "Next@abcd",
        "Next2021",
        "",
    ] {
        let r = change_password(&srv, me, &u.name, &u.password, bad).await;
        expect_iam_error(&r, 400, 100004, &format!("newPassword {bad:?}"));
    }
    for raw in [
        &b"{"[..],
        br#"{"oldPassword": 1, "newPassword": "Next@2021"}"#,
        b"[]",
    ] {
        let r = srv
            .iam_raw(
                "PUT",
                &format!("/v1/users/{}/change-password", u.name),
                me,
                Some(raw.to_vec()),
                true,
            )
            .await;
        expect_iam_error(&r, 400, 100003, &String::from_utf8_lossy(raw));
    }
    // Nothing changed, no session ended.
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&other), &u.name).await,
        "other session",
    );
    srv.iam_login(&u.name, &u.password).await;

    // Success on the hyphen path.
    let r = change_password(&srv, me, &u.name, &u.password, "Next@2021").await;
    expect_iam_null(&r, "change-password");
    expect_iam_ok(
        &get_user(&srv, me, &u.name).await,
        "the token used keeps working",
    );
    let r = get_user(&srv, Auth::Bearer(&other), &u.name).await;
    assert_eq!(r.0, 401, "the other session ends at once: {}", r.1);
    expect_iam_error(
        &login_raw(&srv, &u.name, &u.password).await,
        401,
        100206,
        "old password",
    );
    let fresh = srv.iam_login(&u.name, "Next@2021").await;

    // And on the underscore path, back again.
    let r = srv
        .iam(
            "PUT",
            &format!("/v1/users/{}/change_password", u.name),
            Auth::Bearer(&fresh),
            Some(&json!({"oldPassword": "Next@2021", "newPassword": "Back@2022"})),
        )
        .await;
    expect_iam_null(&r, "change_password");
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&fresh), &u.name).await,
        "the token used",
    );
    assert_eq!(
        get_user(&srv, me, &u.name).await.0,
        401,
        "the first token ends now"
    );
    srv.iam_login(&u.name, "Back@2022").await;
    expect_iam_error(
        &login_raw(&srv, &u.name, "Next@2021").await,
        401,
        100206,
        "previous password",
    );
    assert_no_secrets(&srv, &[&u.password, "Next@2021", "Back@2022"]);
}

#[tokio::test]
async fn change_password_of_another_user() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let alice = register(&srv, "alice").await;
    let bob = register(&srv, "bob").await;

    // A non-admin cannot, even knowing the old password.
    let r = change_password(
        &srv,
        Auth::Bearer(&bob.token),
        &alice.name,
        &alice.password,
        "Bob@2021x",
    )
    .await;
    expect_iam_error(&r, 403, 100207, "bob changes alice's password");
    srv.iam_login(&alice.name, &alice.password).await;

    // The admin needs the right old password too.
    let r = change_password(
        &srv,
        Auth::Bearer(&admin),
        &alice.name,
        "Wrong@2020",
        "Adm@2021x",
    )
    .await;
    expect_iam_error(&r, 401, 100206, "admin with a wrong oldPassword");
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&alice.token), &alice.name).await,
        "alice's session",
    );

    let r = change_password(
        &srv,
        Auth::Bearer(&admin),
        &alice.name,
        &alice.password,
        "Adm@2021x",
    )
    .await;
    expect_iam_null(&r, "admin changes alice's password");
    assert_eq!(
        get_user(&srv, Auth::Bearer(&alice.token), &alice.name)
            .await
            .0,
        401,
        "alice's session ends"
    );
    expect_ok_admin(&srv, &admin).await;
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&bob.token), &bob.name).await,
        "bob unaffected",
    );
    srv.iam_login(&alice.name, "Adm@2021x").await;
    expect_iam_error(
        &login_raw(&srv, &alice.name, &alice.password).await,
        401,
        100206,
        "old",
    );

    let r = change_password(
        &srv,
        Auth::Bearer(&admin),
        &unique_name("ghost"),
        "Old@20201",
        "New@20201",
    )
    .await;
    expect_iam_error(&r, 404, 110001, "unknown user");
    assert_no_secrets(&srv, &[&alice.password, "Adm@2021x", "Bob@2021x"]);
}

/// The admin token still works.
async fn expect_ok_admin(srv: &TestServer, admin: &str) {
    expect_iam_ok(
        &get_user(srv, Auth::Bearer(admin), "admin").await,
        "admin token",
    );
}

// ---------------------------------------------------------------------------------------------
// Delete
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn delete_one() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let alice = register(&srv, "alice").await;
    let bob = register(&srv, "bob").await;
    let alice2 = srv.iam_login(&alice.name, &alice.password).await;

    // Non-admins cannot delete anybody, themselves included.
    for target in [alice.name.as_str(), bob.name.as_str(), "admin"] {
        let r = srv
            .iam(
                "DELETE",
                &format!("/v1/users/{target}"),
                Auth::Bearer(&bob.token),
                None,
            )
            .await;
        expect_iam_error(&r, 403, 100207, &format!("bob deletes {target}"));
    }
    assert!(exists(&srv, &admin, &alice.name).await);
    assert!(exists(&srv, &admin, &bob.name).await);

    // The admin cannot be deleted.
    let r = srv
        .iam("DELETE", "/v1/users/admin", Auth::Bearer(&admin), None)
        .await;
    expect_iam_error(&r, 403, 100207, "delete admin");
    assert!(exists(&srv, &admin, "admin").await);
    srv.iam_login("admin", srv.admin_password()).await;

    // Delete: every session of the user ends at once.
    let r = srv
        .iam(
            "DELETE",
            &format!("/v1/users/{}", alice.name),
            Auth::Bearer(&admin),
            None,
        )
        .await;
    expect_iam_null(&r, "delete alice");
    for t in [&alice.token, &alice2] {
        let r = get_user(&srv, Auth::Bearer(t), &alice.name).await;
        assert_eq!(r.0, 401, "deleted alice's token: {}", r.1);
    }
    let r = get_user(&srv, Auth::Basic(&alice.name, &alice.password), &alice.name).await;
    assert_eq!(r.0, 401, "deleted alice's Basic credentials: {}", r.1);
    assert!(!exists(&srv, &admin, &alice.name).await);
    expect_iam_error(
        &login_raw(&srv, &alice.name, &alice.password).await,
        401,
        100206,
        "login",
    );

    // Idempotent.
    let r = srv
        .iam(
            "DELETE",
            &format!("/v1/users/{}", alice.name),
            Auth::Bearer(&admin),
            None,
        )
        .await;
    expect_iam_null(&r, "delete alice again");
    let r = srv
        .iam(
            "DELETE",
            &format!("/v1/users/{}", unique_name("ghost")),
            Auth::Bearer(&admin),
            None,
        )
        .await;
    expect_iam_null(&r, "delete a user that never existed");
    assert!(exists(&srv, &admin, &bob.name).await);

    // The name is free again.
    let r = create(
        &srv,
        &user_body(&alice.name, "again", "Again@2020", &fresh_email(), "1"),
    )
    .await;
    expect_iam_ok(&r, "re-create alice");
    assert_no_secrets(&srv, &[&alice.password, &bob.password, "Again@2020"]);
}

#[tokio::test]
async fn batch_delete() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let a = register(&srv, "ba").await;
    let b = register(&srv, "bb").await;
    let c = register(&srv, "bc").await;
    let d = register(&srv, "bd").await;
    let count = total(&srv, &admin).await;

    // Non-admin: refused, nothing deleted.
    let path = format!("/v1/users?name={}&name={}", a.name, b.name);
    let r = srv.iam("DELETE", &path, Auth::Bearer(&c.token), None).await;
    expect_iam_error(&r, 403, 100207, "non-admin batch delete");

    // `admin` among the names: refused, nothing deleted.
    let path = format!("/v1/users?name={}&name=admin&name={}", a.name, b.name);
    let r = srv.iam("DELETE", &path, Auth::Bearer(&admin), None).await;
    expect_iam_error(&r, 403, 100207, "batch with admin");
    let path = format!("/v1/users?name=admin&name={}", a.name);
    let r = srv.iam("DELETE", &path, Auth::Bearer(&admin), None).await;
    expect_iam_error(&r, 403, 100207, "batch with admin first");
    assert_eq!(total(&srv, &admin).await, count, "nothing deleted");
    for u in [&a, &b, &c, &d] {
        expect_iam_ok(
            &get_user(&srv, Auth::Bearer(&u.token), &u.name).await,
            "still there",
        );
    }
    assert!(exists(&srv, &admin, "admin").await);

    // Missing names are skipped.
    let path = format!(
        "/v1/users?name={}&name={}&name={}",
        a.name,
        unique_name("ghost"),
        b.name
    );
    let r = srv.iam("DELETE", &path, Auth::Bearer(&admin), None).await;
    expect_iam_null(&r, "batch delete a, ghost, b");
    for u in [&a, &b] {
        assert!(!exists(&srv, &admin, &u.name).await, "{} deleted", u.name);
        assert_eq!(get_user(&srv, Auth::Bearer(&u.token), &u.name).await.0, 401);
    }
    for u in [&c, &d] {
        assert!(exists(&srv, &admin, &u.name).await, "{} kept", u.name);
    }
    assert_eq!(total(&srv, &admin).await, count - 2);

    // Only missing names: fine.
    let path = format!("/v1/users?name={}&name={}", a.name, unique_name("ghost"));
    let r = srv.iam("DELETE", &path, Auth::Bearer(&admin), None).await;
    expect_iam_null(&r, "batch of absent names");

    // With HTTP Basic credentials.
    let path = format!("/v1/users?name={}&name={}", c.name, d.name);
    let r = srv
        .iam(
            "DELETE",
            &path,
            Auth::Basic("admin", srv.admin_password()),
            None,
        )
        .await;
    expect_iam_null(&r, "batch delete with Basic");
    assert_eq!(total(&srv, &admin).await, count - 4);
    assert_no_secrets(&srv, &[&a.password, srv.admin_password()]);
}

// ---------------------------------------------------------------------------------------------
// List
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_paging_ordering_filter_total() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let pre = unique_name("ls");
    let mut names = Vec::new();
    for i in 0..5 {
        let name = format!("{pre}-{i}");
        let r = create(
            &srv,
            &user_body(&name, "n", "List@2020", &fresh_email(), "1"),
        )
        .await;
        expect_iam_ok(&r, &name);
        names.push(name);
    }
    let outsider = register(&srv, "zz").await;
    let newest_first: Vec<String> = names.iter().rev().cloned().collect();
    let sel = format!("fieldSelector=name={pre}");

    // Filter, newest first; paging.
    assert_eq!(list(&srv, &admin, &sel).await, (5, newest_first.clone()));
    assert_eq!(
        list(&srv, &admin, &format!("offset=0&limit=10&{sel}")).await,
        (5, newest_first.clone())
    );
    assert_eq!(
        list(&srv, &admin, &format!("offset=1&limit=2&{sel}")).await,
        (5, newest_first[1..3].to_vec())
    );
    assert_eq!(
        list(&srv, &admin, &format!("limit=2&{sel}")).await,
        (5, newest_first[..2].to_vec()),
        "offset defaults to 0"
    );
    assert_eq!(
        list(&srv, &admin, &format!("offset=2&{sel}")).await,
        (5, newest_first[2..].to_vec()),
        "limit defaults to 1000"
    );
    assert_eq!(
        list(&srv, &admin, &format!("offset=4&limit=10&{sel}")).await,
        (5, newest_first[4..].to_vec())
    );
    assert_eq!(
        list(&srv, &admin, &format!("offset=5&limit=10&{sel}")).await,
        (5, vec![]),
        "totalCount regardless of offset"
    );
    assert_eq!(
        list(&srv, &admin, &format!("offset=100&{sel}")).await,
        (5, vec![])
    );

    // Substring, not prefix; other terms of the selector are ignored (only name is supported).
    assert_eq!(
        list(&srv, &admin, &format!("fieldSelector=name={}", &pre[3..9])).await,
        (5, newest_first.clone())
    );
    assert_eq!(
        list(
            &srv,
            &admin,
            &format!("fieldSelector=name={}", &names[3][2..])
        )
        .await,
        (1, vec![names[3].clone()])
    );
    assert_eq!(
        list(&srv, &admin, &format!("fieldSelector=name={pre},phone=181")).await,
        (5, newest_first.clone())
    );
    assert_eq!(
        list(
            &srv,
            &admin,
            &format!("fieldSelector=name={}", unique_name("none"))
        )
        .await,
        (0, vec![])
    );

    // Everything: newest first, admin last, totalCount = items.
    let (all_total, all) = list(&srv, &admin, "").await;
    assert_eq!(all_total, 7, "admin, five, outsider: {all:?}");
    assert_eq!(all.len(), 7);
    assert_eq!(all[0], outsider.name, "newest first");
    assert_eq!(all[1..6], newest_first[..]);
    assert_eq!(all[6], "admin", "the oldest user last");
    assert_eq!(
        list(&srv, &admin, "offset=0&limit=3").await,
        (7, all[..3].to_vec())
    );
    assert_eq!(
        list(&srv, &admin, "offset=6&limit=3").await,
        (7, all[6..].to_vec())
    );

    // Items are full resources.
    let r = srv
        .iam(
            "GET",
            &format!("/v1/users?{sel}&limit=1"),
            Auth::Bearer(&admin),
            None,
        )
        .await;
    let item = &expect_iam_ok(&r, "list")["items"][0];
    let one = expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&admin), &names[4]).await,
        "get",
    );
    let mut expected = one.clone();
    expected["totalPolicy"] = json!(0);
    assert_eq!(
        item, &expected,
        "an item is the resource plus totalPolicy 0"
    );

    // Non-admin: 403, with or without a filter.
    for q in ["", "?fieldSelector=name=zz", "?offset=0&limit=1"] {
        let r = srv
            .iam(
                "GET",
                &format!("/v1/users{q}"),
                Auth::Bearer(&outsider.token),
                None,
            )
            .await;
        expect_iam_error(&r, 403, 100207, &format!("non-admin list {q}"));
    }
    assert_no_secrets(
        &srv,
        &["List@2020", &outsider.password, srv.admin_password()],
    );
}

#[tokio::test]
async fn list_filter_is_a_literal_substring() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let pre = unique_name("lit");
    // (`A_B` would be the name `a_b`: names are unique regardless of case.)
    for suffix in ["a_b", "axb", "a.b", "A_C"] {
        let name = format!("{pre}{suffix}");
        let r = create(
            &srv,
            &user_body(&name, "n", "Lit@2020x", &fresh_email(), ""),
        )
        .await;
        expect_iam_ok(&r, &name);
    }
    let q = |needle: &str| format!("fieldSelector=name={needle}");
    assert_eq!(
        list(&srv, &admin, &q(&format!("{pre}a_b"))).await,
        (1, vec![format!("{pre}a_b")]),
        "'_' is literal"
    );
    assert_eq!(
        list(&srv, &admin, &q(&format!("{pre}a.b"))).await,
        (1, vec![format!("{pre}a.b")]),
        "'.' is literal"
    );
    assert_eq!(
        list(&srv, &admin, &q(&format!("{pre}A_C"))).await,
        (1, vec![format!("{pre}A_C")]),
        "upper case"
    );
    assert_eq!(
        list(&srv, &admin, &q(&format!("{pre}a_c"))).await,
        (0, vec![]),
        "the filter is case-sensitive"
    );
    assert_eq!(
        list(&srv, &admin, &q(&format!("{pre}a%25"))).await,
        (0, vec![]),
        "'%' is literal"
    );
    assert_eq!(
        list(&srv, &admin, &q(&format!("{pre}%25b"))).await,
        (0, vec![]),
        "'%' is literal"
    );
    assert_eq!(list(&srv, &admin, &q(&pre)).await.0, 4);
}

// ---------------------------------------------------------------------------------------------
// Login, logout, refresh
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_logout_refresh() {
    let srv = TestServer::start().await;
    let u = register(&srv, "tok").await;

    // JSON and Basic login.
    let r = login_raw(&srv, &u.name, &u.password).await;
    let v = expect_iam_ok(&r, "JSON login");
    let t1 = v["token"].as_str().expect("token").to_string();
    let expire = parse_rfc3339(v["expire"].as_str().unwrap_or_default())
        .unwrap_or_else(|| panic!("expire is not RFC 3339: {v}"));
    assert!(expire > unix_now(), "expire in the future: {v}");
    assert_eq!(t1.split('.').count(), 3, "a JWT: {t1}");
    jwt_parts(&t1);
    let r = srv
        .iam("POST", "/login", Auth::Basic(&u.name, &u.password), None)
        .await;
    let v = expect_iam_ok(&r, "Basic login");
    let t2 = v["token"].as_str().expect("token").to_string();
    assert!(is_rfc3339(v["expire"].as_str().unwrap_or_default()), "{v}");
    assert_ne!(t1, t2);

    // Wrong pairs: 401 100206.
    for (what, r) in [
        (
            "wrong password",
            login_raw(&srv, &u.name, "Wrong@2020").await,
        ),
        (
            "unknown user",
            login_raw(&srv, &unique_name("ghost"), &u.password).await,
        ),
        ("empty password", login_raw(&srv, &u.name, "").await),
        (
            "Basic wrong password",
            srv.iam("POST", "/login", Auth::Basic(&u.name, "Wrong@2020"), None)
                .await,
        ),
    ] {
        expect_iam_error(&r, 401, 100206, what);
    }
    let r = srv
        .iam_raw("POST", "/login", Auth::None, Some(b"{".to_vec()), true)
        .await;
    expect_iam_error(&r, 400, 100003, "malformed login body");
    let r = srv
        .iam_raw(
            "POST",
            "/login",
            Auth::None,
            Some(br#"{"username": 1, "password": 2}"#.to_vec()),
            true,
        )
        .await;
    expect_iam_error(&r, 400, 100003, "wrong types in the login body");

    // Refresh: a new token; the old one is dead at once.
    let r = srv.iam("POST", "/refresh", Auth::Bearer(&t1), None).await;
    let v = expect_iam_ok(&r, "refresh");
    let t3 = v["token"].as_str().expect("token").to_string();
    assert!(is_rfc3339(v["expire"].as_str().unwrap_or_default()), "{v}");
    assert_ne!(t3, t1);
    assert_eq!(
        get_user(&srv, Auth::Bearer(&t1), &u.name).await.0,
        401,
        "old token after refresh"
    );
    assert_eq!(
        srv.iam("POST", "/refresh", Auth::Bearer(&t1), None).await.0,
        401,
        "refresh with the old token"
    );
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&t3), &u.name).await,
        "refreshed token",
    );
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&t2), &u.name).await,
        "another session",
    );

    // Logout: that token only.
    let r = srv.iam("POST", "/logout", Auth::Bearer(&t3), None).await;
    assert_eq!(r.0, 200, "logout: {}", r.1);
    assert_eq!(
        get_user(&srv, Auth::Bearer(&t3), &u.name).await.0,
        401,
        "after logout"
    );
    assert_eq!(
        srv.iam("POST", "/refresh", Auth::Bearer(&t3), None).await.0,
        401
    );
    assert_eq!(
        srv.iam("POST", "/logout", Auth::Bearer(&t3), None).await.0,
        401
    );
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&t2), &u.name).await,
        "the other session",
    );
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&u.token), &u.name).await,
        "the first session",
    );
    assert_no_secrets(&srv, &[&u.password]);
}

#[tokio::test]
async fn credentials_are_required_and_checked() {
    let srv = TestServer::start().await;
    let u = register(&srv, "cred").await;
    let user_path = format!("/v1/users/{}", u.name);
    let cp = format!("/v1/users/{}/change-password", u.name);
    let cp2 = format!("/v1/users/{}/change_password", u.name);
    let body = json!({"oldPassword": u.password, "newPassword": "Next@2021"});
    let protected: Vec<(&str, &str, Option<&Value>)> = vec![
        ("GET", "/v1/users", None),
        ("DELETE", "/v1/users?name=x", None),
        ("GET", &user_path, None),
        ("PUT", &user_path, Some(&body)),
        ("DELETE", &user_path, None),
        ("PUT", &cp, Some(&body)),
        ("PUT", &cp2, Some(&body)),
        ("POST", "/logout", None),
        ("POST", "/refresh", None),
    ];
    let garbage = [
        Auth::Bearer("garbage"),
        Auth::Bearer("a.b.c"),
        Auth::Raw("Bearer"),
        Auth::Raw("Token abc"),
        Auth::Basic(&u.name, "Wrong@2020"),
        Auth::Basic("ghost-nobody", "Wrong@2020"),
        Auth::Raw("Basic !!!notbase64"),
    ];
    for (method, path, body) in &protected {
        let r = srv.iam(method, path, Auth::None, *body).await;
        expect_iam_error(
            &r,
            401,
            100205,
            &format!("{method} {path} without credentials"),
        );
        for auth in garbage {
            let r = srv.iam(method, path, auth, *body).await;
            assert_eq!(r.0, 401, "{method} {path} with {auth:?}: {}", r.1);
            assert!(
                r.1["code"].is_i64(),
                "{method} {path} with {auth:?}: {}",
                r.1
            );
        }
    }
    // A token signed with another secret.
    let (header, claims) = jwt_parts(&u.token);
    let forged = sign_jwt(
        &header,
        &claims,
        b"another-secret-another-secret-0123456789",
    );
    assert_eq!(
        get_user(&srv, Auth::Bearer(&forged), &u.name).await.0,
        401,
        "forged token"
    );
    // Nothing happened: the user is there with its password.
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&u.token), &u.name).await,
        "still there",
    );
    srv.iam_login(&u.name, &u.password).await;
    assert_no_secrets(&srv, &[&u.password]);
}

#[tokio::test]
async fn basic_credentials_on_protected_endpoints() {
    let srv = TestServer::start().await;
    let admin_pw = srv.admin_password().to_string();
    let admin_basic = Auth::Basic("admin", &admin_pw);
    // As in `curl -u foo:Foo@2020`.
    let r = create(
        &srv,
        &user_body("foo", "foo", "Foo@2020", "foo@foxmail.com", "1812884xxxx"),
    )
    .await;
    expect_iam_ok(&r, "create foo");
    let foo = Auth::Basic("foo", "Foo@2020");
    let bar = register(&srv, "bar").await;

    let r = get_user(&srv, foo, "foo").await;
    check_resource(
        &expect_iam_ok(&r, "foo gets itself"),
        "foo",
        "foo",
        "foo@foxmail.com",
        "1812884xxxx",
    );
    expect_iam_error(
        &get_user(&srv, foo, &bar.name).await,
        403,
        100207,
        "foo gets bar",
    );
    let r = srv.iam("GET", "/v1/users", foo, None).await;
    expect_iam_error(&r, 403, 100207, "foo lists");
    let r = srv
        .iam(
            "PUT",
            "/v1/users/foo",
            foo,
            Some(&json!({"nickname": "foo1"})),
        )
        .await;
    assert_eq!(
        expect_iam_ok(&r, "foo updates itself")["nickname"],
        json!("foo1")
    );

    let r = srv
        .iam("GET", "/v1/users?fieldSelector=name=foo", admin_basic, None)
        .await;
    assert_eq!(
        expect_iam_ok(&r, "admin lists with Basic")["totalCount"],
        json!(1)
    );
    expect_iam_ok(
        &get_user(&srv, admin_basic, "foo").await,
        "admin gets foo with Basic",
    );

    // A session of foo's, then a password change with Basic: the session ends.
    let foo_token = srv.iam_login("foo", "Foo@2020").await;
    let r = srv
        .iam(
            "PUT",
            "/v1/users/foo/change-password",
            foo,
            Some(&json!({"oldPassword": "Foo@2020", "newPassword": "Foo@2021"})),
        )
        .await;
    expect_iam_null(&r, "change password with Basic");
    assert_eq!(get_user(&srv, Auth::Bearer(&foo_token), "foo").await.0, 401);
    assert_eq!(
        get_user(&srv, foo, "foo").await.0,
        401,
        "Basic with the old password"
    );
    let foo = Auth::Basic("foo", "Foo@2021");
    expect_iam_ok(
        &get_user(&srv, foo, "foo").await,
        "Basic with the new password",
    );

    // Delete with Basic; then foo's Basic credentials are refused.
    let r = srv.iam("DELETE", "/v1/users/foo", admin_basic, None).await;
    expect_iam_null(&r, "admin deletes foo with Basic");
    assert_eq!(
        get_user(&srv, foo, "foo").await.0,
        401,
        "deleted foo's Basic credentials"
    );
    assert!(!exists(&srv, &srv.iam_admin_token().await, "foo").await);
    let r = srv
        .iam("DELETE", "/v1/users/admin", admin_basic, None)
        .await;
    expect_iam_error(&r, 403, 100207, "delete admin with Basic");

    // A ':' in the password: only the first ':' separates the user.
    let r = create(&srv, &user_body("col", "c", "Co:l2020", &fresh_email(), "")).await;
    expect_iam_ok(&r, "create col");
    expect_iam_ok(
        &get_user(&srv, Auth::Basic("col", "Co:l2020"), "col").await,
        "Basic with a ':' in the password",
    );
    assert_no_secrets(
        &srv,
        &["Foo@2020", "Foo@2021", &admin_pw, &bar.password, "Co:l2020"],
    );
}

// ---------------------------------------------------------------------------------------------
// Cross-surface
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn users_log_in_across_surfaces() {
    let srv = TestServer::start().await;
    // IAM-created → platform login.
    let iam_user = register(&srv, "iamu").await;
    let platform_token = srv.login(&iam_user.name, &iam_user.password).await;
    assert!(!platform_token.is_empty());
    let dotted = format!("{}.a-b_c", unique_name("X"));
    let r = create(
        &srv,
        &user_body(&dotted, "d", "Dot.t3d!", &fresh_email(), ""),
    )
    .await;
    expect_iam_ok(&r, "create a name with '.', '-' and '_'");
    srv.login(&dotted, "Dot.t3d!").await;

    // Platform-created → IAM login, and the IAM resource.
    let admin = srv.admin_token().await;
    let name = unique_name("platu");
    let password = gen_password();
    let r = srv
        .post(
            "platform/create/user",
            &json!({
                "user_name": name,
                "user_alias": "Plat U",
                "phone_number": gen_phone(),
                "password": password,
            }),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "platform create/user");
    let token = srv.iam_login(&name, &password).await;
    let r = get_user(&srv, Auth::Bearer(&token), &name).await;
    let v = expect_iam_ok(&r, "platform user gets itself on IAM");
    assert_eq!(v["metadata"]["name"], json!(name));
    assert_eq!(v["nickname"], json!("Plat U"));
    assert_eq!(v["password"], json!(""));

    // A platform name outside the IAM name rule still logs in on /login.
    let name2 = format!("李彬{}", unique_name(""));
    let password2 = gen_password();
    let r = srv
        .post(
            "platform/create/user",
            &json!({
                "user_name": name2,
                "user_alias": "Li Bin",
                "phone_number": gen_phone(),
                "password": password2,
            }),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "platform create/user with a non-ASCII name");
    srv.iam_login(&name2, &password2).await;
    assert_no_secrets(
        &srv,
        &[&iam_user.password, &password, &password2, "Dot.t3d!"],
    );
}

// ---------------------------------------------------------------------------------------------
// Properties: generated names and passwords on the rule boundaries, against one server
// ---------------------------------------------------------------------------------------------

/// The contract's name rule: `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`, at most 63 chars.
fn name_rule(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let alnum = |c: &char| c.is_ascii_alphanumeric();
    !chars.is_empty()
        && chars.len() <= 63
        && chars.first().is_some_and(alnum)
        && chars.last().is_some_and(alnum)
        && chars
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The contract's password rule: 8–16 chars, a lower-case letter, an upper-case letter, a
/// digit and a symbol (the generator's symbols are ASCII punctuation; a space is none).
fn password_rule(s: &str) -> bool {
    (8..=16).contains(&s.chars().count())
        && s.chars().any(|c| c.is_ascii_lowercase())
        && s.chars().any(|c| c.is_ascii_uppercase())
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars().any(|c| c.is_ascii_punctuation())
}

fn name_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        // Inside: short and long.
        "[A-Za-z0-9]([-A-Za-z0-9_.]{0,12}[A-Za-z0-9])?",
        "[A-Za-z0-9][-A-Za-z0-9_.]{60}[A-Za-z0-9]",
        "[A-Za-z0-9][-A-Za-z0-9_.]{61}[A-Za-z0-9]",
        // Outside: 64+ characters.
        "[A-Za-z0-9][-A-Za-z0-9_.]{62}[A-Za-z0-9]",
        "[a-z0-9]{64,66}",
        // Outside: leading or trailing separator, or a separator alone.
        "[-_.][A-Za-z0-9]{1,8}",
        "[A-Za-z0-9]{1,8}[-_.]",
        "[-_.]{1,2}",
        // Outside: a forbidden character.
        "[A-Za-z0-9]{1,6}[ @/#:+!,~é李][A-Za-z0-9]{1,6}",
        Just(String::new()),
    ]
}

fn password_strategy() -> impl Strategy<Value = String> {
    const CLASSES: [&str; 4] = [
        "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "0123456789",
        "!@#$%^&*()-_=+[]{};:,.<>/?~|`'\"\\",
    ];
    let length = prop_oneof![
        4 => prop::sample::select(vec![7usize, 8, 9, 15, 16, 17]),
        1 => 0usize..=20,
    ];
    // Mostly all four classes, sometimes one or more missing.
    let mask = prop_oneof![3 => Just(0b1111u8), 2 => 0u8..16];
    (
        length,
        mask,
        prop::collection::vec(any::<u16>(), 20),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(len, mask, picks, with_space)| {
            let classes: Vec<&[u8]> = (0..4)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| CLASSES[i].as_bytes())
                .collect();
            if classes.is_empty() {
                return " ".repeat(len.min(9));
            }
            let mut out = String::new();
            for (i, pick) in picks.iter().take(len).enumerate() {
                // The first characters cover each chosen class once.
                let class = classes[if i < classes.len() {
                    i
                } else {
                    *pick as usize % classes.len()
                }];
                out.push(class[(*pick as usize / 7) % class.len()] as char);
            }
            if with_space && !out.is_empty() {
                let at = picks[19] as usize % out.len();
                out.replace_range(at..=at, " ");
            }
            out
        })
}

#[test]
fn generated_names_and_passwords_follow_the_rules() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let srv = rt.block_on(TestServer::start());
    let admin = rt.block_on(srv.iam_admin_token());
    let fixed = rt.block_on(register(&srv, "prop"));
    // Names stored so far (the server stays up across cases), the fixed user's password.
    let stored: RefCell<HashSet<String>> = RefCell::new(
        ["admin".to_string(), fixed.name.clone()]
            .into_iter()
            .collect(),
    );
    let current = RefCell::new(fixed.password.clone());
    let leaked_candidates: RefCell<Vec<String>> = RefCell::new(Vec::new());
    // (names accepted, names refused, passwords accepted, passwords refused)
    let seen = RefCell::new([0u32; 4]);

    let mut runner = TestRunner::new(PropConfig {
        cases: 32,
        max_shrink_iters: 0,
        failure_persistence: None,
        ..PropConfig::default()
    });
    let result = runner.run(
        &(name_strategy(), password_strategy()),
        |(name, password)| {
            rt.block_on(async {
                // A generated name with a valid rest.
                let r = create(
                    &srv,
                    &user_body(&name, "n", "Prop@2020", &fresh_email(), ""),
                )
                .await;
                let ctx = format!("create name {name:?} ({} chars)", name.chars().count());
                seen.borrow_mut()[usize::from(!name_rule(&name))] += 1;
                if !name_rule(&name) {
                    expect_iam_error(&r, 400, 100004, &ctx);
                } else if stored.borrow().contains(&name) {
                    expect_iam_error(&r, 400, 110002, &format!("{ctx} again"));
                } else {
                    check_resource(
                        &expect_iam_ok(&r, &ctx),
                        &name,
                        "n",
                        r.1["email"].as_str().unwrap_or_default(),
                        "",
                    );
                    stored.borrow_mut().insert(name.clone());
                    assert!(exists(&srv, &admin, &name).await, "{ctx}: stored");
                }

                // A generated password with a valid rest, on create.
                let other = unique_name("pw");
                let r = create(&srv, &user_body(&other, "n", &password, &fresh_email(), "")).await;
                let ctx = format!(
                    "create with password {password:?} ({} chars)",
                    password.chars().count()
                );
                seen.borrow_mut()[2 + usize::from(!password_rule(&password))] += 1;
                if password_rule(&password) {
                    expect_iam_ok(&r, &ctx);
                    stored.borrow_mut().insert(other.clone());
                    srv.iam_login(&other, &password).await;
                    leaked_candidates.borrow_mut().push(password.clone());
                } else {
                    expect_iam_error(&r, 400, 100004, &ctx);
                    assert!(!exists(&srv, &admin, &other).await, "{ctx}: not stored");
                }

                // The same password as a new password.
                let old = current.borrow().clone();
                let r = change_password(
                    &srv,
                    Auth::Bearer(&fixed.token),
                    &fixed.name,
                    &old,
                    &password,
                )
                .await;
                let ctx = format!("change password to {password:?}");
                if password_rule(&password) {
                    expect_iam_null(&r, &ctx);
                    *current.borrow_mut() = password.clone();
                    srv.iam_login(&fixed.name, &password).await;
                } else {
                    expect_iam_error(&r, 400, 100004, &ctx);
                    srv.iam_login(&fixed.name, &old).await;
                }
                // The token used for the changes keeps working.
                expect_iam_ok(
                    &get_user(&srv, Auth::Bearer(&fixed.token), &fixed.name).await,
                    "fixed user's token",
                );

                // Exactly the accepted users are stored.
                assert_eq!(
                    total(&srv, &admin).await,
                    stored.borrow().len() as u64,
                    "user count"
                );
            });
            Ok(())
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    let seen = seen.into_inner();
    assert!(
        seen.iter().all(|n| *n > 0),
        "the generators reach both sides of each rule: {seen:?}"
    );
    let candidates = leaked_candidates.borrow();
    let mut secrets: Vec<&str> = candidates.iter().map(String::as_str).collect();
    secrets.push(&fixed.password);
    assert_no_secrets(&srv, &secrets);
    drop(srv);
}
