//! Platform surface: reset/password by an administrator, and who may.

use tests::*;

#[tokio::test]
async fn reset_password_by_admin() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &[]).await;
    let second = srv.login(&u.name, &u.password).await;
    let new_pw = gen_password();
    let r = srv
        .post(
            "platform/reset/password",
            &json!({"user_name": u.name, "new_password": new_pw}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "reset/password");
    for t in [&u.token, &second] {
        let r = srv
            .post(
                "platform/inquire/auth",
                &json!({"name": u.name, "name_type": 0}),
                Some(t),
            )
            .await;
        expect_unauthorized(&r, "a session of the reset user");
    }
    let r = srv
        .post(
            "login",
            &json!({"name": u.name, "password": u.password}),
            None,
        )
        .await;
    expect_code(&r, 200, 1002, "old password after reset");
    srv.login(&u.name, &new_pw).await;
    // The admin's own session is untouched.
    let r = srv
        .post("platform/list/user", &json!({}), Some(&admin))
        .await;
    expect_ok(&r, "admin after resetting someone");

    let r = srv
        .post(
            "platform/reset/password",
            &json!({"user_name": unique_name("ghost"), "new_password": gen_password()}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_ne!(code(&r.1), 0, "reset of an unknown user must fail: {}", r.1);
}

#[tokio::test]
async fn reset_password_needs_user_edit() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let weak = srv.new_user(&admin, &["UserAccess", "UserAdd"]).await;
    let r = srv
        .post(
            "platform/reset/password",
            &json!({"user_name": "admin", "new_password": "hijacked-Pw-123"}),
            Some(&weak.token),
        )
        .await;
    expect_denied(&r, "UserEdit", "reset/password without UserEdit");
    // The admin password is unchanged and the admin session alive.
    srv.admin_token().await;
    let r = srv
        .post("platform/list/user", &json!({}), Some(&admin))
        .await;
    expect_ok(&r, "admin session after refused reset");
}
