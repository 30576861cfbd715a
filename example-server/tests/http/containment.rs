//! No one acts on someone stronger, through the real binary (on the backend
//! `RBAC_TEST_DATABASE` names): each takeover of the security audit is refused, and beside
//! each refusal the same actor acting on a target within its privileges succeeds, so a
//! blanket refusal cannot pass.

use tests::*;

/// The user's name and password, with a role holding exactly `privileges`.
async fn target(srv: &TestServer, admin: &str, privileges: &[&str]) -> TestUser {
    srv.new_user(admin, privileges).await
}

/// A user with no role at all.
async fn roleless(srv: &TestServer, admin: &str) -> (String, String) {
    let (name, password) = (unique_name("plain"), gen_password());
    srv.create_user(admin, &name, &password, None).await;
    (name, password)
}

async fn try_login(srv: &TestServer, name: &str, password: &str) -> i64 {
    let r = srv
        .post("login", &json!({"name": name, "password": password}), None)
        .await;
    code(&r.1)
}

/// The newest operation-log entries (as admin).
async fn oper_log(srv: &TestServer, admin: &str) -> Vec<String> {
    let r = srv
        .post(
            "platform/list/oper-log",
            &json!({"page_no": 0, "page_size": 50}),
            Some(admin),
        )
        .await;
    let data = expect_ok(&r, "list/oper-log");
    data["list"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| e["oper_content"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn user_edit_alone_cannot_take_over_admin() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let eve = srv.new_user(&admin, &["UserEdit"]).await;

    // The audit's reproduction: reset/password and edit/user on admin.
    let r = srv
        .post(
            "platform/reset/password",
            &json!({"user_name": "admin", "new_password": "Eve-owns-admin-1"}),
            Some(&eve.token),
        )
        .await;
    expect_code(&r, 200, 1021, "eve resets admin's password");
    let message = r.1["header"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("admin"), "names what eve lacks: {}", r.1);
    let r = srv
        .post(
            "platform/edit/user",
            &json!({"user_name": "admin", "password": "Eve-owns-admin-2"}),
            Some(&eve.token),
        )
        .await;
    expect_code(&r, 200, 1021, "eve sets admin's password by edit/user");
    assert_ne!(try_login(&srv, "admin", "Eve-owns-admin-1").await, 0);
    assert_ne!(try_login(&srv, "admin", "Eve-owns-admin-2").await, 0);
    srv.admin_token().await; // the owner's password still works
    let log = oper_log(&srv, &admin).await;
    assert!(
        log.iter()
            .any(|e| e.contains("refused to reset the password of user admin")),
        "the refusal is audited: {log:?}"
    );

    // Controls: a roleless user and a user holding only UserEdit lie within eve.
    let (plain, _) = roleless(&srv, &admin).await;
    let r = srv
        .post(
            "platform/reset/password",
            &json!({"user_name": plain, "new_password": "Reset-by-eve-3"}),
            Some(&eve.token),
        )
        .await;
    expect_ok(&r, "eve resets a roleless user");
    srv.login(&plain, "Reset-by-eve-3").await;
    let peer = target(&srv, &admin, &["UserEdit"]).await;
    let r = srv
        .post(
            "platform/edit/user",
            &json!({"user_name": peer.name, "password": "Edited-by-eve-4"}),
            Some(&eve.token),
        )
        .await;
    expect_ok(&r, "eve sets the password of a user as strong as herself");
    srv.login(&peer.name, "Edited-by-eve-4").await;

    // A stronger user is refused even while its role is disabled: assignments count.
    let strong = target(&srv, &admin, &["RoleAdd"]).await;
    expect_ok(
        &srv.post(
            "platform/disable/role",
            &json!({"role_name": strong.role}),
            Some(&admin),
        )
        .await,
        "admin disables the strong role",
    );
    let r = srv
        .post(
            "platform/reset/password",
            &json!({"user_name": strong.name, "new_password": "Eve-waits-5"}),
            Some(&eve.token),
        )
        .await;
    expect_code(&r, 200, 1021, "eve resets a user whose role is disabled");
    srv.login(&strong.name, &strong.password).await;
}

#[tokio::test]
async fn enabling_disabling_and_deleting_need_the_target_within() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let switcher = srv.new_user(&admin, &["UserEnableOrDisable"]).await;
    let deleter = srv.new_user(&admin, &["UserDelete"]).await;
    let strong = target(&srv, &admin, &["RoleAdd"]).await;

    for action in ["disable/user", "enable/user"] {
        let r = srv
            .post(
                &format!("platform/{action}"),
                &json!({"user_name": strong.name}),
                Some(&switcher.token),
            )
            .await;
        expect_code(&r, 200, 1021, &format!("{action} of a RoleAdd holder"));
    }
    let r = srv
        .post(
            "platform/delete/user",
            &json!({"user_name": strong.name}),
            Some(&deleter.token),
        )
        .await;
    expect_code(&r, 200, 1021, "delete of a RoleAdd holder");
    srv.login(&strong.name, &strong.password).await; // untouched

    // The rules that existed first keep their code.
    let r = srv
        .post(
            "platform/disable/user",
            &json!({"user_name": "admin"}),
            Some(&switcher.token),
        )
        .await;
    expect_code(&r, 200, 1009, "disable admin");

    // Controls: targets within each actor.
    let same = target(&srv, &admin, &["UserEnableOrDisable"]).await;
    let r = srv
        .post(
            "platform/disable/user",
            &json!({"user_name": same.name}),
            Some(&switcher.token),
        )
        .await;
    expect_ok(&r, "disable a user as strong as the actor");
    assert_ne!(try_login(&srv, &same.name, &same.password).await, 0);
    let (plain, _) = roleless(&srv, &admin).await;
    let r = srv
        .post(
            "platform/delete/user",
            &json!({"user_name": plain}),
            Some(&deleter.token),
        )
        .await;
    expect_ok(&r, "delete a roleless user");
    assert!(srv.find_user(&admin, &plain).await.is_none());
}

#[tokio::test]
async fn grants_add_and_remove_only_what_the_actor_holds() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let granter = srv.new_user(&admin, &["RoleAuthority", "UserAccess"]).await;
    let strong = unique_name("strong");
    srv.create_role(&admin, &strong).await;
    srv.grant(&admin, &strong, &["UserDelete"]).await;

    // The audit's reproduction: emptying a role that holds UserDelete.
    let r = srv
        .post(
            "platform/auth/role",
            &json!({"role_name": strong, "privilege": []}),
            Some(&granter.token),
        )
        .await;
    expect_code(&r, 200, 1021, "empty a role holding UserDelete");
    let r = srv
        .post(
            "platform/auth/role",
            &json!({"role_name": strong, "privilege": ["UserDelete", "UserAccess"]}),
            Some(&granter.token),
        )
        .await;
    expect_code(&r, 200, 1021, "add to a role holding UserDelete");
    assert_eq!(
        srv.inquire(&admin, &strong, 1).await,
        sorted(&["UserDelete"])
    );

    // Controls: a role within the granter is changed both ways.
    let weak = unique_name("weak");
    srv.create_role(&admin, &weak).await;
    srv.grant(&admin, &weak, &["UserAccess"]).await;
    srv.grant(&granter.token, &weak, &["UserAccess", "RoleAuthority"])
        .await;
    srv.grant(&granter.token, &weak, &[]).await;
    assert!(srv.inquire(&admin, &weak, 1).await.is_empty());
}

#[tokio::test]
async fn role_administration_needs_the_role_within() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let roles_admin = srv
        .new_user(&admin, &["RoleEdit", "RoleEnableOrDisable", "RoleDelete"])
        .await;
    let strong = unique_name("strong");
    let strong_id = srv.create_role(&admin, &strong).await["id"].clone();
    srv.grant(&admin, &strong, &["UserDelete"]).await;
    let weak = unique_name("weak");
    srv.create_role(&admin, &weak).await;
    srv.grant(&admin, &weak, &["RoleEdit"]).await;
    let weak_id = srv.find_role(&admin, &weak).await.expect("listed")["id"].clone();

    let t = &roles_admin.token;
    let r = srv
        .post(
            "platform/edit/role",
            &json!({"id": strong_id, "role_name": unique_name("renamed"), "remark": "x"}),
            Some(t),
        )
        .await;
    expect_code(&r, 200, 1021, "rename a role holding UserDelete");
    for action in ["disable/role", "enable/role", "delete/role"] {
        let r = srv
            .post(
                &format!("platform/{action}"),
                &json!({"role_name": strong}),
                Some(t),
            )
            .await;
        expect_code(
            &r,
            200,
            1021,
            &format!("{action} of a role holding UserDelete"),
        );
    }
    assert!(srv.find_role(&admin, &strong).await.is_some());

    // Controls: the same actions on a role within the actor.
    let renamed = unique_name("renamed");
    let r = srv
        .post(
            "platform/edit/role",
            &json!({"id": weak_id, "role_name": renamed, "remark": "x"}),
            Some(t),
        )
        .await;
    expect_ok(&r, "rename a role within the actor");
    for action in ["disable/role", "enable/role", "delete/role"] {
        let r = srv
            .post(
                &format!("platform/{action}"),
                &json!({"role_name": renamed}),
                Some(t),
            )
            .await;
        expect_ok(&r, &format!("{action} of a role within the actor"));
    }
}

#[tokio::test]
async fn system_roles_are_found_by_key_not_by_name() {
    let smtp = SmtpServer::start();
    let srv = TestServer::start_with(&["--smtp-url", &smtp.url()]).await;
    let admin = srv.admin_token().await;
    let mallory = srv.new_user(&admin, &["RoleEdit", "RoleAuthority"]).await;
    let strong = unique_name("strong");
    srv.create_role(&admin, &strong).await;
    srv.grant(&admin, &strong, &["UserEdit", "UserAccess", "UserDelete"])
        .await;
    let registered_id = srv
        .find_role(&admin, "registered-user")
        .await
        .expect("registered-user")["id"]
        .clone();
    let strong_id = srv.find_role(&admin, &strong).await.expect("strong")["id"].clone();

    // The audit's reproduction: rename registered-user away, a strong role into its name.
    let r = srv
        .post(
            "platform/edit/role",
            &json!({"id": registered_id, "role_name": unique_name("away"), "remark": ""}),
            Some(&mallory.token),
        )
        .await;
    expect_code(&r, 200, 1009, "mallory renames registered-user");
    let r = srv
        .post(
            "platform/edit/role",
            &json!({"id": strong_id, "role_name": "registered-user", "remark": ""}),
            Some(&mallory.token),
        )
        .await;
    assert_ne!(
        code(&r.1),
        0,
        "a strong role renamed to registered-user: {}",
        r.1
    );
    let r = srv
        .post(
            "platform/auth/role",
            &json!({"role_name": "registered-user", "privilege": []}),
            Some(&mallory.token),
        )
        .await;
    expect_ok(&r, "keeping a system role as it is");
    // Control: mallory renames a role within herself.
    let mine = unique_name("mine");
    srv.create_role(&admin, &mine).await;
    let mine_id = srv.find_role(&admin, &mine).await.expect("mine")["id"].clone();
    let r = srv
        .post(
            "platform/edit/role",
            &json!({"id": mine_id, "role_name": unique_name("mine2"), "remark": ""}),
            Some(&mallory.token),
        )
        .await;
    expect_ok(&r, "mallory renames an ordinary role");

    // Even admin renaming the system role away does not let another role take its place:
    // the name is reserved, and registration finds the role by key.
    let away = unique_name("gateway-users");
    let r = srv
        .post(
            "platform/edit/role",
            &json!({"id": registered_id, "role_name": away, "remark": ""}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "admin renames registered-user");
    let r = srv
        .post(
            "platform/edit/role",
            &json!({"id": strong_id, "role_name": "registered-user", "remark": ""}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1005, "the reserved name");

    let (name, password) = (unique_name("gw"), gen_password());
    let email = format!("{name}@example.com");
    let r = srv
        .post(
            "auth-code",
            &json!({"user_name": name, "email": email}),
            None,
        )
        .await;
    expect_ok(&r, "auth-code");
    let reg_code = smtp.code_for(&email).await;
    let r = srv
        .post(
            "register",
            &json!({"user_name": name, "password": password, "email": email, "reg_code": reg_code}),
            None,
        )
        .await;
    expect_ok(&r, "register");
    let user = srv.find_user(&admin, &name).await.expect("registered");
    assert_eq!(user["role_name"], away, "{user}");
    let token = srv.login(&name, &password).await;
    assert!(
        srv.inquire(&token, &name, 0).await.is_empty(),
        "a self-registered account holds what its documented role gives"
    );
}

#[tokio::test]
async fn iam_actions_on_stronger_users_are_refused() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let actor = srv
        .new_user(&admin, &["UserEdit", "UserAccess", "UserDelete"])
        .await;
    let auth = Auth::Basic(&actor.name, &actor.password);
    let strong = target(&srv, &admin, &["RoleAdd"]).await;

    let body = json!({"nickname": "owned", "email": "owned@example.com"});
    let r = srv.iam("PUT", "/v1/users/admin", auth, Some(&body)).await;
    expect_iam_error(&r, 403, 100207, "update admin");
    // Refused before the old password is checked: no oracle for a stronger account's.
    let r = srv
        .iam(
            "PUT",
            &format!("/v1/users/{}/change-password", strong.name),
            auth,
            Some(&json!({"oldPassword": "wrong-guess-1", "newPassword": "Owned-by-me-2"})),
        )
        .await;
    expect_iam_error(&r, 403, 100207, "change a stronger user's password");
    let (plain, plain_pw) = roleless(&srv, &admin).await;
    let path = format!("/v1/users?name={plain}&name={}", strong.name);
    let r = srv.iam("DELETE", &path, auth, None).await;
    expect_iam_error(&r, 403, 100207, "batch delete with one stronger user");
    assert!(
        srv.find_user(&admin, &plain).await.is_some(),
        "all or nothing: the weaker user is still there"
    );
    let r = srv
        .iam("DELETE", &format!("/v1/users/{}", strong.name), auth, None)
        .await;
    expect_iam_error(&r, 403, 100207, "delete a stronger user");
    srv.login(&strong.name, &strong.password).await;

    // Controls: the same actions on a roleless user.
    let r = srv
        .iam("PUT", &format!("/v1/users/{plain}"), auth, Some(&body))
        .await;
    expect_iam_ok(&r, "update a roleless user");
    let r = srv
        .iam(
            "PUT",
            &format!("/v1/users/{plain}/change-password"),
            auth,
            Some(&json!({"oldPassword": plain_pw, "newPassword": "Changed-by-me-3"})),
        )
        .await;
    assert_eq!(r.0, 200, "change a roleless user's password: {}", r.1);
    srv.login(&plain, "Changed-by-me-3").await;
    let r = srv
        .iam("DELETE", &format!("/v1/users?name={plain}"), auth, None)
        .await;
    assert_eq!(r.0, 200, "batch delete of a roleless user: {}", r.1);
    assert!(srv.find_user(&admin, &plain).await.is_none());
}
