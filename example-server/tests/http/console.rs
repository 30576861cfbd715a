//! The console surface (seed 001) through the real binary: registration with SMS codes
//! delivered to a webhook on loopback, primary and sub-accounts, organisations, and the
//! opaque sliding token.

use std::time::Duration;

use tests::*;

use crate::console_support;
use console_support::*;

#[tokio::test]
async fn full_flow_from_existence_to_sub_account_login() {
    let hook = Webhook::start().await;
    let s = console_server(&hook, &[]).await;
    let (name, password, phone) = (unique_name("flow"), gen_password(), gen_phone());

    assert!(!exists(&s, &name).await);
    let code = send_code(&s, &hook, &phone, 2).await;
    let r = register_with(&s, &name, &password, &phone, &code, 2).await;
    let id = expect_console_ok(&r, "register").as_i64().expect("id");
    assert!(id > 0);
    assert!(exists(&s, &name).await);
    // The existence check also takes the document's JSON example.
    let r = console_post(&s, "register/existence", &json!({"username": name}), None).await;
    assert_eq!(expect_console_ok(&r, "existence (json)"), json!(true));

    let token = console_login(&s, &name, &password, 2).await;
    assert!(
        is_uuid_shaped(&token),
        "opaque UUID-shaped token, got {token}"
    );
    assert_ne!(token, console_login(&s, &name, &password, 2).await);

    let (sub, sub_password, sub_phone) = (unique_name("sub"), gen_password(), gen_phone());
    let r = console_post(
        &s,
        "user/addition",
        &sub_account(&sub, &sub_password, &sub_phone, 2, "算力互联"),
        Some(&token),
    )
    .await;
    let sub_id = expect_console_ok(&r, "sub-account").as_i64().expect("id");
    assert!(sub_id > id);
    let sms = hook.last_for(&sub_phone).await;
    assert_eq!(sms["template"], "密码通知", "{sms}");
    assert_eq!(sms["password"], sub_password.as_str(), "{sms}");
    assert!(exists(&s, &sub).await);

    // The sub-account logs in to the same organisation, and cannot create sub-accounts.
    let sub_token = console_login(&s, &sub, &sub_password, 2).await;
    let r = console_post(
        &s,
        "user/addition",
        &sub_account(
            &unique_name("x"),
            &gen_password(),
            &gen_phone(),
            2,
            "算力互联",
        ),
        Some(&sub_token),
    )
    .await;
    expect_console_error(&r, 403, "a sub-account adding a sub-account");

    // The sub-account is recorded under its creator and organisation (platform admin view).
    let admin = s.admin_token().await;
    let listed = s.find_user(&admin, &sub).await.expect("sub-account listed");
    assert_eq!(listed["user_name"], sub.as_str(), "{listed}");

    // Cross-surface: the console users log in on the platform surface with a JWT.
    let jwt = s.login(&name, &password).await;
    assert_eq!(jwt.split('.').count(), 3);
    s.login(&sub, &sub_password).await;
}

#[tokio::test]
async fn registration_refusals() {
    let hook = Webhook::start().await;
    let s = console_server(&hook, &[]).await;
    let (name, password, phone) = (unique_name("ref"), gen_password(), gen_phone());

    // SMS request: fixed values, organisation, phone, missing fields.
    for (field, value) in [
        ("module", json!("密码通知")),
        ("origin", json!("web")),
        ("departmentId", json!(99)),
        ("mobilePhone", json!("12ab")),
        ("departmentId", json!("2x")),
    ] {
        let mut body = sms_request(&phone, 2);
        body[field] = value.clone();
        let r = console_post(&s, "register/sms/code", &body, None).await;
        expect_console_error(&r, 400, &format!("sms with {field}={value}"));
    }
    let mut body = sms_request(&phone, 2);
    body.as_object_mut().expect("object").remove("mobilePhone");
    let r = console_post(&s, "register/sms/code", &body, None).await;
    let msg = expect_console_error(&r, 400, "sms without mobilePhone");
    assert!(msg.contains("mobilePhone"), "{msg}");
    assert!(hook.received().is_empty(), "no SMS for refused requests");

    let code = send_code(&s, &hook, &phone, 2).await;
    // One send per phone per minute.
    let r = console_post(&s, "register/sms/code", &sms_request(&phone, 2), None).await;
    expect_console_error(&r, 429, "second code within a minute");
    assert_eq!(hook.received().len(), 1);

    // Registration: fixed values, mismatched confirmation, organisation, wrong code.
    let good = registration(&name, &password, &phone, &code, 2);
    for (field, value) in [
        ("roleId", json!(4)),
        ("roleCategory", json!(2)),
        ("origin", json!("web")),
        ("confirmPassword", json!("not the same")),
        ("departmentId", json!(99)),
        ("departmentId", json!(5)),
        ("username", json!("")),
        ("mobilePhone", json!("555")),
    ] {
        let mut body = good.clone();
        body[field] = value.clone();
        let r = console_post(&s, "register/addition", &body, None).await;
        let msg = expect_console_error(&r, 400, &format!("register with {field}={value}"));
        if field == "departmentId" && value == json!(5) {
            assert!(msg.contains("departmentId"), "{msg}");
        }
    }
    // A duplicate name is refused before the code is used: it still works afterwards.
    let taken = unique_name("taken");
    s.create_user(&s.admin_token().await, &taken, &gen_password(), None)
        .await;
    let mut body = good.clone();
    body["username"] = json!(taken);
    let r = console_post(&s, "register/addition", &body, None).await;
    expect_console_error(&r, 409, "duplicate name");
    // A wrong code counts; the right one still works before the limit.
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let mut body = good.clone();
    body["code"] = json!(wrong);
    let r = console_post(&s, "register/addition", &body, None).await;
    expect_console_error(&r, 400, "wrong code");
    let r = console_post(&s, "register/addition", &good, None).await;
    expect_console_ok(&r, "right code after one wrong try");
    // Single use.
    let mut again = good.clone();
    again["username"] = json!(unique_name("again"));
    let r = console_post(&s, "register/addition", &again, None).await;
    expect_console_error(&r, 400, "a used code");

    // Five wrong codes burn it.
    let phone2 = gen_phone();
    let code2 = send_code(&s, &hook, &phone2, 5).await;
    let good2 = registration(&unique_name("burn"), &password, &phone2, &code2, 5);
    let wrong2 = if code2 == "000000" {
        "000001"
    } else {
        "000000"
    };
    for i in 0..5 {
        let mut body = good2.clone();
        body["code"] = json!(wrong2);
        let r = console_post(&s, "register/addition", &body, None).await;
        expect_console_error(&r, 400, &format!("wrong code {i}"));
    }
    let r = console_post(&s, "register/addition", &good2, None).await;
    expect_console_error(&r, 400, "the right code after five wrong ones");

    // Malformed JSON.
    let r = s
        .send_with(
            "POST",
            &path("register/addition"),
            &[("Content-Type", "application/json")],
            Some(b"{not json".to_vec()),
        )
        .await;
    expect_console_error(&r, 400, "malformed JSON");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let hook = Webhook::start().await;
    // Expiry is kept in whole seconds, so a 3-second code lives between 2 and 3 seconds:
    // expired after 4.1 s, and a fresh one has at least 2 s to be used.
    let s = console_server(&hook, &["--code-ttl-secs", "3", "--code-resend-secs", "0"]).await;
    let (name, password, phone) = (unique_name("exp"), gen_password(), gen_phone());
    let code = send_code(&s, &hook, &phone, 2).await;
    tokio::time::sleep(Duration::from_millis(4100)).await;
    let r = register_with(&s, &name, &password, &phone, &code, 2).await;
    let msg = expect_console_error(&r, 400, "expired code");
    assert!(msg.contains("expired"), "{msg}");
    assert!(!exists(&s, &name).await);
    // A new code works (resend interval 0 here).
    let code = send_code(&s, &hook, &phone, 2).await;
    let r = register_with(&s, &name, &password, &phone, &code, 2).await;
    expect_console_ok(&r, "fresh code");
}

#[tokio::test]
async fn a_failed_sms_stores_nothing_usable() {
    let hook = Webhook::start().await;
    let s = console_server(&hook, &[]).await;
    let phone = gen_phone();
    hook.set_failing(true);
    let r = console_post(&s, "register/sms/code", &sms_request(&phone, 2), None).await;
    expect_console_error(&r, 500, "webhook failing");
    // Tried twice (one retry), and the failed code neither works nor blocks a resend.
    assert_eq!(hook.received().len(), 2, "{:?}", hook.received());
    let failed_code = hook.received()[0]["code"]
        .as_str()
        .expect("code")
        .to_string();
    let r = register_with(
        &s,
        &unique_name("f"),
        &gen_password(),
        &phone,
        &failed_code,
        2,
    )
    .await;
    expect_console_error(&r, 400, "the code of a failed send");
    hook.set_failing(false);
    send_code(&s, &hook, &phone, 2).await;
}

#[tokio::test]
async fn development_mode_logs_the_code() {
    let s = TestServer::start().await;
    let (name, password, phone) = (unique_name("dev"), gen_password(), gen_phone());
    let r = console_post(&s, "register/sms/code", &sms_request(&phone, 5), None).await;
    expect_console_ok(&r, "sms code in development mode");
    assert!(
        s.server_log().contains("development mode"),
        "start-up says so"
    );
    let line = s
        .log_line(|l| l.contains(&phone) && l.contains("code="))
        .await
        .unwrap_or_else(|| panic!("the code is logged:\n{}", s.server_log()));
    let code: String = line
        .split("code=")
        .nth(1)
        .expect("code=")
        .chars()
        .take(6)
        .collect();
    let r = register_with(&s, &name, &password, &phone, &code, 5).await;
    expect_console_ok(&r, "register with the logged code");
    console_login(&s, &name, &password, 5).await;
}

#[tokio::test]
async fn login_and_sub_account_refusals() {
    let hook = Webhook::start().await;
    let s = console_server(&hook, &["--organisation", "7=测试组织"]).await;
    let (name, password, _) = register(&s, &hook, 2).await;

    let r = console_post(&s, "auth/login", &login_body(&name, "wrong", 2), None).await;
    expect_console_error(&r, 401, "wrong password");
    let r = console_post(&s, "auth/login", &login_body(&name, &password, 5), None).await;
    expect_console_error(&r, 401, "another organisation");
    let r = console_post(&s, "auth/login", &login_body(&name, &password, 99), None).await;
    expect_console_error(&r, 400, "unknown organisation");
    let mut body = login_body(&name, &password, 2);
    body["source"] = json!("web");
    let r = console_post(&s, "auth/login", &body, None).await;
    expect_console_error(&r, 400, "source other than console");
    let r = console_post(&s, "auth/login", &json!({"username": name}), None).await;
    expect_console_error(&r, 400, "missing password");

    // A configured organisation works like the built-in ones.
    let (name7, password7, _) = register(&s, &hook, 7).await;
    let token7 = console_login(&s, &name7, &password7, 7).await;

    let token = console_login(&s, &name, &password, 2).await;
    let good = |n: &str| sub_account(n, &gen_password(), &gen_phone(), 2, "算力互联");
    let r = console_post(&s, "user/addition", &good(&unique_name("s")), None).await;
    expect_console_error(&r, 401, "no token");
    let r = console_post(
        &s,
        "user/addition",
        &good(&unique_name("s")),
        Some("b2f57719-8d4a-4822-8255-b14f3e3d2339"),
    )
    .await;
    expect_console_error(&r, 401, "an unknown token");
    let r = console_post(
        &s,
        "user/addition",
        &good(&unique_name("s")),
        Some("garbage"),
    )
    .await;
    expect_console_error(&r, 401, "garbage token");

    for (field, value) in [
        ("roleId", json!(1)),
        ("roleCategory", json!(1)),
        ("parentId", json!(3)),
        ("clusterAccounts", json!(["x"])),
        ("status", json!(1)),
        ("notify", json!(1)),
        ("module", json!("注册验证")),
        ("origin", json!("web")),
        ("departmentName", json!("汴水超算")),
        ("departmentId", json!(5)),
        ("departmentId", json!(99)),
        ("mobilePhone", json!("abc")),
        ("email", json!("not-an-address")),
    ] {
        let mut body = good(&unique_name("s"));
        body[field] = value.clone();
        let r = console_post(&s, "user/addition", &body, Some(&token)).await;
        expect_console_error(&r, 400, &format!("sub-account with {field}={value}"));
    }
    // Another organisation's primary account cannot add to organisation 2.
    let r = console_post(&s, "user/addition", &good(&unique_name("s")), Some(&token7)).await;
    expect_console_error(&r, 400, "a sub-account outside the creator's organisation");
    let sub = unique_name("dup");
    let r = console_post(&s, "user/addition", &good(&sub), Some(&token)).await;
    expect_console_ok(&r, "sub-account");
    let r = console_post(&s, "user/addition", &good(&sub), Some(&token)).await;
    expect_console_error(&r, 409, "duplicate sub-account name");

    // The opaque token is a session like any other: the platform's logout ends it.
    let r = s.post("platform/logout", &json!({}), Some(&token)).await;
    expect_ok(&r, "platform logout with a console token");
    assert!(
        !token_accepted(&s, &token).await,
        "logged-out token refused"
    );

    // Unknown console paths answer in the console envelope.
    let r = console_post(&s, "no/such/thing", &json!({}), None).await;
    expect_console_error(&r, 404, "unknown path");
}

#[tokio::test]
async fn the_token_slides_with_use_and_expires_without() {
    let hook = Webhook::start().await;
    // A 4-second lifetime (extended at most once a second) instead of two hours.
    let s = console_server(&hook, &["--console-token-ttl", "4"]).await;
    let (name, password, _) = register(&s, &hook, 2).await;

    let unused = console_login(&s, &name, &password, 2).await;
    let token = console_login(&s, &name, &password, 2).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(token_accepted(&s, &token).await, "used at 2.5 s");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // 5 s after login, past the first expiry: the use at 2.5 s extended it.
    assert!(token_accepted(&s, &token).await, "used at 5 s");
    assert!(
        !token_accepted(&s, &unused).await,
        "a token unused for its whole lifetime is refused"
    );
    tokio::time::sleep(Duration::from_millis(5200)).await;
    assert!(
        !token_accepted(&s, &token).await,
        "unused for longer than its lifetime"
    );
}

#[tokio::test]
async fn a_token_extended_on_one_instance_is_valid_on_another() {
    let hook = Webhook::start().await;
    let a = console_server(&hook, &["--console-token-ttl", "4"]).await;
    let b = a
        .start_sharing(&["--sms-webhook", hook.url(), "--console-token-ttl", "4"])
        .await;
    let (name, password, _) = register(&a, &hook, 2).await;
    let token = console_login(&a, &name, &password, 2).await;
    // B caches the session with its first expiry.
    assert!(token_accepted(&b, &token).await, "B, at once");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(token_accepted(&a, &token).await, "A, at 2.5 s");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Past the expiry B cached; A's extension is in the store, and B reads it before
    // refusing.
    assert!(token_accepted(&b, &token).await, "B, at 5 s");
    // A logout through B ends the token on A.
    let r = b.post("platform/logout", &json!({}), Some(&token)).await;
    expect_ok(&r, "logout through B");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(!token_accepted(&a, &token).await, "A after B's logout");
}

#[tokio::test]
async fn an_unreachable_webhook_is_logged_without_its_url() {
    // A port nobody listens on, and a credential in the webhook's query string.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url = format!("http://127.0.0.1:{closed}/sms?key=webhook-secret-4711");
    let s = TestServer::start_with(&["--sms-webhook", &url]).await;
    let r = console_post(&s, "register/sms/code", &sms_request(&gen_phone(), 2), None).await;
    expect_console_error(&r, 500, "webhook unreachable");
    let failed = s
        .log_line(|l| l.contains("SMS webhook failed"))
        .await
        .unwrap_or_else(|| panic!("the failure is logged:\n{}", s.server_log()));
    assert!(!failed.is_empty());
    assert!(
        !s.server_log().contains("webhook-secret-4711"),
        "the webhook's credential reached the log:\n{}",
        s.server_log()
    );
}

/// A phone number set without proof (an admin typed it into two accounts, so logging in
/// by that number is ambiguous and refused) does not keep its owner out: registering it
/// with the texted code clears the unverified claims, and the owner logs in by number.
#[tokio::test]
async fn unverified_phone_claims_yield_to_a_verified_registration() {
    let hook = Webhook::start().await;
    let s = console_server(&hook, &[]).await;
    let admin = s.admin_token().await;
    let phone = gen_phone();
    let squatter_password = gen_password();
    for _ in 0..2 {
        let r = s
            .post(
                "platform/create/user",
                &json!({"user_name": unique_name("sq"), "user_alias": "A",
                        "phone_number": phone, "password": squatter_password,
                        "remark": "r"}),
                Some(&admin),
            )
            .await;
        expect_ok(&r, "an unverified claim");
    }
    let by_phone = |password: String| {
        let s = &s;
        let phone = phone.clone();
        async move {
            s.post("login", &json!({"name": phone, "password": password}), None)
                .await
        }
    };
    assert_ne!(
        code(&by_phone(squatter_password.clone()).await.1),
        0,
        "an ambiguous number logs no one in"
    );

    let code_sms = send_code(&s, &hook, &phone, 2).await;
    let (name, password) = (unique_name("own"), gen_password());
    let r = register_with(&s, &name, &password, &phone, &code_sms, 2).await;
    expect_console_ok(&r, "the owner registers the number");
    let r = by_phone(password.clone()).await;
    expect_ok(&r, "the owner logs in by number");
    assert_ne!(
        code(&by_phone(squatter_password).await.1),
        0,
        "the squatters' claims are gone"
    );
}

#[tokio::test]
async fn a_console_login_with_a_second_factor_answers_428_then_completes() {
    let hook = Webhook::start().await;
    let s = console_server(&hook, &[]).await;
    let (name, password, _) = register(&s, &hook, 2).await;
    // Without a second factor, the documented login (the control).
    console_login(&s, &name, &password, 2).await;
    let platform = s.login(&name, &password).await;
    let enrolled = s.enrol_totp(&platform).await;

    let r = console_post(&s, "auth/login", &login_body(&name, &password, 2), None).await;
    assert_eq!((r.0, r.1["code"].clone()), (428, json!(428)), "{}", r.1);
    let challenge = r.1["data"].as_str().expect("the challenge").to_string();
    // It completes only where it was opened: not at the platform, for a JWT.
    let r = s
        .post(
            "login/mfa",
            &json!({"mfa_token": challenge, "code": totp_now(&enrolled.secret, 1)}),
            None,
        )
        .await;
    assert_eq!((r.0, code(&r.1)), (401, 1001), "{}", r.1);
    // Another organisation cannot complete it.
    let complete = |department: i64, code: String| json!({"mfaToken": challenge, "code": code, "departmentId": department});
    let r = console_post(
        &s,
        "auth/login/mfa",
        &complete(5, totp_now(&enrolled.secret, 1)),
        None,
    )
    .await;
    assert_eq!(r.0, 401, "another organisation: {}", r.1);
    let r = console_post(
        &s,
        "auth/login/mfa",
        &complete(2, enrolled.recovery_codes[0].clone()),
        None,
    )
    .await;
    let token = expect_console_ok(&r, "complete with a recovery code")
        .as_str()
        .expect("token")
        .to_string();
    assert!(
        is_uuid_shaped(&token),
        "the console's opaque token: {token}"
    );
    let r = console_post(
        &s,
        "auth/login/mfa",
        &complete(2, enrolled.recovery_codes[1].clone()),
        None,
    )
    .await;
    assert_eq!(r.0, 401, "the challenge was used: {}", r.1);
}

#[tokio::test]
async fn a_console_login_completes_with_a_passkey() {
    let hook = Webhook::start().await;
    let s = console_server(&hook, &[]).await;
    let (name, password, _) = register(&s, &hook, 2).await;
    let platform = s.login(&name, &password).await;
    let mut key = SoftKey::for_server(&s);
    s.register_passkey(&platform, &mut key, "key").await;

    let r = console_post(&s, "auth/login", &login_body(&name, &password, 2), None).await;
    assert_eq!((r.0, r.1["code"].clone()), (428, json!(428)), "{}", r.1);
    let challenge = r.1["data"].as_str().expect("the challenge").to_string();
    let assertion = key.assert(&r.1["passkey"]).await;
    let body = json!({"mfaToken": challenge, "passkey": assertion, "departmentId": 2});
    let r = console_post(&s, "auth/login/mfa", &body, None).await;
    let token = expect_console_ok(&r, "complete with a passkey")
        .as_str()
        .expect("token")
        .to_string();
    assert!(is_uuid_shaped(&token), "{token}");
    let r = console_post(&s, "auth/login/mfa", &body, None).await;
    assert_eq!(r.0, 401, "the challenge was used: {}", r.1);
}
