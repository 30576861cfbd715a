//! The console's guards beyond signing in, over plain HTTP: a stale second factor proven
//! again in a page of its own (then back to where the action came from), the password
//! asked of an old session before it adds a passkey, signing in with a passkey alone, and
//! HSTS with `Secure` cookies when the console is served over https.

use tests::*;

async fn login(s: &TestServer, name: &str, password: &str) -> (u16, Value) {
    s.post("login", &json!({"name": name, "password": password}), None)
        .await
}

#[tokio::test]
async fn a_stale_second_factor_is_proven_again_in_the_page() {
    let s = TestServer::start_with(&["--step-up-secs", "1"]).await;
    let admin = s.admin_token().await;
    let target = s.new_user(&admin, &[]).await;
    let enrolled = s.enrol_totp(&admin).await;
    let mut b = Browser::new(&s);
    let r = b.password_step("admin", s.admin_password()).await;
    let (mfa_token, csrf) = (r.field("mfa_token"), r.field("csrf"));
    let r = b
        .post(
            "/admin/login/mfa",
            &[
                ("mfa_token", &mfa_token),
                ("code", &totp_now(&enrolled.secret, 1)),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!((r.status, r.location()), (303, "/admin"), "{}", r.body);
    let csrf = b.get("/admin").await.field("csrf");
    let fresh = gen_password();
    let reset = [
        ("name", target.name.as_str()),
        ("password", fresh.as_str()),
        ("csrf", csrf.as_str()),
    ];

    // The code proven at sign-in is older than a second now: the reset asks for it again.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = b.post("/admin/users/password", &reset).await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/step-up"),
        "{}",
        r.body
    );
    let refused = login(&s, &target.name, &fresh).await;
    assert_ne!(refused.1["header"]["code"], 0, "not reset yet: {refused:?}");
    let page = b.get("/admin/step-up").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(r#"action="/admin/step-up""#),
        "{}",
        page.body
    );
    let back = page.field("back");
    assert_eq!(back, "/admin");
    let code = &enrolled.recovery_codes[0];
    let r = b
        .post(
            "/admin/step-up",
            &[("code", code), ("back", "/admin/users")],
        )
        .await;
    assert_eq!(r.status, 403, "no CSRF token: {}", r.body);
    let r = b
        .post(
            "/admin/step-up",
            &[
                ("code", "000000"),
                ("back", "/admin/users"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 401, "a wrong code: {}", r.body);
    assert!(r.body.contains("That code is not right."), "{}", r.body);
    let r = b
        .post(
            "/admin/step-up",
            &[
                ("code", code),
                ("back", "https://evil.example/elsewhere"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!((r.status, r.location()), (303, "/admin"), "{}", r.body);

    // Proven now (and sent home, not to another site): the same reset goes through.
    let r = b.post("/admin/users/password", &reset).await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/users"),
        "{}",
        r.body
    );
    expect_ok(&login(&s, &target.name, &fresh).await, "the reset password");
}

#[tokio::test]
async fn an_old_console_session_gives_the_password_to_add_a_passkey() {
    let s = TestServer::start_with(&["--enrolment-window-secs", "1"]).await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let mut b = Browser::new(&s);
    let csrf = console_session(&mut b, &u.name, &u.password).await;
    let page = b.get("/admin/account").await;
    assert!(
        page.body.contains(r#"id="passkey-password""#),
        "{}",
        page.body
    );
    let begin = "/admin/account/passkey/begin";

    // Within the window the session alone begins a registration; not without the token.
    let r = b.post_json(begin, "", &serde_json::json!({})).await;
    assert_eq!(r.status, 403, "no CSRF token: {}", r.body);
    let r = b.post_json(begin, &csrf, &serde_json::json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("passkey_token"), "{}", r.body);

    // Past it, the password is asked for, and a wrong one is refused.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = b.post_json(begin, &csrf, &serde_json::json!({})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("give the password"), "{}", r.body);
    let r = b
        .post_json(
            begin,
            &csrf,
            &serde_json::json!({"password": "not-it-at-all"}),
        )
        .await;
    assert_eq!(r.status, 400, "a wrong password: {}", r.body);
    assert!(!r.body.contains("passkey_token"), "{}", r.body);
    let r = b
        .post_json(begin, &csrf, &serde_json::json!({"password": u.password}))
        .await;
    assert_eq!(r.status, 200, "the right password: {}", r.body);
    assert!(r.body.contains("passkey_token"), "{}", r.body);
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure_and_pages_ask_for_hsts() {
    const HSTS: &str = "strict-transport-security";
    for (origin, secure) in [("https://localhost:8443", true), ("", false)] {
        let extra: &[&str] = if secure {
            &["--rp-id", "localhost", "--rp-origin", origin]
        } else {
            &[]
        };
        let s = TestServer::start_with(extra).await;
        let mut b = Browser::new(&s);
        let page = b.get("/admin/login").await;
        assert_eq!(page.headers.contains_key(HSTS), secure, "{origin:?}");
        let r = b.password_step("admin", s.admin_password()).await;
        assert_eq!((r.status, r.location()), (303, "/admin"), "{}", r.body);
        let cookie = b
            .set_cookies
            .iter()
            .find(|c| c.starts_with("rbac_admin="))
            .expect("the session cookie")
            .clone();
        assert_eq!(cookie.contains("; Secure"), secure, "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let page = b.get("/admin").await;
        assert_eq!(page.status, 200);
        assert_eq!(page.headers.contains_key(HSTS), secure, "{origin:?}");
        if secure {
            assert_eq!(page.headers[HSTS], "max-age=31536000");
        }
    }
}

#[tokio::test]
async fn a_passkey_alone_signs_in_to_the_console() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let mut key = SoftKey::for_server(&s);
    s.register_passkey(&u.token, &mut key, "laptop").await;
    let mut b = Browser::new(&s);
    let page = b.get("/admin/login").await;
    assert!(page.body.contains("data-passkey-sign-in"), "{}", page.body);
    let csrf = page.field("csrf");
    let begin = "/admin/login/passkey/begin";

    let r = b.post_json(begin, "", &json!({})).await;
    assert_eq!(
        r.status, 403,
        "without the sign-in forms' token: {}",
        r.body
    );
    let r = b.post_json(begin, &csrf, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let begun: Value = serde_json::from_str(&r.body).expect("json");
    let token = begun["passkey_token"].as_str().expect("token").to_string();
    let assertion = key.assert(&begun["options"]).await.to_string();
    let finish = [
        ("passkey_token", token.as_str()),
        ("passkey", assertion.as_str()),
    ];
    let r = b.post("/admin/login/passkey", &finish).await;
    assert_eq!(r.status, 403, "no CSRF token: {}", r.body);
    assert!(!b.cookies.contains_key("rbac_admin"));
    let signed = [finish[0], finish[1], ("csrf", csrf.as_str())];
    let r = b.post("/admin/login/passkey", &signed).await;
    assert_eq!((r.status, r.location()), (303, "/admin"), "{}", r.body);
    let overview = b.get("/admin").await;
    assert_eq!(overview.status, 200);
    assert!(overview.body.contains(&u.name), "{}", overview.body);

    // The ceremony is used up: the same assertion again signs no one in.
    let mut again = Browser::new(&s);
    let csrf = again.get("/admin/login").await.field("csrf");
    let replay = [finish[0], finish[1], ("csrf", csrf.as_str())];
    let r = again.post("/admin/login/passkey", &replay).await;
    assert_eq!(r.status, 401, "a replayed assertion: {}", r.body);
    assert!(!again.cookies.contains_key("rbac_admin"));
}
