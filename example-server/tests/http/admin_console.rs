//! The admin console over plain HTTP, as a browser without scripts uses it: the security
//! headers, the CSRF tokens of every form, the session cookie's attributes, signing in
//! with a password and then a second factor, signing out, and an admin ending the
//! console's session. Names are shown escaped. (The browser-driven flows come with the
//! Chromium suite.)

use reqwest::header::CONTENT_SECURITY_POLICY;
use tests::*;

#[tokio::test]
async fn signing_in_and_out_of_the_console_with_csrf_on_every_form() {
    let s = TestServer::start().await;
    let mut b = Browser::new(&s);

    let r = b.get("/admin").await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/login"),
        "{}",
        r.body
    );
    let r = b.get("/admin/login").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let csp = r
        .headers
        .get(CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    for needed in [
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(needed), "{needed} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!r.body.contains("style="), "no inline style: {}", r.body);
    assert!(!r.body.contains("<script>"), "no inline script: {}", r.body);
    let csrf = r.field("csrf");

    // Without its CSRF token the form is refused; a wrong password is told, and the name
    // typed (an attacker's markup) comes back as text.
    let admin = "admin";
    let r = b
        .post(
            "/admin/login",
            &[("name", admin), ("password", s.admin_password())],
        )
        .await;
    assert_eq!(r.status, 403, "no CSRF token: {}", r.body);
    let hostile = "<script>alert(1)</script>";
    let r = b
        .post(
            "/admin/login",
            &[("name", hostile), ("password", "wrong"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.body.contains("Wrong user name or password."),
        "{}",
        r.body
    );
    assert!(!r.body.contains(hostile), "escaped: {}", r.body);
    assert!(
        r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        r.body
    );

    // The right password: a session cookie only scripts cannot read, for /admin only.
    let r = b
        .post(
            "/admin/login",
            &[
                ("name", admin),
                ("password", s.admin_password()),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!((r.status, r.location()), (303, "/admin"), "{}", r.body);
    let cookie = b
        .set_cookies
        .iter()
        .find(|c| c.starts_with("rbac_admin="))
        .cloned()
        .unwrap_or_else(|| panic!("no session cookie in {:?}", b.set_cookies));
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let overview = b.get("/admin").await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    assert!(
        overview.body.contains("<strong>admin</strong>"),
        "{}",
        overview.body
    );
    assert!(
        overview.body.contains(r#"id="users-total">"#),
        "{}",
        overview.body
    );
    assert!(
        overview.body.contains("<svg"),
        "the chart: {}",
        overview.body
    );

    // Signing out needs the session's token: without it the session lives on.
    let r = b.post("/admin/logout", &[]).await;
    assert_eq!(r.status, 403, "logout without CSRF: {}", r.body);
    let r = b.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(
        r.status, 403,
        "the sign-in form's token is not the session's: {}",
        r.body
    );
    assert_eq!(b.get("/admin").await.status, 200, "still signed in");
    let token = overview.field("csrf");
    let kept = b.cookies.clone();
    let r = b.post("/admin/logout", &[("csrf", &token)]).await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/login"),
        "{}",
        r.body
    );
    assert!(
        !b.cookies.contains_key("rbac_admin"),
        "cleared: {:?}",
        b.cookies
    );
    // The session itself ended: the old cookie no longer signs in.
    b.cookies = kept;
    let r = b.get("/admin").await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/login"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn what_an_admin_does_to_a_user_acts_on_their_next_console_request() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &["UserAccess"]).await;
    let mut b = Browser::new(&s);
    let r = b.password_step(&u.name, &u.password).await;
    assert_eq!((r.status, r.location()), (303, "/admin"), "{}", r.body);
    let r = b.get("/admin").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(&u.name), "{}", r.body);

    let r = s
        .post(
            "platform/end/session",
            &json!({"user_name": u.name}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "end the user's sessions");
    let r = b.get("/admin").await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/login"),
        "{}",
        r.body
    );

    // Disabled: the password no longer signs in either.
    let r = s
        .post(
            "platform/disable/user",
            &json!({"user_name": u.name}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "disable");
    let r = b.password_step(&u.name, &u.password).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("This account is disabled."), "{}", r.body);
}

#[tokio::test]
async fn a_second_factor_completes_the_console_sign_in() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let enrolled = s.enrol_totp(&u.token).await;
    let mut b = Browser::new(&s);

    let r = b.password_step(&u.name, &u.password).await;
    assert_eq!(r.status, 200, "the second-factor form: {}", r.body);
    assert!(!b.cookies.contains_key("rbac_admin"), "no session yet");
    let mfa_token = r.field("mfa_token");
    let csrf = r.field("csrf");
    let r = b
        .post(
            "/admin/login/mfa",
            &[
                ("mfa_token", &mfa_token),
                ("code", "000000x"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("That code is not right."), "{}", r.body);
    let r = b
        .post(
            "/admin/login/mfa",
            &[
                ("mfa_token", &mfa_token),
                ("code", &totp_now(&enrolled.secret, 1)),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "no CSRF token: {}", r.body);
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
    assert_eq!(b.get("/admin").await.status, 200);

    // A recovery code works once.
    let mut other = Browser::new(&s);
    let r = recovery_sign_in(&mut other, &u, &enrolled.recovery_codes[0]).await;
    assert_eq!((r.status, r.location()), (303, "/admin"), "{}", r.body);
    let r = recovery_sign_in(&mut other, &u, &enrolled.recovery_codes[0]).await;
    assert_eq!(r.status, 401, "a used recovery code: {}", r.body);
}

/// Signs in with the password and a recovery code.
async fn recovery_sign_in(b: &mut Browser, u: &TestUser, code: &str) -> Page {
    let r = b.password_step(&u.name, &u.password).await;
    let (mfa_token, csrf) = (r.field("mfa_token"), r.field("csrf"));
    b.post(
        "/admin/login/mfa",
        &[("mfa_token", &mfa_token), ("code", code), ("csrf", &csrf)],
    )
    .await
}

#[tokio::test]
async fn the_console_speaks_chinese_when_asked() {
    let s = TestServer::start().await;
    let mut b = Browser::new(&s);
    b.lang = "zh-CN,zh;q=0.9,en;q=0.8";
    let r = b.get("/admin/login").await;
    assert!(r.body.contains(r#"<html lang="zh-CN">"#), "{}", r.body);
    assert!(r.body.contains("用户名"), "{}", r.body);
    // The switch remembers English over the browser's preference.
    let r = b.get("/admin/lang?to=en").await;
    assert_eq!((r.status, r.location()), (303, "/admin"), "{}", r.body);
    let r = b.get("/admin/login").await;
    assert!(r.body.contains(r#"<html lang="en">"#), "{}", r.body);
    assert!(r.body.contains("User name"), "{}", r.body);
}

#[tokio::test]
async fn the_users_page_offers_and_does_only_what_the_caller_may() {
    let s = TestServer::start().await;
    let admin_token = s.admin_token().await;
    let weak = s.new_user(&admin_token, &["UserAccess"]).await;
    let toggler = s
        .new_user(&admin_token, &["UserAccess", "UserEnableOrDisable"])
        .await;
    let mut admin = Browser::new(&s);
    let admin_csrf = console_session(&mut admin, "admin", s.admin_password()).await;

    // The admin creates a user holding the weak user's role, through the form.
    let created = unique_name("made");
    let password = gen_password();
    let r = admin
        .post(
            "/admin/users/create",
            &[
                ("name", &created),
                ("password", &password),
                ("role", &weak.role),
                ("csrf", &admin_csrf),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/users"),
        "{}",
        r.body
    );
    let r = admin.get(&format!("/admin/users?q={created}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains(&format!(r#"data-user="{created}""#)),
        "{}",
        r.body
    );
    s.login(&created, &password).await;

    // The weak user sees the list, but every action it lacks is disabled...
    let mut b = Browser::new(&s);
    let csrf = console_session(&mut b, &weak.name, &weak.password).await;
    let r = b.get("/admin/users").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<fieldset disabled>"),
        "create is disabled: {}",
        r.body
    );
    assert!(
        r.body
            .contains(r#"<button class="danger" type="submit" disabled>"#),
        "delete is disabled: {}",
        r.body
    );
    // ...and refused when forged anyway: the user stays.
    let r = b
        .post(
            "/admin/users/delete",
            &[("name", &created), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    s.login(&created, &password).await;
    // Without the session's CSRF token, even the admin's delete is refused.
    let r = admin
        .post(
            "/admin/users/delete",
            &[("name", &created), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 403, "another session's token: {}", r.body);
    s.login(&created, &password).await;

    // A user who may disable users may not disable one stronger than itself.
    let mut t = Browser::new(&s);
    let t_csrf = console_session(&mut t, &toggler.name, &toggler.password).await;
    let r = t
        .post(
            "/admin/users/enabled",
            &[("name", "admin"), ("enabled", "false"), ("csrf", &t_csrf)],
        )
        .await;
    assert_eq!(r.status, 403, "disabling the admin: {}", r.body);
    s.login("admin", s.admin_password()).await;
    let strong = s
        .new_user(
            &admin_token,
            &["UserAccess", "UserEnableOrDisable", "UserDelete"],
        )
        .await;
    let r = t
        .post(
            "/admin/users/enabled",
            &[
                ("name", &strong.name),
                ("enabled", "false"),
                ("csrf", &t_csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "disabling a stronger user: {}", r.body);
    s.login(&strong.name, &strong.password).await;
    // Positive control: a user within it is disabled, and enabled again.
    let r = t
        .post(
            "/admin/users/enabled",
            &[("name", &created), ("enabled", "false"), ("csrf", &t_csrf)],
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/users"),
        "{}",
        r.body
    );
    let r = s
        .post(
            "login",
            &json!({"name": created, "password": password}),
            None,
        )
        .await;
    assert_ne!(code(&r.1), 0, "disabled: {}", r.1);

    // The admin resets the password and deletes the user through the forms.
    let fresh = gen_password();
    let r = admin
        .post(
            "/admin/users/password",
            &[
                ("name", &created),
                ("password", &fresh),
                ("csrf", &admin_csrf),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/users"),
        "{}",
        r.body
    );
    let r = admin
        .post(
            "/admin/users/delete",
            &[("name", &created), ("csrf", &admin_csrf)],
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/users"),
        "{}",
        r.body
    );
    let r = admin.get(&format!("/admin/users?q={created}")).await;
    assert!(
        !r.body.contains(&format!(r#"data-user="{created}""#)),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn the_role_matrix_grants_only_what_the_caller_holds() {
    let s = TestServer::start().await;
    let admin_token = s.admin_token().await;
    let granter = s
        .new_user(
            &admin_token,
            &["RoleAccess", "RoleAdd", "RoleAuthority", "UserAccess"],
        )
        .await;
    let mut b = Browser::new(&s);
    let csrf = console_session(&mut b, &granter.name, &granter.password).await;

    let role = unique_name("made");
    let r = b
        .post(
            "/admin/roles/create",
            &[
                ("role", role.as_str()),
                ("remark", "<b>bold</b>"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/roles"),
        "{}",
        r.body
    );
    let page = b.get("/admin/roles").await;
    assert!(
        page.body.contains(&format!(r#"data-role="{role}""#)),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("&lt;b&gt;bold&lt;/b&gt;"),
        "escaped remark"
    );
    // A privilege the granter lacks is offered disabled; one it holds, enabled.
    assert!(
        page.body.contains(&format!(
            r#"name="privilege" value="UserDelete" disabled aria-label="{role}: UserDelete""#
        )),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&format!(
            r#"name="privilege" value="UserAccess" aria-label="{role}: UserAccess""#
        )),
        "{}",
        page.body
    );
    // Forged anyway, it is refused and nothing changes.
    let r = b
        .post(
            "/admin/roles/grant",
            &[
                ("role", role.as_str()),
                ("privilege", "UserAccess"),
                ("privilege", "UserDelete"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "granting a privilege not held: {}", r.body);
    let r = s
        .post(
            "platform/list/role",
            &json!({"page_no": 0, "page_size": 0}),
            Some(&admin_token),
        )
        .await;
    let roles = expect_ok(&r, "list/role");
    let listed = roles["roles"]
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["role_name"] == role.as_str()))
        .cloned()
        .unwrap_or_else(|| panic!("{role} in {roles}"));
    assert_eq!(
        privileges_of(&listed["role"]),
        Vec::<String>::new(),
        "{listed}"
    );
    // Positive control: two privileges it holds are granted.
    let r = b
        .post(
            "/admin/roles/grant",
            &[
                ("role", role.as_str()),
                ("privilege", "UserAccess"),
                ("privilege", "RoleAccess"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/roles"),
        "{}",
        r.body
    );
    let page = b.get("/admin/roles").await;
    assert!(
        page.body.contains(&format!(
            r#"name="privilege" value="RoleAccess" checked aria-label="{role}: RoleAccess""#
        )),
        "{}",
        page.body
    );
}
