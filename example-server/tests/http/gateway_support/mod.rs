//! Helpers the gateway suites share.
#![allow(dead_code)]

use tests::*;

pub fn header_code(r: &(u16, Value)) -> i64 {
    r.1["header"]["code"].as_i64().unwrap_or(-999)
}

pub fn expect_header(r: &(u16, Value), code: i64, ctx: &str) {
    assert_eq!(header_code(r), code, "{ctx}: {}", r.1);
}

pub async fn auth_code(s: &TestServer, name: &str, email: &str) -> (u16, Value) {
    s.post(
        "auth-code",
        &json!({"user_name": name, "email": email}),
        None,
    )
    .await
}

pub async fn register(
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

pub fn email_of(name: &str) -> String {
    format!("{name}@example.com")
}

/// Registers a user through the mail flow; returns (name, password, token).
pub async fn registered(s: &TestServer, smtp: &SmtpServer) -> (String, String, String) {
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

pub async fn gw(s: &TestServer, path: &str, body: &Value, token: &str) -> (u16, Value) {
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

pub async fn create_project(s: &TestServer, token: &str, name: &str) -> (String, String) {
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

pub async fn list_projects(s: &TestServer, token: &str, user_id: Option<i64>) -> (u16, Value) {
    let mut body = json!({"page_no": 0, "page_size": 20});
    if let Some(id) = user_id {
        body["user_id"] = json!(id);
    }
    gw(s, "project/list", &body, token).await
}

pub async fn rpc(s: &TestServer, key: &str, secret: &str, body: &str) -> (u16, Value) {
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

/// Runs futures concurrently and collects their outputs in order.
pub async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output>
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
