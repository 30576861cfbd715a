//! The admin console inherits the library's step-up decision: every POST route of the
//! console is classified here (a route the console mounts and this file does not name fails
//! the test), and each sensitive one sends a stale second factor to `/admin/step-up` and
//! does the action right after a step-up on the same session (the positive control). Pages
//! a user may not open answer 403 and are not offered in the navigation; the sessions page
//! tells sessions apart by device and last use.

use std::time::{Duration, Instant};

use tests::*;

use crate::step_up_walk::{prepare, WINDOW};

/// Every POST route of the console and whether it is sensitive (the fixture it acts on, as
/// `step_up_walk::prepare` names it), or `None`.
const ROUTES: &[(&str, Option<&str>)] = &[
    ("/admin/login", None),
    ("/admin/login/mfa", None),
    ("/admin/login/passkey/begin", None),
    ("/admin/login/passkey", None),
    ("/admin/logout", None),
    ("/admin/step-up", None),
    ("/admin/account/totp/begin", None),
    ("/admin/account/totp/confirm", None),
    ("/admin/account/totp/codes", None),
    ("/admin/account/sessions/end", None),
    ("/admin/account/password", None),
    ("/admin/account/passkey/begin", None),
    ("/admin/account/passkey/finish", None),
    ("/admin/account/passkey/remove", None),
    ("/admin/projects/create", None),
    ("/admin/roles/create", None),
    ("/admin/users/create", Some("platform_create_user")),
    ("/admin/users/enabled", Some("platform_disable_user")),
    ("/admin/users/password", Some("platform_reset_password")),
    ("/admin/users/delete", Some("platform_delete_user")),
    ("/admin/users/edit", Some("platform_edit_user")),
    ("/admin/users/assign", Some("platform_assign_role")),
    ("/admin/users/revoke", Some("platform_revoke_role")),
    ("/admin/roles/grant", Some("platform_auth_role")),
    ("/admin/roles/include", Some("platform_include_role")),
    ("/admin/roles/delete", Some("platform_delete_role")),
    ("/admin/sessions/end", Some("platform_end_session")),
    ("/admin/projects/delete", Some("gateway_delete")),
];

/// The form a sensitive route is sent, for the fixture `fx`.
fn form(route: &str, fx: &Value) -> Vec<(String, String)> {
    let text = |key: &str| fx[key].as_str().unwrap_or_default().to_string();
    let pairs: Vec<(&str, String)> = match route {
        "/admin/users/create" => vec![
            ("name", unique_name("minted")),
            ("password", gen_password()),
            ("role", text("role")),
        ],
        "/admin/users/enabled" => vec![("name", text("user")), ("enabled", "false".into())],
        "/admin/users/password" => vec![("name", text("user")), ("password", gen_password())],
        "/admin/users/delete" => vec![("name", text("user"))],
        "/admin/users/edit" => vec![("name", text("user")), ("alias", "edited".into())],
        "/admin/users/assign" | "/admin/users/revoke" => {
            vec![("name", text("user")), ("role", text("role"))]
        }
        "/admin/roles/grant" => vec![("role", text("role")), ("privilege", "UserAccess".into())],
        "/admin/roles/include" => vec![("role", text("role")), ("include", text("included"))],
        "/admin/roles/delete" => vec![("role", text("role"))],
        "/admin/sessions/end" => vec![("user", text("user"))],
        "/admin/projects/delete" => vec![("id", fx["project"].to_string())],
        other => panic!("no form for {other}"),
    };
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Posts `pairs` with the session's CSRF token.
async fn post(b: &mut Browser, route: &str, pairs: &[(String, String)], csrf: &str) -> Page {
    let mut form: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    form.push(("csrf", csrf));
    b.post(route, &form).await
}

/// Walks the sensitive routes in `routes` as the built-in admin with TOTP in the console.
async fn walk(routes: &[&str]) {
    let s = TestServer::start_with(&["--step-up-secs", &WINDOW.to_string()]).await;
    let admin = s.admin_token().await;
    let helper = s.new_user(&admin, &ALL_PRIVILEGES).await.token;
    let enrolled = s.enrol_totp(&admin).await;
    let mut codes = enrolled.recovery_codes.clone();
    let mut b = Browser::new(&s);
    let r = b.password_step("admin", s.admin_password()).await;
    let (mfa_token, csrf) = (r.field("mfa_token"), r.field("csrf"));
    let code = totp_now(&enrolled.secret, 1);
    let r = b
        .post(
            "/admin/login/mfa",
            &[("mfa_token", &mfa_token), ("code", &code), ("csrf", &csrf)],
        )
        .await;
    assert_eq!((r.status, r.location()), (303, "/admin"), "{}", r.body);
    let mut proven = Instant::now();
    let csrf = b.get("/admin").await.field("csrf");
    for route in routes {
        let op = ROUTES
            .iter()
            .find(|(r, _)| r == route)
            .and_then(|(_, op)| *op)
            .expect("a sensitive route");
        let (stale_fx, fresh_fx) = (
            prepare(&s, &helper, op).await,
            prepare(&s, &helper, op).await,
        );
        let stale_at = proven + Duration::from_millis(WINDOW * 1000 + 1200);
        tokio::time::sleep_until(stale_at.into()).await;
        let r = post(&mut b, route, &form(route, &stale_fx), &csrf).await;
        assert_eq!(
            (r.status, r.location()),
            (303, "/admin/step-up"),
            "{route} with a stale second factor: {}",
            r.body
        );
        let code = codes.pop().expect("a recovery code left");
        let back = "/admin";
        let r = b
            .post(
                "/admin/step-up",
                &[("code", &code), ("back", back), ("csrf", &csrf)],
            )
            .await;
        assert_eq!((r.status, r.location()), (303, back), "step-up: {}", r.body);
        proven = Instant::now();
        let r = post(&mut b, route, &form(route, &fresh_fx), &csrf).await;
        assert_eq!(r.status, 303, "{route} right after a step-up: {}", r.body);
        assert_ne!(
            r.location(),
            "/admin/step-up",
            "{route} right after a step-up"
        );
    }
}

/// The sensitive routes, in two halves (each within one set of recovery codes).
fn sensitive(half: usize) -> Vec<&'static str> {
    let all: Vec<&str> = ROUTES
        .iter()
        .filter(|(_, op)| op.is_some())
        .map(|(r, _)| *r)
        .collect();
    let mid = all.len() / 2;
    if half == 0 {
        all[..mid].to_vec()
    } else {
        all[mid..].to_vec()
    }
}

#[tokio::test]
async fn the_consoles_sensitive_user_forms_ask_a_fresh_factor() {
    walk(&sensitive(0)).await;
}

#[tokio::test]
async fn the_consoles_sensitive_role_and_session_forms_ask_a_fresh_factor() {
    walk(&sensitive(1)).await;
}

#[test]
fn every_post_route_of_the_console_is_classified() {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/admin/mod.rs"),
    )
    .expect("the console's router");
    // Each `.route(` call up to whatever follows it: its path, and whether it posts.
    let mounted: std::collections::BTreeSet<&str> = source
        .split(".route(")
        .skip(1)
        .filter_map(|call| {
            let end = [";", ".route_layer", ".merge", ".layer(", ".fallback"]
                .iter()
                .filter_map(|m| call.find(m))
                .min()
                .unwrap_or(call.len());
            let call = &call[..end];
            let path = call.split('"').nth(1)?;
            (path.starts_with("/admin") && call.contains("post(")).then_some(path)
        })
        .collect();
    assert!(mounted.len() > 20, "the routes are found: {mounted:?}");
    let named: std::collections::BTreeSet<&str> = ROUTES.iter().map(|(r, _)| *r).collect();
    assert_eq!(
        mounted, named,
        "every POST route of the console is classified here"
    );
}

#[tokio::test]
async fn pages_a_user_may_not_open_answer_403_and_are_not_offered() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let plain = s.new_user(&admin, &[]).await;
    let mut b = Browser::new(&s);
    console_session(&mut b, &plain.name, &plain.password).await;
    let home = b.get("/admin").await;
    assert_eq!(home.status, 200);
    for (path, refused) in [
        ("/admin/users", true),
        ("/admin/roles", true),
        ("/admin/events", true),
        ("/admin/log", false),
        ("/admin/projects", false),
        ("/admin/account", false),
    ] {
        let link = format!(r#"href="{path}""#);
        assert_eq!(
            home.body.contains(&link),
            !refused,
            "the navigation offers {path} only to those who may open it: {}",
            home.body
        );
        let page = b.get(path).await;
        let want = if refused { 403 } else { 200 };
        assert_eq!(page.status, want, "{path}: {}", page.body);
        if refused {
            assert!(!page.body.contains("create-user"), "{path}: no forms");
        }
    }

    // The control: the admin is offered and opens all of them.
    let mut a = Browser::new(&s);
    console_session(&mut a, "admin", s.admin_password()).await;
    let home = a.get("/admin").await;
    for path in ["/admin/users", "/admin/roles", "/admin/events"] {
        assert!(home.body.contains(&format!(r#"href="{path}""#)), "{path}");
        assert_eq!(a.get(path).await.status, 200, "{path}");
    }
    // Sessions are told apart by device and last use.
    let page = a.get(&format!("/admin/sessions?user={}", plain.name)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Device") && page.body.contains("Last used"),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"class="device""#), "{}", page.body);
}
