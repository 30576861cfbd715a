//! Platform surface: list/create/edit/delete/enable/disable user (reset/password is in
//! platform_reset_password.rs).

use tests::*;

fn header_num(v: &Value, field: &str) -> i64 {
    v["header"][field]
        .as_i64()
        .unwrap_or_else(|| panic!("header.{field} missing: {v}"))
}

#[tokio::test]
async fn list_user_entries_have_the_documented_fields() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let role = unique_name("lr");
    srv.create_role(&admin, &role).await;
    let name = unique_name("lu");
    let pw = gen_password();
    let phone = gen_phone();
    let r = srv
        .post(
            "platform/create/user",
            &json!({"user_name": name, "user_alias": "Li Bin", "phone_number": phone,
                    "password": pw, "remark": "普通用戶", "role_name": role,
                    "email": "libin@example.com"}),
            Some(&admin),
        )
        .await;
    let data = expect_ok(&r, "create user");
    let user_id = data["user_id"].clone();
    assert!(user_id.is_number(), "create/user data.user_id: {}", r.1);

    let r = srv
        .post("platform/list/user", &json!({"name": name}), Some(&admin))
        .await;
    let data = expect_ok(&r, "list/user by name");
    let users = data["users"].as_array().cloned().unwrap_or_default();
    assert_eq!(users.len(), 1, "exactly one match expected: {}", r.1);
    assert_eq!(header_num(&r.1, "total"), 1, "{}", r.1);
    assert_eq!(header_num(&r.1, "count"), 1, "{}", r.1);
    let u = &users[0];
    for field in [
        "user_id",
        "user_did",
        "user_name",
        "user_alias",
        "phone_number",
        "create_user",
        "login_time",
        "role_name",
        "remark",
        "password",
        "email",
    ] {
        assert!(
            u.get(field).is_some(),
            "list/user entry lacks `{field}`: {u}"
        );
    }
    assert_eq!(u["user_id"], user_id, "{u}");
    assert_eq!(u["user_name"], json!(name), "{u}");
    assert_eq!(u["user_alias"], "Li Bin", "{u}");
    assert_eq!(u["phone_number"], json!(phone), "{u}");
    assert_eq!(u["create_user"], "admin", "{u}");
    assert_eq!(u["role_name"], json!(role), "{u}");
    assert_eq!(u["remark"], "普通用戶", "{u}");
    assert_eq!(u["email"], "libin@example.com", "{u}");
    assert_eq!(u["password"], "", "password must always be \"\": {u}");

    // The admin itself is listed, with its role.
    let a = srv
        .find_user(&admin, "admin")
        .await
        .unwrap_or_else(|| panic!("admin not in list/user"));
    assert_eq!(a["role_name"], "admin", "{a}");
    assert_eq!(a["password"], "", "{a}");
}

#[tokio::test]
async fn list_user_filters_by_substring_and_pages() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let tag = unique_name("pg");
    for suffix in ["a", "b", "c"] {
        srv.create_user(&admin, &format!("x{tag}{suffix}"), &gen_password(), None)
            .await;
    }
    srv.create_user(&admin, &unique_name("other"), &gen_password(), None)
        .await;

    // Substring (not prefix): the tag without its first char, inside "x<tag><suffix>".
    let needle = &tag[1..];
    let r = srv
        .post(
            "platform/list/user",
            &json!({"name": needle, "page_no": 0, "page_size": 0}),
            Some(&admin),
        )
        .await;
    let data = expect_ok(&r, "list/user filtered, all");
    assert_eq!(data["users"].as_array().map(Vec::len), Some(3), "{}", r.1);
    assert_eq!(header_num(&r.1, "total"), 3, "{}", r.1);
    assert_eq!(header_num(&r.1, "count"), 3, "{}", r.1);

    let mut seen = Vec::new();
    for (page_no, expected) in [(0, 2), (1, 1), (2, 0)] {
        let r = srv
            .post(
                "platform/list/user",
                &json!({"name": needle, "page_no": page_no, "page_size": 2}),
                Some(&admin),
            )
            .await;
        let data = expect_ok(&r, &format!("list/user page {page_no}"));
        let users = data["users"].as_array().cloned().unwrap_or_default();
        assert_eq!(users.len(), expected, "page {page_no}: {}", r.1);
        assert_eq!(header_num(&r.1, "total"), 3, "page {page_no}: {}", r.1);
        assert_eq!(
            header_num(&r.1, "count"),
            expected as i64,
            "page {page_no}: {}",
            r.1
        );
        for u in users {
            seen.push(u["user_name"].as_str().unwrap_or_default().to_string());
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3, "pages overlap or miss rows: {seen:?}");

    let r = srv
        .post(
            "platform/list/user",
            &json!({"name": format!("{tag}b")}),
            Some(&admin),
        )
        .await;
    let data = expect_ok(&r, "list/user exact-ish filter");
    assert_eq!(data["users"].as_array().map(Vec::len), Some(1), "{}", r.1);

    // No filter: everyone (admin + 4).
    let r = srv
        .post("platform/list/user", &json!({}), Some(&admin))
        .await;
    expect_ok(&r, "list/user unfiltered");
    assert!(header_num(&r.1, "total") >= 5, "{}", r.1);
    assert_eq!(
        header_num(&r.1, "count"),
        r.1["data"]["users"].as_array().map(Vec::len).unwrap_or(0) as i64,
        "{}",
        r.1
    );
}

#[tokio::test]
async fn list_user_needs_user_access() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &["RoleAccess"]).await;
    let r = srv
        .post("platform/list/user", &json!({}), Some(&u.token))
        .await;
    expect_denied(&r, "UserAccess", "list/user without UserAccess");
}

#[tokio::test]
async fn create_user_success_and_documented_failures() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let baseline = srv.list_users(&admin, None).await.len();
    let name = unique_name("cu");
    let body = |user_name: &str| {
        json!({"user_name": user_name, "user_alias": "A", "phone_number": gen_phone(),
               "password": gen_password(), "remark": "r"})
    };

    let r = srv
        .post("platform/create/user", &body(&name), Some(&admin))
        .await;
    expect_ok(&r, "create user");
    let r = srv
        .post("platform/create/user", &body(&name), Some(&admin))
        .await;
    expect_code(&r, 200, 1005, "duplicate user name");

    let mut b = body(&unique_name("cu"));
    b["role_name"] = json!(unique_name("norole"));
    let r = srv.post("platform/create/user", &b, Some(&admin)).await;
    expect_code(&r, 200, 1006, "unknown role_name");

    let long64 = format!("l{}", "x".repeat(63));
    assert_eq!(long64.len(), 64);
    let r = srv
        .post("platform/create/user", &body(&long64), Some(&admin))
        .await;
    expect_ok(&r, "64-char name");
    let long65 = format!("m{}", "x".repeat(64));
    let r = srv
        .post("platform/create/user", &body(&long65), Some(&admin))
        .await;
    expect_code(&r, 200, 1003, "65-char name");

    let nasty = [
        "a'; drop table x;--",
        "\"}",
        "b\"},\"role_name\":\"admin",
        "c' OR '1'='1",
    ];
    for n in nasty {
        let r = srv
            .post("platform/create/user", &body(n), Some(&admin))
            .await;
        expect_code(&r, 200, 1003, &format!("name {n:?}"));
    }
    let r = srv
        .post("platform/create/user", &body(""), Some(&admin))
        .await;
    expect_code(&r, 200, 1003, "empty user_name");

    // Missing required field.
    for missing in ["user_name", "user_alias", "phone_number", "password"] {
        let mut b = body(&unique_name("miss"));
        if let Some(o) = b.as_object_mut() {
            o.remove(missing);
        }
        let r = srv.post("platform/create/user", &b, Some(&admin)).await;
        expect_code(&r, 200, 1004, &format!("create/user without {missing}"));
    }
    // Wrong JSON types.
    let mut b = body(&unique_name("type"));
    b["phone_number"] = json!(13800000000_i64);
    let r = srv.post("platform/create/user", &b, Some(&admin)).await;
    expect_code(&r, 200, 1004, "phone_number as a number");
    let mut b = body(&unique_name("type"));
    b["user_name"] = json!(["array"]);
    let r = srv.post("platform/create/user", &b, Some(&admin)).await;
    expect_code(&r, 200, 1004, "user_name as an array");
    // Unknown field.
    let mut b = body(&unique_name("unk"));
    b["is_admin"] = json!(true);
    let r = srv.post("platform/create/user", &b, Some(&admin)).await;
    expect_code(&r, 200, 1004, "unknown field is_admin");

    // Only the two good users were stored.
    let users = srv.list_users(&admin, None).await;
    assert_eq!(
        users.len(),
        baseline + 2,
        "bad create/user calls stored something: {users:?}"
    );
    for u in &users {
        let n = u["user_name"].as_str().unwrap_or_default();
        assert!(
            n == "admin" || n == name || n == long64,
            "unexpected stored user {u}"
        );
    }
}

#[tokio::test]
async fn create_user_needs_user_add() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &["UserAccess"]).await;
    let victim = unique_name("nope");
    let r = srv
        .post(
            "platform/create/user",
            &json!({"user_name": victim, "user_alias": "A", "phone_number": gen_phone(),
                    "password": gen_password()}),
            Some(&u.token),
        )
        .await;
    expect_denied(&r, "UserAdd", "create/user without UserAdd");
    assert!(srv.find_user(&admin, &victim).await.is_none());
}

#[tokio::test]
async fn edit_user_changes_only_the_fields_sent() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let role_a = unique_name("ra");
    let role_b = unique_name("rb");
    srv.create_role(&admin, &role_a).await;
    srv.create_role(&admin, &role_b).await;
    let name = unique_name("ed");
    let pw = gen_password();
    let phone = gen_phone();
    let r = srv
        .post(
            "platform/create/user",
            &json!({"user_name": name, "user_alias": "Old Alias", "phone_number": phone,
                    "password": pw, "remark": "old remark", "role_name": role_a,
                    "email": "old@example.com"}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "create");

    let r = srv
        .post(
            "platform/edit/user",
            &json!({"user_name": name, "user_alias": "New Alias"}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "edit alias");
    let u = srv.find_user(&admin, &name).await.expect("user listed");
    assert_eq!(u["user_alias"], "New Alias", "{u}");
    assert_eq!(u["phone_number"], json!(phone), "phone changed: {u}");
    assert_eq!(u["remark"], "old remark", "remark changed: {u}");
    assert_eq!(u["role_name"], json!(role_a), "role changed: {u}");
    assert_eq!(u["email"], "old@example.com", "email changed: {u}");

    let phone2 = gen_phone();
    let r = srv
        .post(
            "platform/edit/user",
            &json!({"user_name": name, "phone_number": phone2, "remark": "new remark",
                    "role_name": role_b, "email": "new@example.com"}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "edit phone/remark/role/email");
    let u = srv.find_user(&admin, &name).await.expect("user listed");
    assert_eq!(u["user_alias"], "New Alias", "alias changed: {u}");
    assert_eq!(u["phone_number"], json!(phone2), "{u}");
    assert_eq!(u["remark"], "new remark", "{u}");
    assert_eq!(u["role_name"], json!(role_b), "{u}");
    assert_eq!(u["email"], "new@example.com", "{u}");
    // The old password is untouched.
    srv.login(&name, &pw).await;

    let pw2 = gen_password();
    let r = srv
        .post(
            "platform/edit/user",
            &json!({"user_name": name, "password": pw2}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "edit password");
    let r = srv
        .post("login", &json!({"name": name, "password": pw}), None)
        .await;
    expect_code(&r, 200, 1002, "old password after edit/user password");
    srv.login(&name, &pw2).await;

    let r = srv
        .post(
            "platform/edit/user",
            &json!({"user_name": unique_name("ghost"), "user_alias": "x"}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1006, "edit unknown user");
    let r = srv
        .post(
            "platform/edit/user",
            &json!({"user_name": name, "role_name": unique_name("norole")}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1006, "edit to unknown role");
    let u = srv.find_user(&admin, &name).await.expect("user listed");
    assert_eq!(
        u["role_name"],
        json!(role_b),
        "failed edit changed the role: {u}"
    );

    let r = srv
        .post(
            "platform/edit/user",
            &json!({"user_name": name, "bogus": 1}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1004, "edit with an unknown field");
}

#[tokio::test]
async fn edit_user_needs_user_edit() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &["UserAccess", "UserAdd"]).await;
    let r = srv
        .post(
            "platform/edit/user",
            &json!({"user_name": "admin", "user_alias": "pwned"}),
            Some(&u.token),
        )
        .await;
    expect_denied(&r, "UserEdit", "edit/user without UserEdit");
    let a = srv.find_user(&admin, "admin").await.expect("admin listed");
    assert_ne!(a["user_alias"], "pwned", "{a}");
}

#[tokio::test]
async fn delete_user_success_and_failures() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let name = unique_name("del");
    let pw = gen_password();
    srv.create_user(&admin, &name, &pw, None).await;
    let r = srv
        .post(
            "platform/delete/user",
            &json!({"user_name": name}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "delete user");
    assert!(
        srv.find_user(&admin, &name).await.is_none(),
        "deleted user still listed"
    );
    let r = srv
        .post("login", &json!({"name": name, "password": pw}), None)
        .await;
    expect_code(&r, 200, 1002, "login of a deleted user");
    let r = srv
        .post(
            "platform/delete/user",
            &json!({"user_name": name}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1006, "delete again");
    let r = srv
        .post(
            "platform/delete/user",
            &json!({"user_name": "admin"}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1009, "admin deletes admin (itself)");

    let boss = srv.new_user(&admin, &["UserAccess", "UserDelete"]).await;
    let r = srv
        .post(
            "platform/delete/user",
            &json!({"user_name": boss.name}),
            Some(&boss.token),
        )
        .await;
    expect_code(&r, 200, 1009, "a user deletes itself");
    let r = srv
        .post(
            "platform/delete/user",
            &json!({"user_name": "admin"}),
            Some(&boss.token),
        )
        .await;
    expect_code(&r, 200, 1009, "another user deletes the built-in admin");
    assert!(srv.find_user(&admin, &boss.name).await.is_some());
    assert!(srv.find_user(&admin, "admin").await.is_some());
    // The refused self-delete did not end the session.
    let r = srv
        .post("platform/list/user", &json!({}), Some(&boss.token))
        .await;
    expect_ok(&r, "boss after refused self-delete");

    let weak = srv.new_user(&admin, &["UserAccess"]).await;
    let r = srv
        .post(
            "platform/delete/user",
            &json!({"user_name": boss.name}),
            Some(&weak.token),
        )
        .await;
    expect_denied(&r, "UserDelete", "delete/user without UserDelete");
    assert!(srv.find_user(&admin, &boss.name).await.is_some());
}

#[tokio::test]
async fn disable_and_enable_user() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let name = unique_name("dis");
    let pw = gen_password();
    srv.create_user(&admin, &name, &pw, None).await;
    let r = srv
        .post(
            "platform/disable/user",
            &json!({"user_name": name}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "disable user");
    let r = srv
        .post("login", &json!({"name": name, "password": pw}), None)
        .await;
    expect_code(&r, 200, 1012, "disabled user, right password");
    let r = srv
        .post(
            "login",
            &json!({"name": name, "password": "wrong-password-9"}),
            None,
        )
        .await;
    expect_code(&r, 200, 1002, "disabled user, wrong password");
    let r = srv
        .post(
            "platform/enable/user",
            &json!({"user_name": name}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "enable user");
    srv.login(&name, &pw).await;

    let r = srv
        .post(
            "platform/disable/user",
            &json!({"user_name": "admin"}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1009, "disable admin");
    let op = srv
        .new_user(&admin, &["UserAccess", "UserEnableOrDisable"])
        .await;
    let r = srv
        .post(
            "platform/disable/user",
            &json!({"user_name": op.name}),
            Some(&op.token),
        )
        .await;
    expect_code(&r, 200, 1009, "disable oneself");
    let r = srv
        .post(
            "platform/disable/user",
            &json!({"user_name": "admin"}),
            Some(&op.token),
        )
        .await;
    expect_code(&r, 200, 1009, "another user disables admin");
    // Both still log in.
    srv.admin_token().await;
    srv.login(&op.name, &op.password).await;
    // op can disable someone else.
    let r = srv
        .post(
            "platform/disable/user",
            &json!({"user_name": name}),
            Some(&op.token),
        )
        .await;
    expect_ok(&r, "op disables a user");
    let r = srv
        .post("login", &json!({"name": name, "password": pw}), None)
        .await;
    expect_code(&r, 200, 1012, "disabled by op");

    let r = srv
        .post(
            "platform/enable/user",
            &json!({"user_name": unique_name("ghost")}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_ne!(
        code(&r.1),
        0,
        "enable of an unknown user must fail: {}",
        r.1
    );

    let weak = srv.new_user(&admin, &["UserAccess"]).await;
    let r = srv
        .post(
            "platform/enable/user",
            &json!({"user_name": name}),
            Some(&weak.token),
        )
        .await;
    expect_denied(&r, "UserEnableOrDisable", "enable without the privilege");
    let r = srv
        .post(
            "platform/disable/user",
            &json!({"user_name": op.name}),
            Some(&weak.token),
        )
        .await;
    expect_denied(&r, "UserEnableOrDisable", "disable without the privilege");
    srv.login(&op.name, &op.password).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_are_consistent() {
    let srv = std::sync::Arc::new(TestServer::start().await);
    let admin = srv.admin_token().await;
    let before = srv.list_users(&admin, None).await.len();

    // The same name from 8 requests at once: exactly one wins, the rest are 1005.
    let name = unique_name("race");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let srv = srv.clone();
        let admin = admin.clone();
        let name = name.clone();
        tasks.push(tokio::spawn(async move {
            srv.post(
                "platform/create/user",
                &json!({"user_name": name, "user_alias": "R", "phone_number": gen_phone(),
                        "password": gen_password()}),
                Some(&admin),
            )
            .await
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        let r = t.await.expect("task");
        expect_one_of(&r, &[0, 1005], "concurrent create of one name");
        codes.push(code(&r.1));
    }
    assert_eq!(
        codes.iter().filter(|c| **c == 0).count(),
        1,
        "exactly one concurrent create may win: {codes:?}"
    );

    // 8 different names at once: all succeed.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let srv = srv.clone();
        let admin = admin.clone();
        let name = format!("{name}p{i}");
        tasks.push(tokio::spawn(async move {
            let r = srv
                .post(
                    "platform/create/user",
                    &json!({"user_name": name, "user_alias": "R", "phone_number": gen_phone(),
                            "password": gen_password()}),
                    Some(&admin),
                )
                .await;
            (name, r)
        }));
    }
    for t in tasks {
        let (n, r) = t.await.expect("task");
        expect_ok(&r, &format!("concurrent create of {n}"));
    }
    assert_eq!(srv.list_users(&admin, None).await.len(), before + 9);
}
