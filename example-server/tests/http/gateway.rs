//! The gateway surface (seed 002) through the real binary: registration with codes mailed
//! through a real SMTP server (aiosmtpd), projects and forwarding to an upstream on loopback
//! (API keys and their quota: gateway_api_keys.rs).

use std::time::Duration;
use tests::*;

use crate::gateway_support;
use gateway_support::*;

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
    let twice = gw(&s, "project/delete", &json!({"id": id}), &a).await;
    expect_header(&twice, 1006, "delete twice");
    // In the gateway's words: a project, not the library's API key.
    assert_eq!(
        twice.1["header"]["message"], "project not found",
        "{}",
        twice.1
    );
}
