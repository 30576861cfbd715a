//! The console's log, security-event and session pages over plain HTTP: what an attacker
//! typed is shown as text, the built-in admin alone sees webhook deliveries, and another
//! user's sessions are listed and ended within the containment rule.

use tests::*;

#[tokio::test]
async fn the_log_shows_failed_login_names_as_text_and_filters_by_user() {
    let s = TestServer::start().await;
    let hostile = "<img src=x onerror=alert(1)>";
    let r = s
        .post("login", &json!({"name": hostile, "password": "nope"}), None)
        .await;
    assert_ne!(code(&r.1), 0);
    let mut b = Browser::new(&s);
    console_session(&mut b, "admin", s.admin_password()).await;
    let r = b.get("/admin/log").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains(hostile), "raw markup in the log page");
    assert!(
        r.body.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{}",
        r.body
    );
    // Filtered by user: the admin's own entries only.
    let r = b.get("/admin/log?user=admin&category=0").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("&lt;img"), "filtered out: {}", r.body);
    assert!(r.body.contains("login from"), "{}", r.body);
}

/// Invisible and reordering characters are escaped on the console's log page exactly as the
/// API's operation log escapes them; plain text beside them is shown as it is (the control).
#[tokio::test]
async fn the_log_escapes_invisible_text_as_the_api_does() {
    let s = TestServer::start().await;
    let hostile = "x\u{202e}NIMDA\u{0007}ad\u{200b}min";
    let r = s
        .post("login", &json!({"name": hostile, "password": "nope"}), None)
        .await;
    assert_ne!(code(&r.1), 0);
    let escaped = "x\\u{202e}NIMDA\\u{0007}ad\\u{200b}min";
    let admin = s.admin_token().await;
    let api = s
        .post(
            "platform/list/oper-log",
            &json!({"page_no": 0, "page_size": 0}),
            Some(&admin),
        )
        .await;
    let api = expect_ok(&api, "list/oper-log").to_string();
    assert!(
        api.contains(&escaped.replace('\\', "\\\\")),
        "the API escapes: {api}"
    );
    let mut b = Browser::new(&s);
    console_session(&mut b, "admin", s.admin_password()).await;
    let page = b.get("/admin/log").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for raw in ['\u{202e}', '\u{0007}', '\u{200b}'] {
        assert!(!page.body.contains(raw), "{raw:?} raw in the log page");
    }
    assert!(page.body.contains(escaped), "{}", page.body);
    assert!(page.body.contains("NIMDA"), "the text itself is shown");
}

#[tokio::test]
async fn webhook_deliveries_are_the_built_in_admins() {
    let s = TestServer::start().await;
    let admin_token = s.admin_token().await;
    let u = s.new_user(&admin_token, &["UserAccess", "UserEdit"]).await;
    let mut b = Browser::new(&s);
    console_session(&mut b, &u.name, &u.password).await;
    let r = b.get("/admin/events").await;
    assert_eq!(r.status, 403, "{}", r.body);
    let mut admin = Browser::new(&s);
    console_session(&mut admin, "admin", s.admin_password()).await;
    let r = admin.get("/admin/events").await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The events themselves (without any webhook configured): the logins above.
    assert!(r.body.contains("login.succeeded"), "{}", r.body);
    assert!(r.body.contains(&u.name), "{}", r.body);
}

#[tokio::test]
async fn another_users_sessions_are_ended_within_the_caller() {
    let s = TestServer::start().await;
    let admin_token = s.admin_token().await;
    let target = s.new_user(&admin_token, &[]).await;
    let viewer = s.new_user(&admin_token, &["UserAccess"]).await;
    let editor = s.new_user(&admin_token, &["UserAccess", "UserEdit"]).await;
    let stronger = s
        .new_user(&admin_token, &["UserAccess", "UserEdit", "UserDelete"])
        .await;

    // Viewing needs UserAccess; ending needs UserEdit.
    let mut v = Browser::new(&s);
    let v_csrf = console_session(&mut v, &viewer.name, &viewer.password).await;
    let r = v
        .get(&format!("/admin/sessions?user={}", target.name))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("data-session="), "{}", r.body);
    let r = v
        .post(
            "/admin/sessions/end",
            &[("user", &target.name), ("csrf", &v_csrf)],
        )
        .await;
    assert_eq!(r.status, 403, "ending without UserEdit: {}", r.body);
    let r = s
        .post("platform/list/session", &json!({}), Some(&target.token))
        .await;
    assert_eq!(code(&r.1), 0, "the target's session lives: {}", r.1);

    // A user stronger than the editor is out of its reach.
    let mut e = Browser::new(&s);
    let e_csrf = console_session(&mut e, &editor.name, &editor.password).await;
    let r = e
        .post(
            "/admin/sessions/end",
            &[("user", &stronger.name), ("csrf", &e_csrf)],
        )
        .await;
    assert_eq!(
        r.status, 403,
        "ending a stronger user's sessions: {}",
        r.body
    );
    let r = s
        .post("platform/list/session", &json!({}), Some(&stronger.token))
        .await;
    assert_eq!(code(&r.1), 0, "the stronger user's session lives: {}", r.1);

    // Positive control: the target's sessions end, and its token stops working.
    let r = e
        .post(
            "/admin/sessions/end",
            &[("user", &target.name), ("csrf", &e_csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = s
        .post("platform/list/session", &json!({}), Some(&target.token))
        .await;
    assert_eq!(r.0, 401, "ended: {}", r.1);
}

#[tokio::test]
async fn a_projects_secret_is_shown_once_and_only_its_owner_deletes_it() {
    let s = TestServer::start().await;
    let admin_token = s.admin_token().await;
    let owner = s.new_user(&admin_token, &[]).await;
    let other = s.new_user(&admin_token, &[]).await;
    let mut b = Browser::new(&s);
    let csrf = console_session(&mut b, &owner.name, &owner.password).await;
    let r = b
        .post(
            "/admin/projects/create",
            &[("name", "billing"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let secret_at = regex::Regex::new(r#"id="project-secret">([^<]+)<"#).expect("pattern");
    let secret = secret_at
        .captures(&r.body)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("the secret, once: {}", r.body));
    let id = regex::Regex::new(r#"data-project="(\d+)""#)
        .expect("pattern")
        .captures(&r.body)
        .map(|c| c[1].to_string())
        .expect("the project's row");
    let r = b.get("/admin/projects").await;
    assert!(r.body.contains("billing"), "{}", r.body);
    assert!(!r.body.contains(&secret), "the secret is shown once only");

    // Another user cannot delete it (it is not theirs: not found), even forged.
    let mut o = Browser::new(&s);
    let o_csrf = console_session(&mut o, &other.name, &other.password).await;
    let r = o
        .post("/admin/projects/delete", &[("id", &id), ("csrf", &o_csrf)])
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(b.get("/admin/projects").await.body.contains("billing"));
    // The owner can.
    let r = b
        .post("/admin/projects/delete", &[("id", &id), ("csrf", &csrf)])
        .await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/admin/projects"),
        "{}",
        r.body
    );
    assert!(!b.get("/admin/projects").await.body.contains("billing"));
}

#[tokio::test]
async fn signing_in_again_ends_the_session_it_replaces_and_a_foreign_link_clears_nothing() {
    let s = TestServer::start().await;
    let mut b = Browser::new(&s);
    console_session(&mut b, "admin", s.admin_password()).await;
    assert!(
        !b.cookies.contains_key("rbac_admin_pre"),
        "retired at sign-in"
    );
    let first = b.cookies.get("rbac_admin").cloned().expect("a session");
    console_session(&mut b, "admin", s.admin_password()).await;
    let second = b.cookies.get("rbac_admin").cloned().expect("a session");
    assert_ne!(first, second);
    assert_eq!(b.get("/admin").await.status, 200, "the new session works");
    // The session it replaced ended.
    b.cookies.insert("rbac_admin".into(), first);
    let r = b.get("/admin").await;
    assert_eq!((r.status, r.location()), (303, "/admin/login"));
    assert!(
        b.set_cookies.iter().any(|c| c.starts_with("rbac_admin=;")),
        "a refused session's cookie is cleared: {:?}",
        b.set_cookies
    );
    // A request carrying no session (a link from another site) clears nothing.
    let mut bare = Browser::new(&s);
    let r = bare.get("/admin").await;
    assert_eq!((r.status, r.location()), (303, "/admin/login"));
    assert!(bare.set_cookies.is_empty(), "{:?}", bare.set_cookies);
}

#[tokio::test]
async fn a_users_profile_and_scoped_roles_change_within_the_caller() {
    let s = TestServer::start().await;
    let admin_token = s.admin_token().await;
    let target = s.new_user(&admin_token, &[]).await;
    let stronger = s
        .new_user(&admin_token, &["UserAccess", "UserDelete"])
        .await;
    let editor = s.new_user(&admin_token, &["UserAccess", "UserEdit"]).await;
    let mut e = Browser::new(&s);
    let csrf = console_session(&mut e, &editor.name, &editor.password).await;

    let r = e.get(&format!("/admin/user?name={}", target.name)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let hostile = "<script>alert(1)</script>";
    let r = e
        .post(
            "/admin/users/edit",
            &[("name", &target.name), ("alias", hostile), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = e.get(&format!("/admin/user?name={}", target.name)).await;
    assert!(!page.body.contains(hostile), "escaped");
    assert!(
        page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        page.body
    );
    let list = e.get("/admin/users").await;
    assert!(!list.body.contains(hostile), "escaped in the list too");

    // A stronger user's profile is out of the editor's reach; the page says so.
    let r = e
        .post(
            "/admin/users/edit",
            &[
                ("name", &stronger.name),
                ("alias", "renamed"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // The admin gives the target a role within one organisation, then takes it back.
    let mut a = Browser::new(&s);
    let a_csrf = console_session(&mut a, "admin", s.admin_password()).await;
    let r = a
        .post(
            "/admin/users/assign",
            &[
                ("name", &target.name),
                ("role", &editor.role),
                ("scope", "org:2"),
                ("csrf", &a_csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = a.get(&format!("/admin/user?name={}", target.name)).await;
    assert!(page.body.contains("<code>org:2</code>"), "{}", page.body);
    let r = a
        .post(
            "/admin/users/assign",
            &[
                ("name", &target.name),
                ("role", &editor.role),
                ("scope", "nowhere:1"),
                ("csrf", &a_csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "an undeclared scope kind: {}", r.body);
    let r = a
        .post(
            "/admin/users/revoke",
            &[
                ("name", &target.name),
                ("role", &editor.role),
                ("scope", "org:2"),
                ("csrf", &a_csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = a.get(&format!("/admin/user?name={}", target.name)).await;
    assert!(!page.body.contains("<code>org:2</code>"), "{}", page.body);
}

#[tokio::test]
async fn a_role_includes_only_roles_within_the_caller() {
    let s = TestServer::start().await;
    let admin_token = s.admin_token().await;
    let granter = s
        .new_user(&admin_token, &["RoleAccess", "RoleAuthority", "UserAccess"])
        .await;
    let weak = s.new_user(&admin_token, &["UserAccess"]).await;
    let strong = s.new_user(&admin_token, &["UserDelete"]).await;
    let container = unique_name("box");
    s.create_role(&admin_token, &container).await;
    let mut b = Browser::new(&s);
    let csrf = console_session(&mut b, &granter.name, &granter.password).await;
    let r = b
        .post(
            "/admin/roles/include",
            &[
                ("role", &container),
                ("include", &strong.role),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        r.status, 403,
        "including a role with a privilege not held: {}",
        r.body
    );
    let r = b
        .post(
            "/admin/roles/include",
            &[
                ("role", &container),
                ("include", &weak.role),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = b.get("/admin/roles").await;
    let row_start = page
        .body
        .find(&format!(r#"data-role="{container}""#))
        .expect("the role's row");
    let row = &page.body[row_start..];
    let row = &row[..row.find("</tr>").unwrap_or(row.len())];
    assert!(
        row.contains(&format!(r#"<span class="tag">{}</span>"#, weak.role)),
        "{row}"
    );
}
