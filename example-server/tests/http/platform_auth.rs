//! Platform surface: login, tokens (headers, forged, expired), logout, refresh, change/password,
//! and the no-secret-leak scan.

use tests::*;

const PLATFORM_PATHS: [&str; 20] = [
    "platform/logout",
    "platform/list/user",
    "platform/create/user",
    "platform/edit/user",
    "platform/delete/user",
    "platform/enable/user",
    "platform/disable/user",
    "platform/list/role",
    "platform/create/role",
    "platform/edit/role",
    "platform/delete/role",
    "platform/enable/role",
    "platform/disable/role",
    "platform/auth/role",
    "platform/inquire/auth",
    "platform/change/password",
    "platform/reset/password",
    "platform/list/role-user",
    "platform/refresh/token",
    "platform/list/oper-log",
];

#[tokio::test]
async fn admin_login_returns_documented_fields() {
    let srv = TestServer::start().await;
    let r = srv
        .post(
            "login",
            &json!({"name": "admin", "password": srv.admin_password()}),
            None,
        )
        .await;
    let data = expect_ok(&r, "admin login");
    for field in [
        "version",
        "user_name",
        "auth_token",
        "login_ip",
        "login_time",
        "role",
        "privilege",
    ] {
        assert!(
            data.get(field).is_some(),
            "login data lacks `{field}`: {}",
            r.1
        );
    }
    assert_eq!(data["user_name"], "admin", "{}", r.1);
    assert_eq!(data["role"], "admin", "{}", r.1);
    let token = data["auth_token"].as_str().unwrap_or_default();
    assert_eq!(
        token.split('.').count(),
        3,
        "auth_token is not a JWT: {}",
        r.1
    );
    let privs = privileges_of(&data["privilege"]);
    for p in ALL_PRIVILEGES {
        assert!(
            privs.iter().any(|x| x == p),
            "admin login privilege lacks {p}: {}",
            r.1
        );
    }
    // The token works.
    let r = srv
        .post("platform/list/user", &json!({}), Some(token))
        .await;
    expect_ok(&r, "list/user with the login token");
}

#[tokio::test]
async fn login_accepts_user_name_field_and_phone_number() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let name = unique_name("ph");
    let pw = gen_password();
    let phone = gen_phone();
    let r = srv
        .post(
            "platform/create/user",
            &json!({"user_name": name, "user_alias": "Phone User", "phone_number": phone, "password": pw}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "create user");

    let r = srv
        .post("login", &json!({"user_name": name, "password": pw}), None)
        .await;
    let data = expect_ok(&r, "login with user_name field");
    assert_eq!(data["user_name"], json!(name), "{}", r.1);

    let r = srv
        .post("login", &json!({"name": phone, "password": pw}), None)
        .await;
    let data = expect_ok(&r, "login with the phone number as name");
    assert_eq!(
        data["user_name"],
        json!(name),
        "phone login must answer the user's name: {}",
        r.1
    );
    let token = data["auth_token"].as_str().unwrap_or_default().to_string();
    // The phone-login token is a normal session: a user about itself needs no privilege.
    srv.inquire(&token, &name, 0).await;

    let r = srv
        .post(
            "login",
            &json!({"name": phone, "password": "wrong-password-1"}),
            None,
        )
        .await;
    expect_code(&r, 200, 1002, "phone login with a wrong password");
}

#[tokio::test]
async fn login_wrong_password_or_unknown_user_is_1002() {
    let srv = TestServer::start().await;
    let r = srv
        .post(
            "login",
            &json!({"name": "admin", "password": "definitely-not-it-1"}),
            None,
        )
        .await;
    expect_code(&r, 200, 1002, "admin with a wrong password");
    let r = srv
        .post(
            "login",
            &json!({"name": unique_name("ghost"), "password": srv.admin_password()}),
            None,
        )
        .await;
    expect_code(&r, 200, 1002, "unknown user");
    let r = srv
        .post(
            "login",
            &json!({"name": "admin' OR '1'='1", "password": "x' OR '1'='1"}),
            None,
        )
        .await;
    expect_one_of(&r, &[1002, 1003], "SQL metacharacters in the login name");
    // Passwords are compared exactly.
    let r = srv
        .post(
            "login",
            &json!({"name": "admin", "password": srv.admin_password().to_uppercase()}),
            None,
        )
        .await;
    expect_code(&r, 200, 1002, "password is case-sensitive");
}

#[tokio::test]
async fn no_token_is_401_on_every_platform_endpoint() {
    let srv = TestServer::start().await;
    for path in PLATFORM_PATHS {
        let r = srv.post(path, &json!({}), None).await;
        expect_unauthorized(&r, &format!("{path} without a token"));
    }
    // Authentication comes before body parsing.
    let r = srv
        .post_raw("platform/create/user", "{not json", &[JSON_CT])
        .await;
    expect_unauthorized(&r, "malformed body without a token");
    // An empty header is no token either.
    let r = srv
        .post_raw("platform/list/user", "{}", &[JSON_CT, ("Auth-Token", "")])
        .await;
    expect_unauthorized(&r, "empty Auth-Token");
    let r = srv
        .post_raw(
            "platform/list/user",
            "{}",
            &[JSON_CT, ("Authorization", "Bearer ")],
        )
        .await;
    expect_unauthorized(&r, "empty Bearer");
}

#[tokio::test]
async fn bearer_header_is_accepted() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    let bearer = format!("Bearer {token}");
    let r = srv
        .post_raw(
            "platform/list/user",
            "{}",
            &[JSON_CT, ("Authorization", &bearer)],
        )
        .await;
    expect_ok(&r, "Authorization: Bearer");
    let basic = format!("Basic {token}");
    let r = srv
        .post_raw(
            "platform/list/user",
            "{}",
            &[JSON_CT, ("Authorization", &basic)],
        )
        .await;
    expect_unauthorized(&r, "Authorization: Basic <jwt> is not a bearer token");
}

#[tokio::test]
async fn doc_content_type_text_plain_is_accepted() {
    // The document's request headers say `Content-Type: text/plain` for the platform calls.
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    let r = srv
        .post_raw(
            "platform/list/user",
            r#"{"page_no":0,"page_size":50}"#,
            &[("Content-Type", "text/plain"), ("Auth-Token", &token)],
        )
        .await;
    expect_ok(&r, "list/user with Content-Type: text/plain");
    let r = srv
        .post_raw(
            "platform/list/role",
            r#"{"page_no":0,"page_size":50}"#,
            &[("Auth-Token", &token)],
        )
        .await;
    expect_ok(&r, "list/role without a Content-Type");
}

#[tokio::test]
async fn garbage_forged_and_expired_tokens_are_401() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    let (header, claims) = jwt_parts(&token);
    // Control: the same claims re-signed with the server's own secret are (normally) accepted,
    // so the refusals below are about the one thing changed. Not part of the contract: only
    // reported.
    let control = sign_jwt(&header, &claims, srv.jwt_secret().as_bytes());
    let r = srv
        .post("platform/list/user", &json!({}), Some(&control))
        .await;
    if code(&r.1) != 0 {
        eprintln!("note: a re-signed copy of a genuine token is refused ({}); the forged-token checks below prove less", r.1);
    }

    let mut bad: Vec<(&str, String)> = vec![
        ("garbage", "garbage".to_string()),
        ("three garbage parts", "a.b.c".to_string()),
        (
            "other secret",
            sign_jwt(&header, &claims, b"some-other-secret-0123456789-abcdef"),
        ),
        ("alg none", alg_none_jwt(&header, "none", &claims)),
        ("alg None", alg_none_jwt(&header, "None", &claims)),
        ("alg NONE", alg_none_jwt(&header, "NONE", &claims)),
        (
            "alg HS256 with no signature",
            alg_none_jwt(&header, "HS256", &claims),
        ),
        (
            "expired, signed with the server's own secret",
            sign_jwt(
                &header,
                &expired_claims(&claims),
                srv.jwt_secret().as_bytes(),
            ),
        ),
    ];
    // Tampered payload, original signature.
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut tampered = claims.clone();
    if let Some(obj) = tampered.as_object_mut() {
        obj.insert("tampered".into(), json!(true));
    }
    let payload = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tampered.to_string())
    };
    parts[1] = &payload;
    bad.push(("tampered payload", parts.join(".")));
    // Truncated signature.
    bad.push(("truncated signature", token[..token.len() - 4].to_string()));

    for (what, t) in &bad {
        let r = srv.post("platform/list/user", &json!({}), Some(t)).await;
        expect_unauthorized(&r, &format!("Auth-Token: {what}"));
        let bearer = format!("Bearer {t}");
        let r = srv
            .post_raw(
                "platform/list/user",
                "{}",
                &[JSON_CT, ("Authorization", &bearer)],
            )
            .await;
        expect_unauthorized(&r, &format!("Bearer: {what}"));
    }
    // The genuine token still works afterwards.
    let r = srv
        .post("platform/list/user", &json!({}), Some(&token))
        .await;
    expect_ok(&r, "the genuine token");
}

#[tokio::test]
async fn logout_kills_the_token_on_the_next_request() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    let r = srv.post("platform/logout", &json!({}), Some(&token)).await;
    let data = expect_ok(&r, "logout");
    assert_eq!(data, json!({}), "logout data must be {{}}: {}", r.1);
    let r = srv
        .post("platform/list/user", &json!({}), Some(&token))
        .await;
    expect_unauthorized(&r, "list/user after logout");
    let r = srv.post("platform/logout", &json!({}), Some(&token)).await;
    expect_unauthorized(&r, "second logout");
    let r = srv
        .post("platform/refresh/token", &json!({}), Some(&token))
        .await;
    expect_unauthorized(&r, "refresh after logout");
    // Logging in again works.
    let token2 = srv.admin_token().await;
    let r = srv
        .post("platform/list/user", &json!({}), Some(&token2))
        .await;
    expect_ok(&r, "list/user with a new login");
}

#[tokio::test]
async fn refresh_token_rotates_and_kills_the_old_one() {
    let srv = TestServer::start().await;
    let old = srv.admin_token().await;
    let r = srv
        .post("platform/refresh/token", &json!({}), Some(&old))
        .await;
    let data = expect_ok(&r, "refresh");
    let new = data["auth_token"]
        .as_str()
        .unwrap_or_else(|| panic!("refresh: no data.auth_token: {}", r.1))
        .to_string();
    assert_ne!(new, old, "refresh must issue a new token");
    assert_eq!(
        new.split('.').count(),
        3,
        "refreshed token is not a JWT: {new}"
    );

    let r = srv.post("platform/list/user", &json!({}), Some(&old)).await;
    expect_unauthorized(&r, "old token right after refresh");
    let r = srv
        .post("platform/refresh/token", &json!({}), Some(&old))
        .await;
    expect_unauthorized(&r, "refreshing again with the old token");
    let r = srv.post("platform/list/user", &json!({}), Some(&new)).await;
    expect_ok(&r, "new token");
    // The new token can itself be refreshed.
    let r = srv
        .post("platform/refresh/token", &json!({}), Some(&new))
        .await;
    let data = expect_ok(&r, "refresh of the refreshed token");
    let newer = data["auth_token"].as_str().unwrap_or_default().to_string();
    let r = srv.post("platform/list/user", &json!({}), Some(&new)).await;
    expect_unauthorized(&r, "second-generation old token");
    let r = srv
        .post("platform/list/user", &json!({}), Some(&newer))
        .await;
    expect_ok(&r, "third-generation token");
}

#[tokio::test]
async fn change_password_wrong_old_is_1007() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &[]).await;
    let r = srv
        .post(
            "platform/change/password",
            &json!({"old_password": "not-the-old-one-1", "new_password": gen_password()}),
            Some(&u.token),
        )
        .await;
    expect_code(&r, 200, 1007, "change/password with a wrong old password");
    // Nothing changed: the old password still logs in, the session lives.
    srv.login(&u.name, &u.password).await;
    let r = srv
        .post(
            "platform/inquire/auth",
            &json!({"name": u.name, "name_type": 0}),
            Some(&u.token),
        )
        .await;
    expect_ok(&r, "session after a failed change/password");
}

#[tokio::test]
async fn change_password_by_a_user_without_privileges() {
    // Any logged-in user may change its own password.
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &[]).await;
    let other_session = srv.login(&u.name, &u.password).await;
    let new_pw = gen_password();
    let r = srv
        .post(
            "platform/change/password",
            &json!({"old_password": u.password, "new_password": new_pw}),
            Some(&u.token),
        )
        .await;
    expect_ok(&r, "change/password");
    let r = srv
        .post(
            "platform/inquire/auth",
            &json!({"name": u.name, "name_type": 0}),
            Some(&other_session),
        )
        .await;
    expect_unauthorized(&r, "the user's other session after change/password");
    let r = srv
        .post(
            "platform/inquire/auth",
            &json!({"name": u.name, "name_type": 0}),
            Some(&u.token),
        )
        .await;
    expect_ok(&r, "the current session after change/password");
    let r = srv
        .post(
            "login",
            &json!({"name": u.name, "password": u.password}),
            None,
        )
        .await;
    expect_code(&r, 200, 1002, "old password after change/password");
    srv.login(&u.name, &new_pw).await;
}

#[tokio::test]
async fn passwords_and_hashes_never_appear_in_responses() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let role = unique_name("leak");
    srv.create_role(&admin, &role).await;
    srv.grant(&admin, &role, &["UserAccess", "RoleAccess"])
        .await;
    let name = unique_name("leak");
    let p1 = gen_password();
    let p2 = gen_password();
    let p3 = gen_password();
    let p4 = gen_password();
    let r = srv
        .post(
            "platform/create/user",
            &json!({"user_name": name, "user_alias": "Leak", "phone_number": gen_phone(),
                    "password": p1, "role_name": role, "email": "leak@example.com"}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "create user");
    let t = srv.login(&name, &p1).await;
    let r = srv
        .post(
            "platform/change/password",
            &json!({"old_password": p1, "new_password": p2}),
            Some(&t),
        )
        .await;
    expect_ok(&r, "change/password");
    let r = srv
        .post(
            "platform/reset/password",
            &json!({"user_name": name, "new_password": p3}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "reset/password");
    let r = srv
        .post(
            "platform/edit/user",
            &json!({"user_name": name, "password": p4}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "edit/user password");
    let t = srv.login(&name, &p4).await;
    for (path, body, tok) in [
        ("platform/list/user", json!({}), &admin),
        ("platform/list/user", json!({"name": name}), &t),
        ("platform/list/role", json!({}), &admin),
        (
            "platform/inquire/auth",
            json!({"name": name, "name_type": 0}),
            &t,
        ),
        (
            "platform/list/role-user",
            json!({"role_name": role}),
            &admin,
        ),
        ("platform/list/oper-log", json!({}), &admin),
        ("platform/list/oper-log", json!({}), &t),
        ("platform/refresh/token", json!({}), &t),
    ] {
        let r = srv.post(path, &body, Some(tok)).await;
        expect_ok(&r, path);
    }
    for u in srv.list_users(&admin, None).await {
        assert_eq!(u["password"], "", "list/user password must be \"\": {u}");
    }
    let bodies = srv.recorded_bodies();
    assert!(bodies.len() > 10);
    for body in &bodies {
        for secret in [
            p1.as_str(),
            p2.as_str(),
            p3.as_str(),
            p4.as_str(),
            srv.admin_password(),
        ] {
            assert!(
                !body.contains(secret),
                "a response contains a plain password {secret:?}: {body}"
            );
        }
        assert!(
            !body.contains("$argon2") && !body.contains("$2b$") && !body.contains("$2a$"),
            "a response contains a password hash: {body}"
        );
    }
}
