//! Helpers the console suites share.
#![allow(dead_code)]

use std::time::Duration;

use tests::*;

pub const P: &str = "/casdao/api/v1.0/system";

pub fn path(p: &str) -> String {
    format!("{P}/{p}")
}

pub async fn console_server(webhook: &Webhook, extra: &[&str]) -> TestServer {
    let mut args = vec!["--sms-webhook", webhook.url()];
    args.extend_from_slice(extra);
    TestServer::start_with(&args).await
}

/// `{"code":200,"msg":null,"data":…}` with HTTP 200; returns `data`.
pub fn expect_console_ok(resp: &(u16, Value), ctx: &str) -> Value {
    assert_eq!(resp.0, 200, "{ctx}: HTTP status, body {}", resp.1);
    assert_eq!(resp.1["code"], 200, "{ctx}: {}", resp.1);
    assert!(
        resp.1["msg"].is_null(),
        "{ctx}: msg must be null: {}",
        resp.1
    );
    assert!(resp.1.get("data").is_some(), "{ctx}: no data: {}", resp.1);
    resp.1["data"].clone()
}

/// A refusal: HTTP status and `code` both `code`, `msg` in words, `data` null.
pub fn expect_console_error(resp: &(u16, Value), code: u16, ctx: &str) -> String {
    assert_eq!(resp.0, code, "{ctx}: HTTP status, body {}", resp.1);
    assert_eq!(resp.1["code"], code, "{ctx}: {}", resp.1);
    assert!(resp.1["data"].is_null(), "{ctx}: {}", resp.1);
    let msg = resp.1["msg"].as_str().unwrap_or_default().to_string();
    assert!(!msg.is_empty(), "{ctx}: msg must say why: {}", resp.1);
    msg
}

pub async fn console_post(
    s: &TestServer,
    p: &str,
    body: &Value,
    token: Option<&str>,
) -> (u16, Value) {
    let body = serde_json::to_vec(body).expect("json");
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(t) = token {
        headers.push(("X-Auth-Token", t));
    }
    s.send_with("POST", &path(p), &headers, Some(body)).await
}

pub async fn exists(s: &TestServer, name: &str) -> bool {
    let form = format!("username={name}");
    let r = s
        .send_with(
            "POST",
            &path("register/existence"),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(form.into_bytes()),
        )
        .await;
    expect_console_ok(&r, "existence")
        .as_bool()
        .unwrap_or_else(|| panic!("existence data must be a boolean: {}", r.1))
}

pub fn sms_request(phone: &str, department: i64) -> Value {
    json!({"mobilePhone": phone, "module": "注册验证", "origin": "console", "departmentId": department})
}

pub async fn send_code(s: &TestServer, hook: &Webhook, phone: &str, department: i64) -> String {
    let before = hook.received().len();
    let r = console_post(
        s,
        "register/sms/code",
        &sms_request(phone, department),
        None,
    )
    .await;
    assert!(expect_console_ok(&r, "sms code").is_null(), "{}", r.1);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while hook.received().len() == before {
        assert!(std::time::Instant::now() < deadline, "no SMS arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sms = hook.last_for(phone).await;
    assert_eq!(sms["template"], "注册验证", "{sms}");
    let code = sms["code"].as_str().expect("code in the SMS").to_string();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    code
}

pub fn registration(name: &str, password: &str, phone: &str, code: &str, department: i64) -> Value {
    json!({
        "roleId": 1, "roleCategory": 1, "username": name, "password": password,
        "confirmPassword": password, "mobilePhone": phone, "code": code,
        "departmentId": department, "origin": "console"
    })
}

pub async fn register_with(
    s: &TestServer,
    name: &str,
    password: &str,
    phone: &str,
    code: &str,
    department: i64,
) -> (u16, Value) {
    let body = registration(name, password, phone, code, department);
    console_post(s, "register/addition", &body, None).await
}

pub async fn register(s: &TestServer, hook: &Webhook, department: i64) -> (String, String, i64) {
    let (name, password, phone) = (unique_name("pri"), gen_password(), gen_phone());
    let code = send_code(s, hook, &phone, department).await;
    let r = register_with(s, &name, &password, &phone, &code, department).await;
    let id = expect_console_ok(&r, "register").as_i64().expect("id");
    (name, password, id)
}

pub fn login_body(name: &str, password: &str, department: i64) -> Value {
    json!({"username": name, "password": password, "source": "console", "departmentId": department})
}

pub async fn console_login(s: &TestServer, name: &str, password: &str, department: i64) -> String {
    let r = console_post(
        s,
        "auth/login",
        &login_body(name, password, department),
        None,
    )
    .await;
    let token = expect_console_ok(&r, "console login")
        .as_str()
        .expect("token")
        .to_string();
    token
}

pub fn is_uuid_shaped(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

pub fn sub_account(
    name: &str,
    password: &str,
    phone: &str,
    department: i64,
    dept_name: &str,
) -> Value {
    json!({
        "roleId": 4, "roleCategory": 4, "username": name, "password": password,
        "mobilePhone": phone, "departmentId": department, "departmentName": dept_name,
        "origin": "console", "parentId": -1, "clusterAccounts": [], "status": 0,
        "notify": 3, "module": "密码通知", "name": "duxw", "telephone": "010-32854783",
        "email": format!("{name}@example.com"), "organization": "CIBC", "duty": "员工",
        "enterprise": "算力互联"
    })
}

/// A request that needs only a valid token: user/addition with an empty body answers 400
/// (a missing field) once the token is accepted, 401 when it is not.
pub async fn token_accepted(s: &TestServer, token: &str) -> bool {
    let r = console_post(s, "user/addition", &json!({}), Some(token)).await;
    match r.0 {
        400 => true,
        401 => false,
        other => panic!("probe answered {other}: {}", r.1),
    }
}
