//! Platform surface: list/create/edit/delete/enable/disable role and auth/role (inquire/auth
//! and list/role-user are in platform_role_queries.rs).

use tests::*;

fn header_num(v: &Value, field: &str) -> i64 {
    v["header"][field]
        .as_i64()
        .unwrap_or_else(|| panic!("header.{field} missing: {v}"))
}

fn is_disabled(role: &Value) -> bool {
    role["enabled"] == json!(false) || role["enabled"] == json!(0)
}

fn is_enabled(role: &Value) -> bool {
    role["enabled"] == json!(true) || role["enabled"] == json!(1)
}

#[tokio::test]
async fn list_role_shows_the_builtin_admin_role() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let r = srv
        .post(
            "platform/list/role",
            &json!({"page_no": 0, "page_size": 50}),
            Some(&admin),
        )
        .await;
    let data = expect_ok(&r, "list/role");
    let roles = data["roles"].as_array().cloned().unwrap_or_default();
    let a = roles
        .iter()
        .find(|x| x["role_name"] == "admin")
        .unwrap_or_else(|| panic!("no admin role: {}", r.1));
    for field in [
        "id",
        "role_name",
        "create_user",
        "remark",
        "created_time",
        "role",
        "enabled",
    ] {
        assert!(a.get(field).is_some(), "role entry lacks `{field}`: {a}");
    }
    assert!(a["id"].is_number(), "{a}");
    assert!(a["create_user"].is_string(), "{a}");
    assert!(a["remark"].is_string(), "{a}");
    let ct = a["created_time"].as_str().unwrap_or_default();
    assert!(is_datetime(ct), "created_time not YYYY-MM-DD HH:MM:SS: {a}");
    assert_eq!(privileges_of(&a["role"]), sorted(&ALL_PRIVILEGES), "{a}");
    assert!(is_enabled(a), "admin role should be enabled: {a}");
    assert_eq!(
        header_num(&r.1, "count"),
        roles.len() as i64,
        "header.count: {}",
        r.1
    );
    assert!(header_num(&r.1, "total") >= 1, "{}", r.1);
}

#[tokio::test]
async fn list_role_pages() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    for _ in 0..3 {
        srv.create_role(&admin, &unique_name("pr")).await;
    }
    let all = srv.list_roles(&admin).await;
    let total = all.len() as i64;
    assert!(total >= 4, "admin + 3 roles expected: {all:?}");
    let mut seen = Vec::new();
    let mut page_no = 0;
    loop {
        let r = srv
            .post(
                "platform/list/role",
                &json!({"page_no": page_no, "page_size": 2}),
                Some(&admin),
            )
            .await;
        let data = expect_ok(&r, &format!("list/role page {page_no}"));
        let roles = data["roles"].as_array().cloned().unwrap_or_default();
        assert_eq!(header_num(&r.1, "total"), total, "{}", r.1);
        assert_eq!(header_num(&r.1, "count"), roles.len() as i64, "{}", r.1);
        assert!(roles.len() <= 2, "page_size 2 ignored: {}", r.1);
        if roles.is_empty() {
            break;
        }
        seen.extend(roles.iter().map(|x| x["role_name"].to_string()));
        page_no += 1;
        assert!(page_no < 20, "paging never ends");
    }
    let n = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), n, "pages overlap");
    assert_eq!(n as i64, total, "pages miss rows");
}

#[tokio::test]
async fn create_role_success_and_failures() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let name = unique_name("cr");
    let r = srv
        .post(
            "platform/create/role",
            &json!({"role_name": name, "remark": "自定义角色"}),
            Some(&admin),
        )
        .await;
    let data = expect_ok(&r, "create role");
    let role = srv
        .find_role(&admin, &name)
        .await
        .unwrap_or_else(|| panic!("created role not listed"));
    if let Some(id) = data.get("id") {
        assert_eq!(*id, role["id"], "create/role data.id vs list/role id");
    }
    assert_eq!(role["remark"], "自定义角色", "{role}");
    assert_eq!(role["create_user"], "admin", "{role}");
    assert!(
        privileges_of(&role["role"]).is_empty(),
        "new role holds nothing: {role}"
    );
    assert!(
        is_datetime(role["created_time"].as_str().unwrap_or_default()),
        "{role}"
    );

    // The document's example name, with dashes.
    let r = srv
        .post(
            "platform/create/role",
            &json!({"role_name": "platform-roles-manager"}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "create role platform-roles-manager (no remark)");

    let r = srv
        .post(
            "platform/create/role",
            &json!({"role_name": name}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1005, "duplicate role");
    let r = srv
        .post(
            "platform/create/role",
            &json!({"role_name": "admin"}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1005, "duplicate of the admin role");
    let r = srv
        .post(
            "platform/create/role",
            &json!({"role_name": ""}),
            Some(&admin),
        )
        .await;
    expect_one_of(&r, &[1003, 1004], "empty role_name");
    let r = srv
        .post(
            "platform/create/role",
            &json!({"remark": "x"}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1004, "missing role_name");

    let weak = srv.new_user(&admin, &["RoleAccess"]).await;
    let other = unique_name("nope");
    let r = srv
        .post(
            "platform/create/role",
            &json!({"role_name": other}),
            Some(&weak.token),
        )
        .await;
    expect_denied(&r, "RoleAdd", "create/role without RoleAdd");
    assert!(srv.find_role(&admin, &other).await.is_none());
}

#[tokio::test]
async fn edit_role_renames_and_protects_admin() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let name = unique_name("er");
    srv.create_role(&admin, &name).await;
    srv.grant(&admin, &name, &["UserAccess"]).await;
    let member = unique_name("m");
    let pw = gen_password();
    srv.create_user(&admin, &member, &pw, Some(&name)).await;
    let id = srv.find_role(&admin, &name).await.expect("role listed")["id"].clone();

    let renamed = unique_name("er2");
    let r = srv
        .post(
            "platform/edit/role",
            &json!({"id": id, "role_name": renamed, "remark": "edited"}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "edit role");
    assert!(
        srv.find_role(&admin, &name).await.is_none(),
        "old name still listed"
    );
    let role = srv
        .find_role(&admin, &renamed)
        .await
        .unwrap_or_else(|| panic!("renamed role not listed"));
    assert_eq!(role["id"], id, "{role}");
    assert_eq!(role["remark"], "edited", "{role}");
    assert_eq!(
        privileges_of(&role["role"]),
        sorted(&["UserAccess"]),
        "rename lost the grants: {role}"
    );
    // The member follows the role.
    let r = srv
        .post(
            "platform/list/role-user",
            &json!({"role_name": renamed}),
            Some(&admin),
        )
        .await;
    let data = expect_ok(&r, "list/role-user after rename");
    assert_eq!(data["user_count"], 1, "{}", r.1);
    let t = srv.login(&member, &pw).await;
    let r = srv.post("platform/list/user", &json!({}), Some(&t)).await;
    expect_ok(&r, "member of the renamed role keeps UserAccess");

    let r = srv
        .post(
            "platform/edit/role",
            &json!({"id": 987654321, "role_name": unique_name("x")}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1006, "edit unknown role id");

    let admin_id = srv.find_role(&admin, "admin").await.expect("admin role")["id"].clone();
    let r = srv
        .post(
            "platform/edit/role",
            &json!({"id": admin_id, "role_name": "admin2"}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1009, "rename the admin role");
    let r = srv
        .post(
            "platform/edit/role",
            &json!({"id": admin_id, "role_name": "admin", "remark": "changed"}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1009, "edit the admin role's remark");
    let a = srv
        .find_role(&admin, "admin")
        .await
        .expect("admin role intact");
    assert_ne!(a["remark"], "changed", "{a}");
    assert!(srv.find_role(&admin, "admin2").await.is_none());

    let weak = srv.new_user(&admin, &["RoleAccess"]).await;
    let r = srv
        .post(
            "platform/edit/role",
            &json!({"id": id, "role_name": unique_name("hack")}),
            Some(&weak.token),
        )
        .await;
    expect_denied(&r, "RoleEdit", "edit/role without RoleEdit");
    assert!(srv.find_role(&admin, &renamed).await.is_some());
}

#[tokio::test]
async fn delete_role_success_and_failures() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let empty = unique_name("dr");
    srv.create_role(&admin, &empty).await;
    let used = unique_name("du");
    srv.create_role(&admin, &used).await;
    srv.create_user(&admin, &unique_name("m"), &gen_password(), Some(&used))
        .await;

    let r = srv
        .post(
            "platform/delete/role",
            &json!({"role_name": used}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1009, "delete a role that has users");
    assert!(
        srv.find_role(&admin, &used).await.is_some(),
        "role with users was deleted"
    );
    let r = srv
        .post(
            "platform/list/role-user",
            &json!({"role_name": used}),
            Some(&admin),
        )
        .await;
    assert_eq!(expect_ok(&r, "role-user")["user_count"], 1, "{}", r.1);

    let r = srv
        .post(
            "platform/delete/role",
            &json!({"role_name": "admin"}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1009, "delete the admin role");
    assert!(srv.find_role(&admin, "admin").await.is_some());

    let weak = srv.new_user(&admin, &["RoleAccess"]).await;
    let r = srv
        .post(
            "platform/delete/role",
            &json!({"role_name": empty}),
            Some(&weak.token),
        )
        .await;
    expect_denied(&r, "RoleDelete", "delete/role without RoleDelete");
    assert!(srv.find_role(&admin, &empty).await.is_some());

    let r = srv
        .post(
            "platform/delete/role",
            &json!({"role_name": empty}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "delete an empty role");
    assert!(
        srv.find_role(&admin, &empty).await.is_none(),
        "deleted role still listed"
    );
    let r = srv
        .post(
            "platform/delete/role",
            &json!({"role_name": empty}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1006, "delete it again");
    let r = srv
        .post(
            "platform/delete/role",
            &json!({"role_name": unique_name("ghost")}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1006, "delete an unknown role");
}

#[tokio::test]
async fn enable_and_disable_role() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let name = unique_name("en");
    srv.create_role(&admin, &name).await;
    let r = srv
        .post(
            "platform/disable/role",
            &json!({"role_name": name}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "disable role");
    let role = srv.find_role(&admin, &name).await.expect("role listed");
    assert!(
        is_disabled(&role),
        "disabled role listed as enabled: {role}"
    );
    let r = srv
        .post(
            "platform/enable/role",
            &json!({"role_name": name}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "enable role");
    let role = srv.find_role(&admin, &name).await.expect("role listed");
    assert!(is_enabled(&role), "enabled role listed as disabled: {role}");

    let r = srv
        .post(
            "platform/disable/role",
            &json!({"role_name": "admin"}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1009, "disable the admin role");
    let r = srv
        .post(
            "platform/enable/role",
            &json!({"role_name": "admin"}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1009, "enable the admin role");
    let r = srv
        .post("platform/list/user", &json!({}), Some(&admin))
        .await;
    expect_ok(&r, "admin still has its privileges");

    let r = srv
        .post(
            "platform/disable/role",
            &json!({"role_name": unique_name("ghost")}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_ne!(
        code(&r.1),
        0,
        "disable of an unknown role must fail: {}",
        r.1
    );

    let weak = srv.new_user(&admin, &["RoleAccess"]).await;
    let r = srv
        .post(
            "platform/disable/role",
            &json!({"role_name": name}),
            Some(&weak.token),
        )
        .await;
    expect_denied(
        &r,
        "RoleEnableOrDisable",
        "disable/role without the privilege",
    );
    let r = srv
        .post(
            "platform/enable/role",
            &json!({"role_name": name}),
            Some(&weak.token),
        )
        .await;
    expect_denied(
        &r,
        "RoleEnableOrDisable",
        "enable/role without the privilege",
    );
    assert!(is_enabled(
        &srv.find_role(&admin, &name).await.expect("listed")
    ));
}

#[tokio::test]
async fn auth_role_replaces_the_set_and_validates_codes() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let name = unique_name("ar");
    srv.create_role(&admin, &name).await;
    srv.grant(&admin, &name, &["UserAccess", "RoleAccess", "RoleEdit"])
        .await;
    assert_eq!(
        srv.inquire(&admin, &name, 1).await,
        sorted(&["UserAccess", "RoleAccess", "RoleEdit"])
    );
    srv.grant(&admin, &name, &["RoleAuthority", "RoleEdit"])
        .await;
    assert_eq!(
        srv.inquire(&admin, &name, 1).await,
        sorted(&["RoleAuthority", "RoleEdit"]),
        "auth/role must replace, not add"
    );
    let role = srv.find_role(&admin, &name).await.expect("listed");
    assert_eq!(
        privileges_of(&role["role"]),
        sorted(&["RoleAuthority", "RoleEdit"]),
        "{role}"
    );

    let r = srv
        .post(
            "platform/auth/role",
            &json!({"role_name": name, "privilege": ["UserAccess", "NoSuchPrivilege"]}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1003, "unknown privilege code");
    assert_eq!(
        srv.inquire(&admin, &name, 1).await,
        sorted(&["RoleAuthority", "RoleEdit"]),
        "a refused auth/role changed the set"
    );

    // The document's own example: `Null` (no check) grants nothing beside the codes given.
    srv.grant(&admin, &name, &["Null", "UserAccess"]).await;
    assert_eq!(srv.inquire(&admin, &name, 1).await, sorted(&["UserAccess"]));

    srv.grant(&admin, &name, &[]).await;
    assert!(srv.inquire(&admin, &name, 1).await.is_empty());

    let r = srv
        .post(
            "platform/auth/role",
            &json!({"role_name": unique_name("ghost"), "privilege": ["UserAccess"]}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1006, "auth/role of an unknown role");

    // The built-in admin role cannot be stripped.
    let r = srv
        .post(
            "platform/auth/role",
            &json!({"role_name": "admin", "privilege": []}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1009, "strip the admin role");
    let r = srv
        .post(
            "platform/auth/role",
            &json!({"role_name": "admin", "privilege": ["UserAccess"]}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1009, "reduce the admin role");
    assert_eq!(
        srv.inquire(&admin, "admin", 1).await,
        sorted(&ALL_PRIVILEGES)
    );
    let r = srv
        .post(
            "platform/delete/user",
            &json!({"user_name": unique_name("g")}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1006, "admin keeps UserDelete");

    let weak = srv.new_user(&admin, &["RoleAccess"]).await;
    let r = srv
        .post(
            "platform/auth/role",
            &json!({"role_name": name, "privilege": ["RoleAccess"]}),
            Some(&weak.token),
        )
        .await;
    expect_denied(&r, "RoleAuthority", "auth/role without RoleAuthority");
}

#[tokio::test]
async fn auth_role_cannot_grant_what_the_grantor_lacks() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let granter = srv.new_user(&admin, &["RoleAuthority", "RoleAccess"]).await;
    let target = unique_name("tg");
    srv.create_role(&admin, &target).await;

    let r = srv
        .post(
            "platform/auth/role",
            &json!({"role_name": target, "privilege": ["UserDelete"]}),
            Some(&granter.token),
        )
        .await;
    expect_code(&r, 200, 1021, "granting a code the grantor lacks");
    assert!(srv.inquire(&admin, &target, 1).await.is_empty());

    // Escalating its own role is refused too.
    let r = srv
        .post(
            "platform/auth/role",
            &json!({"role_name": granter.role, "privilege": ["RoleAuthority", "RoleAccess", "UserDelete"]}),
            Some(&granter.token),
        )
        .await;
    expect_code(&r, 200, 1021, "self-escalation");
    assert_eq!(
        srv.inquire(&admin, &granter.role, 1).await,
        sorted(&["RoleAuthority", "RoleAccess"])
    );

    // Granting what it holds is fine.
    let r = srv
        .post(
            "platform/auth/role",
            &json!({"role_name": target, "privilege": ["RoleAccess"]}),
            Some(&granter.token),
        )
        .await;
    expect_ok(&r, "granting a held code");
    assert_eq!(
        srv.inquire(&admin, &target, 1).await,
        sorted(&["RoleAccess"])
    );
}
