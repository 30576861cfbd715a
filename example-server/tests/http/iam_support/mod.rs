//! Helpers the iam suites share.
#![allow(dead_code)]

use tests::*;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A user registered through `POST /v1/users`, logged in through `POST /login`.
#[derive(Clone, Debug)]
pub struct IamUser {
    pub name: String,
    pub password: String,
    pub email: String,
    pub token: String,
}
/// A unique e-mail address.
pub fn fresh_email() -> String {
    format!("{}@example.com", unique_name("m"))
}

/// A unique, plausible e-mail address of exactly `len` characters (labels at most 60).
pub fn email_of_len(len: usize) -> String {
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
pub fn user_body(name: &str, nickname: &str, password: &str, email: &str, phone: &str) -> Value {
    json!({
        "metadata": {"name": name},
        "nickname": nickname,
        "password": password,
        "email": email,
        "phone": phone,
    })
}

/// `POST /v1/users` without credentials (self-registration).
pub async fn create(srv: &TestServer, body: &Value) -> (u16, Value) {
    srv.iam("POST", "/v1/users", Auth::None, Some(body)).await
}

/// Register a fresh user (200 asserted) and log it in.
pub async fn register(srv: &TestServer, prefix: &str) -> IamUser {
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
pub fn check_resource(v: &Value, name: &str, nickname: &str, email: &str, phone: &str) -> i64 {
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
pub async fn get_user(srv: &TestServer, auth: Auth<'_>, name: &str) -> (u16, Value) {
    srv.iam("GET", &format!("/v1/users/{name}"), auth, None)
        .await
}

/// Whether the admin sees `name` (200) or not (404 110001); anything else panics.
pub async fn exists(srv: &TestServer, admin: &str, name: &str) -> bool {
    let r = get_user(srv, Auth::Bearer(admin), name).await;
    if r.0 == 200 {
        assert_eq!(r.1["metadata"]["name"], json!(name), "GET {name}: {}", r.1);
        return true;
    }
    expect_iam_error(&r, 404, 110001, &format!("GET {name} (absent)"));
    false
}

/// `GET /v1/users?<query>` as the admin: (totalCount, item names). Checks every item's shape.
pub async fn list(srv: &TestServer, admin: &str, query: &str) -> (u64, Vec<String>) {
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
pub async fn total(srv: &TestServer, admin: &str) -> u64 {
    list(srv, admin, "").await.0
}

/// `POST /login` with JSON; returns the raw answer.
pub async fn login_raw(srv: &TestServer, name: &str, password: &str) -> (u16, Value) {
    srv.iam(
        "POST",
        "/login",
        Auth::None,
        Some(&json!({"username": name, "password": password})),
    )
    .await
}

/// `PUT /v1/users/:name/change-password`.
pub async fn change_password(
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
pub fn assert_no_secrets(srv: &TestServer, secrets: &[&str]) {
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

pub fn check_password_fields(v: &Value, body: &str) {
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

/// The admin token still works.
pub async fn expect_ok_admin(srv: &TestServer, admin: &str) {
    expect_iam_ok(
        &get_user(srv, Auth::Bearer(admin), "admin").await,
        "admin token",
    );
}

// ---------------------------------------------------------------------------------------------
// Delete
// ---------------------------------------------------------------------------------------------

/// The contract's name rule: `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`, at most 63 chars.
pub fn name_rule(s: &str) -> bool {
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
pub fn password_rule(s: &str) -> bool {
    (8..=16).contains(&s.chars().count())
        && s.chars().any(|c| c.is_ascii_lowercase())
        && s.chars().any(|c| c.is_ascii_uppercase())
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars().any(|c| c.is_ascii_punctuation())
}
