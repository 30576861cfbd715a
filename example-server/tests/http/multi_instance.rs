//! Two `example-server` processes on one store: what one instance revokes or changes, the
//! other enforces on its next request, within a second (PostgreSQL: LISTEN/NOTIFY; SQLite
//! and MySQL: the change-log poll, every 500 ms by default). And two instances starting at
//! once on an empty database bootstrap exactly one admin.

use std::time::{Duration, Instant};

use tests::*;

/// How long B may take to see a change made through A.
const DEADLINE: Duration = Duration::from_secs(1);

async fn whoami(srv: &TestServer, token: &str, name: &str) -> (u16, Value) {
    srv.post(
        "platform/inquire/auth",
        &json!({"name": name, "name_type": 0}),
        Some(token),
    )
    .await
}

async fn list_users(srv: &TestServer, token: &str) -> (u16, Value) {
    srv.post(
        "platform/list/user",
        &json!({"page_no": 0, "page_size": 0}),
        Some(token),
    )
    .await
}

/// Polls `probe` until `done` holds; panics if that takes longer than [`DEADLINE`].
async fn within_deadline<F, Fut>(what: &str, probe: F, done: impl Fn(&(u16, Value)) -> bool)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (u16, Value)>,
{
    let start = Instant::now();
    loop {
        let r = probe().await;
        if done(&r) {
            eprintln!(
                "{what}: seen by the other instance after {:?}",
                start.elapsed()
            );
            return;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{what}: the other instance still answers {} {} after {DEADLINE:?}",
            r.0,
            r.1
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn refused(r: &(u16, Value)) -> bool {
    r.0 == 401
}

fn denied(r: &(u16, Value)) -> bool {
    r.0 == 200 && r.1["header"]["code"] == json!(1000)
}

fn allowed(r: &(u16, Value)) -> bool {
    r.0 == 200 && r.1["header"]["code"] == json!(0)
}

#[tokio::test]
async fn revocations_through_a_are_enforced_by_b() {
    let a = TestServer::start().await;
    let b = a.start_sharing(&[]).await;
    let admin = a.admin_token().await;

    // Logout through A.
    let u = a.new_user(&admin, &[]).await;
    assert!(
        allowed(&whoami(&b, &u.token, &u.name).await),
        "B accepts A's token"
    );
    expect_ok(
        &a.post("platform/logout", &json!({}), Some(&u.token)).await,
        "logout",
    );
    within_deadline("logout", || whoami(&b, &u.token, &u.name), refused).await;

    // Refresh through A: the old token dies on B, the new one works there.
    let u = a.new_user(&admin, &[]).await;
    assert!(allowed(&whoami(&b, &u.token, &u.name).await));
    let r = a
        .post("platform/refresh/token", &json!({}), Some(&u.token))
        .await;
    let fresh = expect_ok(&r, "refresh")["auth_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no auth_token in {}", r.1))
        .to_string();
    within_deadline("refresh", || whoami(&b, &u.token, &u.name), refused).await;
    assert!(
        allowed(&whoami(&b, &fresh, &u.name).await),
        "the new token on B"
    );

    // Password reset, disable and delete through A.
    for action in ["reset/password", "disable/user", "delete/user"] {
        let u = a.new_user(&admin, &[]).await;
        assert!(allowed(&whoami(&b, &u.token, &u.name).await));
        let body = match action {
            "reset/password" => json!({"user_name": u.name, "new_password": gen_password()}),
            _ => json!({"user_name": u.name}),
        };
        expect_ok(
            &a.post(&format!("platform/{action}"), &body, Some(&admin))
                .await,
            action,
        );
        within_deadline(action, || whoami(&b, &u.token, &u.name), refused).await;
    }

    // Password change through A: the user's other sessions die on B.
    let u = a.new_user(&admin, &[]).await;
    let other = b.login(&u.name, &u.password).await;
    assert!(allowed(&whoami(&b, &other, &u.name).await));
    expect_ok(
        &a.post(
            "platform/change/password",
            &json!({"old_password": u.password, "new_password": gen_password()}),
            Some(&u.token),
        )
        .await,
        "change password",
    );
    within_deadline("change/password", || whoami(&b, &other, &u.name), refused).await;
}

#[tokio::test]
async fn role_changes_through_a_are_enforced_by_b() {
    let a = TestServer::start().await;
    let b = a.start_sharing(&[]).await;
    let admin = a.admin_token().await;
    let u = a.new_user(&admin, &[]).await;
    assert!(denied(&list_users(&b, &u.token).await), "no UserAccess yet");

    a.grant(&admin, &u.role, &["UserAccess"]).await;
    within_deadline("grant", || list_users(&b, &u.token), allowed).await;

    a.grant(&admin, &u.role, &["RoleAccess"]).await;
    within_deadline("revoke", || list_users(&b, &u.token), denied).await;

    a.grant(&admin, &u.role, &["UserAccess"]).await;
    within_deadline("grant again", || list_users(&b, &u.token), allowed).await;
    expect_ok(
        &a.post(
            "platform/disable/role",
            &json!({"role_name": u.role}),
            Some(&admin),
        )
        .await,
        "disable role",
    );
    within_deadline("disable/role", || list_users(&b, &u.token), denied).await;
}

#[tokio::test]
async fn two_instances_starting_at_once_bootstrap_one_admin() {
    let (a, b) = TestServer::start_pair(&[]).await;
    let admin = a.admin_token().await;
    let users = a.list_users(&admin, Some("admin")).await;
    let admins = users
        .iter()
        .filter(|u| u["user_name"] == json!("admin"))
        .count();
    assert_eq!(admins, 1, "{users:?}");
    let roles = a.list_roles(&admin).await;
    let admin_roles = roles
        .iter()
        .filter(|r| r["role_name"] == json!("admin"))
        .count();
    assert_eq!(admin_roles, 1, "{roles:?}");
    // Both instances serve the same admin with the same secret.
    let on_b = b.admin_token().await;
    assert!(allowed(&whoami(&a, &on_b, "admin").await));
    assert!(allowed(&whoami(&b, &admin, "admin").await));
    drop(b);
}
