//! Every way a session or a privilege is taken away acts on the very next request: no sleeps,
//! no re-login.

use tests::*;

async fn whoami(srv: &TestServer, token: &str, name: &str) -> (u16, Value) {
    srv.post(
        "platform/inquire/auth",
        &json!({"name": name, "name_type": 0}),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn logout_revokes_only_that_session_at_once() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &[]).await;
    let other = srv.login(&u.name, &u.password).await;
    expect_ok(&whoami(&srv, &u.token, &u.name).await, "before logout");
    expect_ok(
        &srv.post("platform/logout", &json!({}), Some(&u.token))
            .await,
        "logout",
    );
    expect_unauthorized(&whoami(&srv, &u.token, &u.name).await, "right after logout");
    expect_ok(
        &whoami(&srv, &other, &u.name).await,
        "the user's other session after logging out one",
    );
}

#[tokio::test]
async fn refresh_revokes_the_old_token_at_once() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &[]).await;
    let r = srv
        .post("platform/refresh/token", &json!({}), Some(&u.token))
        .await;
    let new = expect_ok(&r, "refresh")["auth_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    expect_unauthorized(&whoami(&srv, &u.token, &u.name).await, "old token");
    expect_unauthorized(
        &srv.post("platform/refresh/token", &json!({}), Some(&u.token))
            .await,
        "refresh with the old token",
    );
    expect_ok(&whoami(&srv, &new, &u.name).await, "new token");
}

#[tokio::test]
async fn change_password_revokes_other_sessions_keeps_current() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &["UserAccess"]).await;
    let other1 = srv.login(&u.name, &u.password).await;
    let other2 = srv.login(&u.name, &u.password).await;
    let new_pw = gen_password();
    expect_ok(
        &srv.post(
            "platform/change/password",
            &json!({"old_password": u.password, "new_password": new_pw}),
            Some(&u.token),
        )
        .await,
        "change/password",
    );
    for t in [&other1, &other2] {
        expect_unauthorized(
            &srv.post("platform/list/user", &json!({}), Some(t)).await,
            "other session after change/password",
        );
    }
    expect_ok(
        &srv.post("platform/list/user", &json!({}), Some(&u.token))
            .await,
        "current session after change/password",
    );
    expect_code(
        &srv.post(
            "login",
            &json!({"name": u.name, "password": u.password}),
            None,
        )
        .await,
        200,
        1002,
        "old password",
    );
    srv.login(&u.name, &new_pw).await;
    // Other users are untouched.
    expect_ok(
        &srv.post("platform/list/user", &json!({}), Some(&admin))
            .await,
        "admin session",
    );
}

#[tokio::test]
async fn reset_password_revokes_all_sessions_of_the_target() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &[]).await;
    let other = srv.login(&u.name, &u.password).await;
    let new_pw = gen_password();
    expect_ok(
        &srv.post(
            "platform/reset/password",
            &json!({"user_name": u.name, "new_password": new_pw}),
            Some(&admin),
        )
        .await,
        "reset/password",
    );
    expect_unauthorized(
        &whoami(&srv, &u.token, &u.name).await,
        "session 1 after reset",
    );
    expect_unauthorized(
        &whoami(&srv, &other, &u.name).await,
        "session 2 after reset",
    );
    let t = srv.login(&u.name, &new_pw).await;
    expect_ok(&whoami(&srv, &t, &u.name).await, "new session after reset");
}

#[tokio::test]
async fn disable_user_revokes_at_once_and_enable_restores_login() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &["UserAccess"]).await;
    expect_ok(
        &srv.post("platform/list/user", &json!({}), Some(&u.token))
            .await,
        "before disable",
    );
    expect_ok(
        &srv.post(
            "platform/disable/user",
            &json!({"user_name": u.name}),
            Some(&admin),
        )
        .await,
        "disable",
    );
    expect_unauthorized(
        &srv.post("platform/list/user", &json!({}), Some(&u.token))
            .await,
        "the disabled user's token",
    );
    expect_unauthorized(
        &srv.post("platform/refresh/token", &json!({}), Some(&u.token))
            .await,
        "refresh by the disabled user",
    );
    expect_code(
        &srv.post(
            "login",
            &json!({"name": u.name, "password": u.password}),
            None,
        )
        .await,
        200,
        1012,
        "login while disabled",
    );
    expect_ok(
        &srv.post(
            "platform/enable/user",
            &json!({"user_name": u.name}),
            Some(&admin),
        )
        .await,
        "enable",
    );
    let t = srv.login(&u.name, &u.password).await;
    expect_ok(
        &srv.post("platform/list/user", &json!({}), Some(&t)).await,
        "after enable",
    );
}

#[tokio::test]
async fn delete_user_revokes_at_once() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &["UserAccess"]).await;
    expect_ok(
        &srv.post(
            "platform/delete/user",
            &json!({"user_name": u.name}),
            Some(&admin),
        )
        .await,
        "delete",
    );
    expect_unauthorized(
        &srv.post("platform/list/user", &json!({}), Some(&u.token))
            .await,
        "the deleted user's token",
    );
    expect_code(
        &srv.post(
            "login",
            &json!({"name": u.name, "password": u.password}),
            None,
        )
        .await,
        200,
        1002,
        "login of the deleted user",
    );
    // A new user with the same name does not inherit the old sessions.
    let pw = gen_password();
    srv.create_user(&admin, &u.name, &pw, None).await;
    expect_unauthorized(
        &srv.post("platform/list/user", &json!({}), Some(&u.token))
            .await,
        "old token after the name is reused",
    );
}

#[tokio::test]
async fn role_grant_changes_act_on_the_next_request() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &[]).await;
    let second = srv.login(&u.name, &u.password).await;
    expect_denied(
        &srv.post("platform/list/user", &json!({}), Some(&u.token))
            .await,
        "UserAccess",
        "before the grant",
    );
    srv.grant(&admin, &u.role, &["UserAccess"]).await;
    for t in [&u.token, &second] {
        expect_ok(
            &srv.post("platform/list/user", &json!({}), Some(t)).await,
            "right after the grant, same token",
        );
    }
    srv.grant(&admin, &u.role, &["RoleAccess"]).await;
    for t in [&u.token, &second] {
        expect_denied(
            &srv.post("platform/list/user", &json!({}), Some(t)).await,
            "UserAccess",
            "right after the revoke",
        );
        expect_ok(
            &srv.post("platform/list/role", &json!({}), Some(t)).await,
            "the newly granted RoleAccess",
        );
    }
    srv.grant(&admin, &u.role, &[]).await;
    expect_denied(
        &srv.post("platform/list/role", &json!({}), Some(&u.token))
            .await,
        "RoleAccess",
        "after emptying the role",
    );
    // The session itself survives privilege changes.
    expect_ok(
        &whoami(&srv, &u.token, &u.name).await,
        "session after revokes",
    );
}

#[tokio::test]
async fn role_disable_acts_on_the_next_request() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &["UserAccess"]).await;
    expect_ok(
        &srv.post("platform/list/user", &json!({}), Some(&u.token))
            .await,
        "before disable",
    );
    expect_ok(
        &srv.post(
            "platform/disable/role",
            &json!({"role_name": u.role}),
            Some(&admin),
        )
        .await,
        "disable role",
    );
    expect_code(
        &srv.post("platform/list/user", &json!({}), Some(&u.token))
            .await,
        200,
        1000,
        "member of a disabled role",
    );
    // A disabled role grants nothing, at login either.
    let r = srv
        .post(
            "login",
            &json!({"name": u.name, "password": u.password}),
            None,
        )
        .await;
    let data = expect_ok(&r, "login while the role is disabled");
    assert!(
        privileges_of(&data["privilege"]).is_empty(),
        "login of a member of a disabled role lists privileges: {}",
        r.1
    );
    expect_ok(
        &srv.post(
            "platform/enable/role",
            &json!({"role_name": u.role}),
            Some(&admin),
        )
        .await,
        "enable role",
    );
    expect_ok(
        &srv.post("platform/list/user", &json!({}), Some(&u.token))
            .await,
        "member after re-enable",
    );
}

#[tokio::test]
async fn edit_user_role_acts_on_the_next_request() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &[]).await;
    let strong = unique_name("strong");
    srv.create_role(&admin, &strong).await;
    srv.grant(&admin, &strong, &["UserAccess"]).await;
    expect_denied(
        &srv.post("platform/list/user", &json!({}), Some(&u.token))
            .await,
        "UserAccess",
        "before the role change",
    );
    expect_ok(
        &srv.post(
            "platform/edit/user",
            &json!({"user_name": u.name, "role_name": strong}),
            Some(&admin),
        )
        .await,
        "edit role",
    );
    expect_ok(
        &srv.post("platform/list/user", &json!({}), Some(&u.token))
            .await,
        "right after moving to a role with UserAccess",
    );
    expect_ok(
        &srv.post(
            "platform/edit/user",
            &json!({"user_name": u.name, "role_name": u.role}),
            Some(&admin),
        )
        .await,
        "edit role back",
    );
    expect_denied(
        &srv.post("platform/list/user", &json!({}), Some(&u.token))
            .await,
        "UserAccess",
        "right after moving back",
    );
}

#[tokio::test]
async fn edit_user_password_takes_effect_on_the_next_request() {
    // "Changing a user's role or password takes effect on that user's next request": the
    // sessions opened with the old password end, the old password stops working.
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &[]).await;
    let new_pw = gen_password();
    expect_ok(
        &srv.post(
            "platform/edit/user",
            &json!({"user_name": u.name, "password": new_pw}),
            Some(&admin),
        )
        .await,
        "edit password",
    );
    expect_unauthorized(
        &whoami(&srv, &u.token, &u.name).await,
        "the user's session right after edit/user password",
    );
    expect_code(
        &srv.post(
            "login",
            &json!({"name": u.name, "password": u.password}),
            None,
        )
        .await,
        200,
        1002,
        "old password right after edit",
    );
    let t = srv.login(&u.name, &new_pw).await;
    expect_ok(&whoami(&srv, &t, &u.name).await, "new session");
    // Editing something else leaves the sessions alone.
    expect_ok(
        &srv.post(
            "platform/edit/user",
            &json!({"user_name": u.name, "remark": "just a remark"}),
            Some(&admin),
        )
        .await,
        "edit remark",
    );
    expect_ok(
        &whoami(&srv, &t, &u.name).await,
        "session after a remark edit",
    );
}

#[tokio::test]
async fn revoked_tokens_are_refused_in_the_bearer_header_too() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &[]).await;
    expect_ok(
        &srv.post("platform/logout", &json!({}), Some(&u.token))
            .await,
        "logout",
    );
    let bearer = format!("Bearer {}", u.token);
    let body = json!({"name": u.name, "name_type": 0}).to_string();
    let r = srv
        .post_raw(
            "platform/inquire/auth",
            body,
            &[JSON_CT, ("Authorization", &bearer)],
        )
        .await;
    expect_unauthorized(&r, "logged-out token as Bearer");
}
