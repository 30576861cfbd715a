//! IAM surface (seed 004): login, logout and refresh, credentials required and checked (bearer and Basic), and users logging in across surfaces.

use tests::*;

use crate::iam_support;
use iam_support::*;

#[tokio::test]
async fn login_logout_refresh() {
    let srv = TestServer::start().await;
    let u = register(&srv, "tok").await;

    // JSON and Basic login.
    let r = login_raw(&srv, &u.name, &u.password).await;
    let v = expect_iam_ok(&r, "JSON login");
    let t1 = v["token"].as_str().expect("token").to_string();
    let expire = parse_rfc3339(v["expire"].as_str().unwrap_or_default())
        .unwrap_or_else(|| panic!("expire is not RFC 3339: {v}"));
    assert!(expire > unix_now(), "expire in the future: {v}");
    assert_eq!(t1.split('.').count(), 3, "a JWT: {t1}");
    jwt_parts(&t1);
    let r = srv
        .iam("POST", "/login", Auth::Basic(&u.name, &u.password), None)
        .await;
    let v = expect_iam_ok(&r, "Basic login");
    let t2 = v["token"].as_str().expect("token").to_string();
    assert!(is_rfc3339(v["expire"].as_str().unwrap_or_default()), "{v}");
    assert_ne!(t1, t2);

    // Wrong pairs: 401 100206.
    for (what, r) in [
        (
            "wrong password",
            login_raw(&srv, &u.name, "Wrong@2020").await,
        ),
        (
            "unknown user",
            login_raw(&srv, &unique_name("ghost"), &u.password).await,
        ),
        ("empty password", login_raw(&srv, &u.name, "").await),
        (
            "Basic wrong password",
            srv.iam("POST", "/login", Auth::Basic(&u.name, "Wrong@2020"), None)
                .await,
        ),
    ] {
        expect_iam_error(&r, 401, 100206, what);
    }
    let r = srv
        .iam_raw("POST", "/login", Auth::None, Some(b"{".to_vec()), true)
        .await;
    expect_iam_error(&r, 400, 100003, "malformed login body");
    let r = srv
        .iam_raw(
            "POST",
            "/login",
            Auth::None,
            Some(br#"{"username": 1, "password": 2}"#.to_vec()),
            true,
        )
        .await;
    expect_iam_error(&r, 400, 100003, "wrong types in the login body");

    // Refresh: a new token; the old one is dead at once.
    let r = srv.iam("POST", "/refresh", Auth::Bearer(&t1), None).await;
    let v = expect_iam_ok(&r, "refresh");
    let t3 = v["token"].as_str().expect("token").to_string();
    assert!(is_rfc3339(v["expire"].as_str().unwrap_or_default()), "{v}");
    assert_ne!(t3, t1);
    assert_eq!(
        get_user(&srv, Auth::Bearer(&t1), &u.name).await.0,
        401,
        "old token after refresh"
    );
    assert_eq!(
        srv.iam("POST", "/refresh", Auth::Bearer(&t1), None).await.0,
        401,
        "refresh with the old token"
    );
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&t3), &u.name).await,
        "refreshed token",
    );
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&t2), &u.name).await,
        "another session",
    );

    // Logout: that token only.
    let r = srv.iam("POST", "/logout", Auth::Bearer(&t3), None).await;
    assert_eq!(r.0, 200, "logout: {}", r.1);
    assert_eq!(
        get_user(&srv, Auth::Bearer(&t3), &u.name).await.0,
        401,
        "after logout"
    );
    assert_eq!(
        srv.iam("POST", "/refresh", Auth::Bearer(&t3), None).await.0,
        401
    );
    assert_eq!(
        srv.iam("POST", "/logout", Auth::Bearer(&t3), None).await.0,
        401
    );
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&t2), &u.name).await,
        "the other session",
    );
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&u.token), &u.name).await,
        "the first session",
    );
    assert_no_secrets(&srv, &[&u.password]);
}

#[tokio::test]
async fn credentials_are_required_and_checked() {
    let srv = TestServer::start().await;
    let u = register(&srv, "cred").await;
    let user_path = format!("/v1/users/{}", u.name);
    let cp = format!("/v1/users/{}/change-password", u.name);
    let cp2 = format!("/v1/users/{}/change_password", u.name);
    let body = json!({"oldPassword": u.password, "newPassword": "Next@2021"});
    let protected: Vec<(&str, &str, Option<&Value>)> = vec![
        ("GET", "/v1/users", None),
        ("DELETE", "/v1/users?name=x", None),
        ("GET", &user_path, None),
        ("PUT", &user_path, Some(&body)),
        ("DELETE", &user_path, None),
        ("PUT", &cp, Some(&body)),
        ("PUT", &cp2, Some(&body)),
        ("POST", "/logout", None),
        ("POST", "/refresh", None),
    ];
    let garbage = [
        Auth::Bearer("garbage"),
        Auth::Bearer("a.b.c"),
        Auth::Raw("Bearer"),
        Auth::Raw("Token abc"),
        Auth::Basic(&u.name, "Wrong@2020"),
        Auth::Basic("ghost-nobody", "Wrong@2020"),
        Auth::Raw("Basic !!!notbase64"),
    ];
    for (method, path, body) in &protected {
        let r = srv.iam(method, path, Auth::None, *body).await;
        expect_iam_error(
            &r,
            401,
            100205,
            &format!("{method} {path} without credentials"),
        );
        for auth in garbage {
            let r = srv.iam(method, path, auth, *body).await;
            assert_eq!(r.0, 401, "{method} {path} with {auth:?}: {}", r.1);
            assert!(
                r.1["code"].is_i64(),
                "{method} {path} with {auth:?}: {}",
                r.1
            );
        }
    }
    // A token signed with another secret.
    let (header, claims) = jwt_parts(&u.token);
    let forged = sign_jwt(
        &header,
        &claims,
        b"another-secret-another-secret-0123456789",
    );
    assert_eq!(
        get_user(&srv, Auth::Bearer(&forged), &u.name).await.0,
        401,
        "forged token"
    );
    // Nothing happened: the user is there with its password.
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&u.token), &u.name).await,
        "still there",
    );
    srv.iam_login(&u.name, &u.password).await;
    assert_no_secrets(&srv, &[&u.password]);
}

#[tokio::test]
async fn basic_credentials_on_protected_endpoints() {
    let srv = TestServer::start().await;
    let admin_pw = srv.admin_password().to_string();
    let admin_basic = Auth::Basic("admin", &admin_pw);
    // As in `curl -u foo:Foo@2020`.
    let r = create(
        &srv,
        &user_body("foo", "foo", "Foo@2020", "foo@foxmail.com", "1812884xxxx"),
    )
    .await;
    expect_iam_ok(&r, "create foo");
    let foo = Auth::Basic("foo", "Foo@2020");
    let bar = register(&srv, "bar").await;

    let r = get_user(&srv, foo, "foo").await;
    check_resource(
        &expect_iam_ok(&r, "foo gets itself"),
        "foo",
        "foo",
        "foo@foxmail.com",
        "1812884xxxx",
    );
    expect_iam_error(
        &get_user(&srv, foo, &bar.name).await,
        403,
        100207,
        "foo gets bar",
    );
    let r = srv.iam("GET", "/v1/users", foo, None).await;
    expect_iam_error(&r, 403, 100207, "foo lists");
    let r = srv
        .iam(
            "PUT",
            "/v1/users/foo",
            foo,
            Some(&json!({"nickname": "foo1"})),
        )
        .await;
    assert_eq!(
        expect_iam_ok(&r, "foo updates itself")["nickname"],
        json!("foo1")
    );

    let r = srv
        .iam("GET", "/v1/users?fieldSelector=name=foo", admin_basic, None)
        .await;
    assert_eq!(
        expect_iam_ok(&r, "admin lists with Basic")["totalCount"],
        json!(1)
    );
    expect_iam_ok(
        &get_user(&srv, admin_basic, "foo").await,
        "admin gets foo with Basic",
    );

    // A session of foo's, then a password change with Basic: the session ends.
    let foo_token = srv.iam_login("foo", "Foo@2020").await;
    let r = srv
        .iam(
            "PUT",
            "/v1/users/foo/change-password",
            foo,
            Some(&json!({"oldPassword": "Foo@2020", "newPassword": "Foo@2021"})),
        )
        .await;
    expect_iam_null(&r, "change password with Basic");
    assert_eq!(get_user(&srv, Auth::Bearer(&foo_token), "foo").await.0, 401);
    assert_eq!(
        get_user(&srv, foo, "foo").await.0,
        401,
        "Basic with the old password"
    );
    let foo = Auth::Basic("foo", "Foo@2021");
    expect_iam_ok(
        &get_user(&srv, foo, "foo").await,
        "Basic with the new password",
    );

    // Delete with Basic; then foo's Basic credentials are refused.
    let r = srv.iam("DELETE", "/v1/users/foo", admin_basic, None).await;
    expect_iam_null(&r, "admin deletes foo with Basic");
    assert_eq!(
        get_user(&srv, foo, "foo").await.0,
        401,
        "deleted foo's Basic credentials"
    );
    assert!(!exists(&srv, &srv.iam_admin_token().await, "foo").await);
    let r = srv
        .iam("DELETE", "/v1/users/admin", admin_basic, None)
        .await;
    expect_iam_error(&r, 403, 100207, "delete admin with Basic");

    // A ':' in the password: only the first ':' separates the user.
    let r = create(&srv, &user_body("col", "c", "Co:l2020", &fresh_email(), "")).await;
    expect_iam_ok(&r, "create col");
    expect_iam_ok(
        &get_user(&srv, Auth::Basic("col", "Co:l2020"), "col").await,
        "Basic with a ':' in the password",
    );
    assert_no_secrets(
        &srv,
        &["Foo@2020", "Foo@2021", &admin_pw, &bar.password, "Co:l2020"],
    );
}

// ---------------------------------------------------------------------------------------------
// Cross-surface
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn users_log_in_across_surfaces() {
    let srv = TestServer::start().await;
    // IAM-created → platform login.
    let iam_user = register(&srv, "iamu").await;
    let platform_token = srv.login(&iam_user.name, &iam_user.password).await;
    assert!(!platform_token.is_empty());
    let dotted = format!("{}.a-b_c", unique_name("X"));
    let r = create(
        &srv,
        &user_body(&dotted, "d", "Dot.t3d!", &fresh_email(), ""),
    )
    .await;
    expect_iam_ok(&r, "create a name with '.', '-' and '_'");
    srv.login(&dotted, "Dot.t3d!").await;

    // Platform-created → IAM login, and the IAM resource.
    let admin = srv.admin_token().await;
    let name = unique_name("platu");
    let password = gen_password();
    let r = srv
        .post(
            "platform/create/user",
            &json!({
                "user_name": name,
                "user_alias": "Plat U",
                "phone_number": gen_phone(),
                "password": password,
            }),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "platform create/user");
    let token = srv.iam_login(&name, &password).await;
    let r = get_user(&srv, Auth::Bearer(&token), &name).await;
    let v = expect_iam_ok(&r, "platform user gets itself on IAM");
    assert_eq!(v["metadata"]["name"], json!(name));
    assert_eq!(v["nickname"], json!("Plat U"));
    assert_eq!(v["password"], json!(""));

    // A platform name outside the IAM name rule still logs in on /login.
    let name2 = format!("李彬{}", unique_name(""));
    let password2 = gen_password();
    let r = srv
        .post(
            "platform/create/user",
            &json!({
                "user_name": name2,
                "user_alias": "Li Bin",
                "phone_number": gen_phone(),
                "password": password2,
            }),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "platform create/user with a non-ASCII name");
    srv.iam_login(&name2, &password2).await;
    assert_no_secrets(
        &srv,
        &[&iam_user.password, &password, &password2, "Dot.t3d!"],
    );
}

// ---------------------------------------------------------------------------------------------
// Properties: generated names and passwords on the rule boundaries, against one server
// ---------------------------------------------------------------------------------------------
