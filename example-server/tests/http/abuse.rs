//! Bounded cost of unauthenticated work, through the real binary: codes by SMS and e-mail
//! cannot be sprayed from one address, the console texts only its number formats, the
//! gateway mails fixed wording only, sign-ups are limited per address, and a flood of
//! random Basic credentials from one address gets refusals (never a 5xx) while another
//! address logs in. Distinct clients connect from distinct loopback addresses.

use std::sync::Arc;

use tests::*;

const CONSOLE: &str = "/casdao/api/v1.0/system";

/// The hourly limits on, as documented (the harness turns them off elsewhere).
const LIMITS: [&str; 8] = [
    "--codes-per-address-hour",
    "5",
    "--codes-per-hour",
    "200",
    "--password-sms-per-account-hour",
    "5",
    "--signups-per-address-hour",
    "3",
];

async fn sms_code(srv: &TestServer, from: &str, phone: &str) -> (u16, Value) {
    let body =
        json!({"mobilePhone": phone, "module": "注册验证", "origin": "console", "departmentId": 2});
    let req = srv
        .client_from(from)
        .post(srv.url(&format!("{CONSOLE}/register/sms/code")))
        .json(&body);
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn sms_codes_cannot_be_sprayed_from_one_address() {
    let srv = TestServer::start_with(&LIMITS).await;
    for i in 0..5 {
        let r = sms_code(&srv, "127.0.0.71", &gen_phone()).await;
        assert_eq!(r.0, 200, "code {i}: {}", r.1);
    }
    let r = sms_code(&srv, "127.0.0.71", &gen_phone()).await;
    assert_eq!(r.0, 429, "the sixth code from one address: {}", r.1);
    // Control: another address still gets its codes.
    let r = sms_code(&srv, "127.0.0.72", &gen_phone()).await;
    assert_eq!(r.0, 200, "another address: {}", r.1);
    // International numbers are not a format the console texts by default.
    for phone in ["+14155550100", "+8613800138000", "12345678901"] {
        let r = sms_code(&srv, "127.0.0.73", phone).await;
        assert_eq!(r.0, 400, "{phone}: {}", r.1);
    }
}

#[tokio::test]
async fn mail_codes_are_limited_and_carry_fixed_wording() {
    let smtp = SmtpServer::start();
    let smtp_url = smtp.url();
    let mut flags = LIMITS.to_vec();
    flags.extend_from_slice(&["--smtp-url", &smtp_url]);
    let srv = TestServer::start_with(&flags).await;
    let auth_code = |from: &'static str, name: String, email: String| {
        let srv = &srv;
        async move {
            srv.post_from(
                from,
                "auth-code",
                &json!({"user_name": name, "email": email}),
                None,
            )
            .await
        }
    };
    // A user name that is not a name is refused before any mail.
    let spam = format!("Verify at http://evil.example/{}", "x".repeat(300_000));
    let r = auth_code("127.0.0.81", spam, "victim@example.com".into()).await;
    expect_code(&r, 200, 1003, "a user_name carrying text");
    // Control: a real name gets a mail with the code and fixed wording only.
    let name = unique_name("gw");
    let email = format!("{}@example.com", unique_name("addr"));
    expect_ok(
        &auth_code("127.0.0.81", name.clone(), email.clone()).await,
        "a real name",
    );
    let code = smtp.code_for(&email).await;
    assert_eq!(code.len(), 6, "{code}");
    let sent = smtp.output();
    assert!(!sent.contains("evil.example"), "no client text in the mail");
    assert!(!sent.contains(&name), "the user name is not echoed: {sent}");
    // Four more from the same address, then the limit.
    for i in 0..4 {
        let email = format!("{}@example.com", unique_name("spray"));
        expect_ok(
            &auth_code("127.0.0.81", unique_name("gw"), email).await,
            &format!("code {i}"),
        );
    }
    let r = auth_code(
        "127.0.0.81",
        unique_name("gw"),
        format!("{}@example.com", unique_name("spray")),
    )
    .await;
    expect_code(&r, 200, 1009, "the sixth code from one address");
    let r = auth_code(
        "127.0.0.82",
        unique_name("gw"),
        format!("{}@example.com", unique_name("other")),
    )
    .await;
    expect_ok(&r, "another address");
}

#[tokio::test]
async fn sign_ups_are_limited_per_address() {
    let srv = TestServer::start_with(&LIMITS).await;
    let create = |from: &'static str| {
        let srv = &srv;
        async move {
            let name = unique_name("su");
            let body = json!({"metadata": {"name": name}, "nickname": "n", "email": format!("{name}@example.com"), "password": "Signup@2020"});
            let resp = srv
                .client_from(from)
                .post(srv.url("/v1/users"))
                .json(&body)
                .send()
                .await
                .expect("request");
            resp.status().as_u16()
        }
    };
    for i in 0..3 {
        assert_eq!(create("127.0.0.91").await, 200, "sign-up {i}");
    }
    assert_eq!(
        create("127.0.0.91").await,
        429,
        "the fourth from one address"
    );
    assert_eq!(create("127.0.0.92").await, 200, "another address");
    // The cloud surface shares the count per address.
    let r = srv
        .post_from(
            "127.0.0.91",
            "user/register",
            &json!({"username": unique_name("cl"), "password": "Cloud-pw-1"}),
            None,
        )
        .await;
    assert_ne!(
        r.1["errCode"],
        json!(0),
        "cloud sign-up past the limit: {}",
        r.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_basic_credential_flood_from_one_address_does_not_block_others() {
    let srv = Arc::new(
        TestServer::start_with(&[
            "--login-max-failures",
            "10",
            "--login-address-max-failures",
            "20",
            "--argon2-workers",
            "1",
            "--argon2-queue",
            "8",
        ])
        .await,
    );
    let admin = srv.admin_token().await;
    let user = srv.new_user(&admin, &["UserAccess"]).await;
    let flood: Vec<_> = (0..200)
        .map(|_| {
            let srv = srv.clone();
            tokio::spawn(async move {
                srv.client_from("127.0.0.101")
                    .get(srv.url("/v1/users"))
                    .basic_auth(unique_name("rnd"), Some("random-guess"))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    // Meanwhile, a user at another address logs in.
    let r = srv
        .login_from("127.0.0.102", &user.name, &user.password)
        .await;
    expect_ok(&r, "a login from another address during the flood");
    let mut statuses = std::collections::BTreeMap::new();
    for f in flood {
        *statuses.entry(f.await.expect("task")).or_insert(0) += 1;
    }
    assert!(
        statuses.keys().all(|s| *s == 401 || *s == 429),
        "only refusals, never a 5xx: {statuses:?}"
    );
}
