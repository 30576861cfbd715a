//! Many roles per user and scoped assignments through the platform surface: `role_name`
//! with several comma-separated roles, `assign/role`, `revoke/role`, `list/user-role`, and
//! `inquire/auth` with a scope (all beyond the document, the documented answers unchanged
//! for one role). Every refusal has its positive control beside it.

use tests::*;

async fn assign(
    srv: &TestServer,
    token: &str,
    user: &str,
    role: &str,
    scope: &str,
) -> (u16, Value) {
    srv.post(
        "platform/assign/role",
        &json!({"user_name": user, "role_name": role, "scope": scope}),
        Some(token),
    )
    .await
}

async fn revoke(
    srv: &TestServer,
    token: &str,
    user: &str,
    role: &str,
    scope: &str,
) -> (u16, Value) {
    srv.post(
        "platform/revoke/role",
        &json!({"user_name": user, "role_name": role, "scope": scope}),
        Some(token),
    )
    .await
}

async fn inquire_in(srv: &TestServer, token: &str, user: &str, scope: &str) -> Vec<String> {
    let r = srv
        .post(
            "platform/inquire/auth",
            &json!({"name": user, "name_type": 0, "scope": scope}),
            Some(token),
        )
        .await;
    privileges_of(&expect_ok(&r, &format!("inquire {user} in {scope}"))["privilege"])
}

async fn user_roles(srv: &TestServer, token: &str, user: &str) -> (u16, Value) {
    srv.post(
        "platform/list/user-role",
        &json!({"user_name": user}),
        Some(token),
    )
    .await
}

/// A role holding exactly `privileges`.
async fn role_with(srv: &TestServer, admin: &str, prefix: &str, privileges: &[&str]) -> String {
    let role = unique_name(prefix);
    srv.create_role(admin, &role).await;
    srv.grant(admin, &role, privileges).await;
    role
}

async fn holders(srv: &TestServer, token: &str, role: &str) -> i64 {
    let r = srv
        .post(
            "platform/list/role-user",
            &json!({"role_name": role}),
            Some(token),
        )
        .await;
    expect_ok(&r, "list/role-user")["user_count"]
        .as_i64()
        .unwrap_or(-1)
}

#[tokio::test]
async fn several_roles_by_comma_confer_their_union_and_show_in_order() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let readers = role_with(&srv, &admin, "readers", &["UserAccess"]).await;
    let auditors = role_with(&srv, &admin, "auditors", &["RoleAccess"]).await;
    let name = unique_name("both");
    let password = gen_password();
    srv.create_user(
        &admin,
        &name,
        &password,
        Some(&format!(" {auditors} ,{readers},{auditors}")),
    )
    .await;
    let shown = srv.find_user(&admin, &name).await.expect("listed");
    assert_eq!(shown["role_name"], json!(format!("{auditors},{readers}")));
    let login = srv
        .post("login", &json!({"name": name, "password": password}), None)
        .await;
    let data = expect_ok(&login, "login");
    assert_eq!(data["role"], json!(format!("{auditors},{readers}")));
    let token = data["auth_token"].as_str().expect("token").to_string();
    expect_ok(
        &srv.post("platform/list/user", &json!({"page_size": 1}), Some(&token))
            .await,
        "through readers",
    );
    expect_ok(
        &srv.post("platform/list/role", &json!({"page_size": 1}), Some(&token))
            .await,
        "through auditors",
    );
    assert_eq!(
        srv.inquire(&admin, &name, 0).await,
        sorted(&["RoleAccess", "UserAccess"])
    );
    assert_eq!(holders(&srv, &admin, &readers).await, 1);

    // An empty segment is a bad parameter and changes nothing.
    let r = srv
        .post(
            "platform/edit/user",
            &json!({"user_name": name, "role_name": format!("{readers},,{auditors}")}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1003, "an empty role name between commas");
    assert_eq!(
        srv.find_user(&admin, &name).await.expect("listed")["role_name"],
        json!(format!("{auditors},{readers}"))
    );

    // One role again: exactly as documented, and the other's privileges are gone at once.
    let r = srv
        .post(
            "platform/edit/user",
            &json!({"user_name": name, "role_name": auditors}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "one role");
    assert_eq!(
        srv.find_user(&admin, &name).await.expect("listed")["role_name"],
        json!(auditors)
    );
    expect_denied(
        &srv.post("platform/list/user", &json!({"page_size": 1}), Some(&token))
            .await,
        "UserAccess",
        "readers taken away",
    );
    expect_ok(
        &srv.post("platform/list/role", &json!({"page_size": 1}), Some(&token))
            .await,
        "auditors kept",
    );

    // A role name with a comma cannot be created (the list could not name it); a plain
    // one can.
    let r = srv
        .post(
            "platform/create/role",
            &json!({"role_name": "a,b", "remark": ""}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1003, "a comma in a role name");
    srv.create_role(&admin, &unique_name("plain")).await;
}

#[tokio::test]
async fn a_scoped_assignment_holds_within_its_scope_only() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let managers = role_with(&srv, &admin, "managers", &["RoleAuthority", "UserAccess"]).await;
    let readers = role_with(&srv, &admin, "readers", &["UserAccess"]).await;
    let creators = role_with(&srv, &admin, "creators", &["RoleAdd"]).await;
    let manager = srv.new_user(&admin, &[]).await;
    let member = srv.new_user(&admin, &[]).await;

    expect_ok(
        &assign(&srv, &admin, &manager.name, &managers, "org:7").await,
        "admin makes a manager of org:7",
    );
    assert_eq!(
        inquire_in(&srv, &admin, &manager.name, "org:7").await,
        sorted(&["RoleAuthority", "UserAccess"])
    );
    assert_eq!(
        inquire_in(&srv, &admin, &manager.name, "org:8").await,
        sorted(&[])
    );
    assert_eq!(srv.inquire(&admin, &manager.name, 0).await, sorted(&[]));
    expect_denied(
        &srv.post(
            "platform/list/user",
            &json!({"page_size": 1}),
            Some(&manager.token),
        )
        .await,
        "UserAccess",
        "a scoped grant does not hold everywhere",
    );

    // Within org:7 the manager assigns what it holds there; elsewhere nothing.
    expect_ok(
        &assign(&srv, &manager.token, &member.name, &readers, "org:7").await,
        "manager assigns readers in org:7",
    );
    expect_denied(
        &assign(&srv, &manager.token, &member.name, &readers, "org:8").await,
        "RoleAuthority",
        "manager in another organisation",
    );
    expect_denied(
        &assign(&srv, &manager.token, &member.name, &readers, "").await,
        "RoleAuthority",
        "manager globally",
    );
    expect_code(
        &assign(&srv, &manager.token, &member.name, &creators, "org:7").await,
        200,
        1021,
        "a role with a privilege the manager lacks",
    );
    assert_eq!(
        inquire_in(&srv, &admin, &member.name, "org:7").await,
        sorted(&["UserAccess"])
    );
    assert_eq!(srv.inquire(&admin, &member.name, 0).await, sorted(&[]));
    assert_eq!(holders(&srv, &admin, &readers).await, 1);
    let r = user_roles(&srv, &member.token, &member.name).await;
    let roles = expect_ok(&r, "one's own roles")["roles"].clone();
    assert!(
        roles
            .as_array()
            .expect("roles")
            .contains(&json!({"role_name": readers, "scope": "org:7"})),
        "{roles}"
    );
    expect_denied(
        &user_roles(&srv, &member.token, &manager.name).await,
        "UserAccess",
        "another's roles without UserAccess",
    );
    expect_ok(
        &user_roles(&srv, &admin, &member.name).await,
        "with UserAccess",
    );

    // A stronger user is out of the manager's reach; admin's is the control.
    let strong = srv.new_user(&admin, &["RoleAdd"]).await;
    expect_ok(
        &assign(&srv, &admin, &strong.name, &readers, "org:7").await,
        "admin assigns to the strong user",
    );
    expect_code(
        &revoke(&srv, &manager.token, &strong.name, &readers, "org:7").await,
        200,
        1021,
        "the manager revokes from a stronger user",
    );
    expect_ok(
        &revoke(&srv, &admin, &strong.name, &readers, "org:7").await,
        "admin revokes",
    );

    // Revoking within the scope takes the privilege back at once; again is a no-op.
    expect_ok(
        &revoke(&srv, &manager.token, &member.name, &readers, "org:7").await,
        "manager revokes in org:7",
    );
    assert_eq!(
        inquire_in(&srv, &admin, &member.name, "org:7").await,
        sorted(&[])
    );
    expect_ok(
        &revoke(&srv, &manager.token, &member.name, &readers, "org:7").await,
        "revoking again changes nothing",
    );

    // Scopes are kind:id of a declared kind, the id 1–64 letters, digits, `_ - .`.
    let too_long = format!("org:{}", "7".repeat(65));
    for bad in [
        "org", "org:", "tenant:1", "Org:1", "org:a b", "org:x/y", &too_long,
    ] {
        expect_code(
            &assign(&srv, &admin, &member.name, &readers, bad).await,
            200,
            1003,
            &format!("scope {bad:?}"),
        );
    }
    expect_ok(
        &assign(&srv, &admin, &member.name, &readers, "project:17").await,
        "a project scope",
    );
    // A named scope holds exactly where it is named: `org:acme`, not `org:Acme`, and
    // `org:07` is not `org:7`.
    expect_ok(
        &assign(&srv, &admin, &member.name, &readers, "org:acme").await,
        "a named scope",
    );
    expect_ok(
        &assign(&srv, &admin, &member.name, &readers, "org:07").await,
        "a scope whose id has a leading zero",
    );
    assert_eq!(
        inquire_in(&srv, &admin, &member.name, "org:acme").await,
        sorted(&["UserAccess"])
    );
    for elsewhere in ["org:Acme", "org:7"] {
        assert_eq!(
            inquire_in(&srv, &admin, &member.name, elsewhere).await,
            sorted(&[]),
            "{elsewhere}"
        );
    }
}

#[tokio::test]
async fn a_user_holds_at_most_32_roles_and_admin_keeps_its_own() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let member = srv.new_user(&admin, &[]).await;
    // new_user gave one global role; 31 more fill the cap.
    let role = role_with(&srv, &admin, "many", &[]).await;
    for org in 0..31 {
        expect_ok(
            &assign(&srv, &admin, &member.name, &role, &format!("org:{org}")).await,
            &format!("assignment {org}"),
        );
    }
    expect_code(
        &assign(&srv, &admin, &member.name, &role, "org:31").await,
        200,
        1009,
        "the 33rd assignment",
    );
    expect_ok(
        &revoke(&srv, &admin, &member.name, &role, "org:0").await,
        "one revoked",
    );
    expect_ok(
        &assign(&srv, &admin, &member.name, &role, "org:31").await,
        "room again",
    );

    expect_code(
        &revoke(&srv, &admin, "admin", "admin", "").await,
        200,
        1009,
        "the built-in admin keeps its role",
    );
    let other = srv.new_user(&admin, &[]).await;
    expect_ok(
        &revoke(&srv, &admin, &other.name, &other.role, "").await,
        "another user's global role",
    );
}
