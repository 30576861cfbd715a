//! Platform surface: inquire/auth (about oneself, other users and roles) and list/role-user.

use tests::*;

#[tokio::test]
async fn inquire_auth_about_self_others_and_roles() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let nobody = srv.new_user(&admin, &[]).await;
    let viewer = srv.new_user(&admin, &["UserAccess"]).await;
    let role_viewer = srv.new_user(&admin, &["RoleAccess"]).await;

    // Self: no privilege needed.
    assert!(srv.inquire(&nobody.token, &nobody.name, 0).await.is_empty());
    assert_eq!(
        srv.inquire(&viewer.token, &viewer.name, 0).await,
        sorted(&["UserAccess"])
    );
    assert_eq!(
        srv.inquire(&admin, "admin", 0).await,
        sorted(&ALL_PRIVILEGES)
    );

    // Others: needs UserAccess or RoleAccess.
    let r = srv
        .post(
            "platform/inquire/auth",
            &json!({"name": viewer.name, "name_type": 0}),
            Some(&nobody.token),
        )
        .await;
    expect_code(&r, 200, 1000, "nobody asks about another user");
    let r = srv
        .post(
            "platform/inquire/auth",
            &json!({"name": viewer.role, "name_type": 1}),
            Some(&nobody.token),
        )
        .await;
    expect_code(&r, 200, 1000, "nobody asks about a role");
    let r = srv
        .post(
            "platform/inquire/auth",
            &json!({"name": nobody.role, "name_type": 1}),
            Some(&nobody.token),
        )
        .await;
    expect_code(&r, 200, 1000, "nobody asks about its own role (not itself)");

    assert_eq!(
        srv.inquire(&viewer.token, &role_viewer.name, 0).await,
        sorted(&["RoleAccess"])
    );
    assert_eq!(
        srv.inquire(&role_viewer.token, &viewer.role, 1).await,
        sorted(&["UserAccess"])
    );
    assert_eq!(
        srv.inquire(&admin, "admin", 1).await,
        sorted(&ALL_PRIVILEGES)
    );

    let r = srv
        .post(
            "platform/inquire/auth",
            &json!({"name": unique_name("ghost"), "name_type": 0}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1006, "unknown user");
    let r = srv
        .post(
            "platform/inquire/auth",
            &json!({"name": unique_name("ghost"), "name_type": 1}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1006, "unknown role");
    let r = srv
        .post(
            "platform/inquire/auth",
            &json!({"name": "admin", "name_type": 7}),
            Some(&admin),
        )
        .await;
    expect_one_of(&r, &[1003, 1004, 1010], "undefined name_type");
    let r = srv
        .post(
            "platform/inquire/auth",
            &json!({"name": "admin"}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1004, "missing name_type");
}

#[tokio::test]
async fn list_role_user_counts_members() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let name = unique_name("ru");
    srv.create_role(&admin, &name).await;
    let r = srv
        .post(
            "platform/list/role-user",
            &json!({"role_name": name}),
            Some(&admin),
        )
        .await;
    let data = expect_ok(&r, "role-user of an empty role");
    assert_eq!(data["role_name"], json!(name), "{}", r.1);
    assert_eq!(data["user_count"], 0, "{}", r.1);
    for _ in 0..2 {
        srv.create_user(&admin, &unique_name("m"), &gen_password(), Some(&name))
            .await;
    }
    let r = srv
        .post(
            "platform/list/role-user",
            &json!({"role_name": name}),
            Some(&admin),
        )
        .await;
    let data = expect_ok(&r, "role-user");
    assert_eq!(data["role_name"], json!(name), "{}", r.1);
    assert_eq!(data["user_count"], 2, "{}", r.1);

    let r = srv
        .post(
            "platform/list/role-user",
            &json!({"role_name": "admin"}),
            Some(&admin),
        )
        .await;
    let data = expect_ok(&r, "role-user admin");
    assert!(data["user_count"].as_i64().unwrap_or(0) >= 1, "{}", r.1);

    let r = srv
        .post(
            "platform/list/role-user",
            &json!({"role_name": unique_name("ghost")}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1006, "role-user of an unknown role");

    let weak = srv.new_user(&admin, &["UserAccess"]).await;
    let r = srv
        .post(
            "platform/list/role-user",
            &json!({"role_name": name}),
            Some(&weak.token),
        )
        .await;
    expect_denied(&r, "RoleAccess", "role-user without RoleAccess");
    let r = srv
        .post("platform/list/role", &json!({}), Some(&weak.token))
        .await;
    expect_denied(&r, "RoleAccess", "list/role without RoleAccess");
}
