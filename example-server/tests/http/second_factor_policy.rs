//! Roles that require a second factor, and step-up for sensitive actions, through the
//! real binary: members reach only enrolment until they enrol (1034 on the platform, 403
//! on IAM), the built-in admin is never locked out, lifting the rule obeys containment,
//! and a user with a second factor proves it anew for resets and grants while a user
//! without one sees no change.

use std::time::Duration;

use tests::*;

async fn require(s: &TestServer, token: &str, role: &str, required: bool) -> (u16, Value) {
    s.post(
        "platform/mfa/require/role",
        &json!({"role_name": role, "required": required}),
        Some(token),
    )
    .await
}

async fn list_users(s: &TestServer, token: &str) -> (u16, Value) {
    s.post(
        "platform/list/user",
        &json!({"page_no": 0, "page_size": 1}),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn members_of_a_role_requiring_a_second_factor_reach_only_enrolment() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &["UserAccess"]).await;
    let peer = s.new_user(&admin, &["UserAccess"]).await;
    expect_ok(&list_users(&s, &u.token).await, "before the rule");

    expect_ok(&require(&s, &admin, &u.role, true).await, "require");
    // The very next request is refused, on every surface, but enrolment goes on.
    let r = list_users(&s, &u.token).await;
    expect_code(&r, 200, 1034, "a member without a second factor");
    assert_eq!(
        r.1["header"]["message"]
            .as_str()
            .map(|m| m.contains("enrol")),
        Some(true)
    );
    let iam = s.iam_login(&u.name, &u.password).await;
    let r = s
        .iam(
            "GET",
            &format!("/v1/users/{}", u.name),
            Auth::Bearer(&iam),
            None,
        )
        .await;
    assert_eq!((r.0, r.1["code"].clone()), (403, json!(100212)), "{}", r.1);
    expect_ok(
        &s.post("platform/inquire/mfa", &json!({}), Some(&u.token))
            .await,
        "enrolment stays reachable",
    );
    // Another role's member is not affected (the control).
    expect_ok(
        &list_users(&s, &peer.token).await,
        "a member of another role",
    );

    // Once enrolled, the member gets through again.
    let enrolled = s.enrol_totp(&u.token).await;
    expect_ok(&list_users(&s, &u.token).await, "after enrolment");
    let token = s
        .login_with_code(&u.name, &u.password, &totp_now(&enrolled.secret, 1))
        .await;
    expect_ok(&list_users(&s, &token).await, "a new session");
}

#[tokio::test]
async fn the_rule_is_the_admins_it_reaches_through_composites_and_never_locks_admin_out() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let strong = s.new_user(&admin, &["UserAccess", "UserDelete"]).await;
    let weak_role = unique_name("weak");
    s.create_role(&admin, &weak_role).await;
    s.grant(&admin, &weak_role, &["RoleEdit"]).await;
    let editor = s.new_user(&admin, &ALL_PRIVILEGES).await;

    // Not even a user holding every privilege sets or lifts the rule: it binds every
    // member of the role, however strong.
    for role in [strong.role.as_str(), weak_role.as_str(), "admin"] {
        for required in [true, false] {
            let r = require(&s, &editor.token, role, required).await;
            expect_code(&r, 200, 1000, "the rule is the admin's");
        }
    }
    expect_ok(&list_users(&s, &strong.token).await, "nothing changed");
    // The admin's rule holds, and reaches members of a role that includes the flagged one.
    expect_ok(&require(&s, &admin, &weak_role, true).await, "require");
    let composite = s.new_user(&admin, &["UserAccess"]).await;
    let r = s
        .post(
            "platform/include/role",
            &json!({"role_name": composite.role, "include": [weak_role]}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "include the flagged role");
    expect_code(
        &list_users(&s, &composite.token).await,
        200,
        1034,
        "a member through a composite role",
    );
    expect_ok(&require(&s, &admin, &weak_role, false).await, "lift");
    expect_ok(&list_users(&s, &composite.token).await, "lifted");

    // The admin role itself may require it: admin signs in and enrols all the same.
    expect_ok(
        &require(&s, &admin, "admin", true).await,
        "require for admin",
    );
    expect_code(
        &list_users(&s, &admin).await,
        200,
        1034,
        "admin before enrolling",
    );
    let fresh = s.admin_token().await;
    let enrolled = s.enrol_totp(&fresh).await;
    expect_ok(&list_users(&s, &fresh).await, "admin after enrolling");
    assert_eq!(enrolled.recovery_codes.len(), 10);
    // Enrolling ended the admin's sessions from before it.
    let r = list_users(&s, &admin).await;
    assert_eq!(r.0, 401, "a session from before enrolment: {}", r.1);
}

#[tokio::test]
async fn sensitive_actions_ask_a_second_factor_proven_recently() {
    let s = TestServer::start_with(&["--step-up-secs", "2"]).await;
    let admin = s.admin_token().await;
    let target = s.new_user(&admin, &[]).await;
    let plain = s.new_user(&admin, &["UserEdit"]).await;
    let guarded = s.new_user(&admin, &["UserEdit"]).await;
    let enrolled = s.enrol_totp(&guarded.token).await;
    let token = s
        .login_with_code(
            &guarded.name,
            &guarded.password,
            &totp_now(&enrolled.secret, 1),
        )
        .await;
    let reset = |t: String| {
        let s = &s;
        let name = target.name.clone();
        async move {
            s.post(
                "platform/reset/password",
                &json!({"user_name": name, "new_password": gen_password()}),
                Some(&t),
            )
            .await
        }
    };
    expect_ok(&reset(token.clone()).await, "fresh second factor");
    // The session enrolled in proved a password only: refused for a user with a factor.
    let r = reset(guarded.token.clone()).await;
    expect_code(
        &r,
        200,
        1033,
        "password-only session of a user with a factor",
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let r = reset(token.clone()).await;
    expect_code(&r, 200, 1033, "a second factor proven too long ago");
    assert_eq!(
        r.1["header"]["message"]
            .as_str()
            .map(|m| m.contains("within 2 s")),
        Some(true),
        "{}",
        r.1
    );
    // Proving a code anew on the session (a step-up) lets it through again.
    let verify = |t: String, code: String| {
        let s = &s;
        async move {
            s.post("platform/mfa/verify", &json!({"code": code}), Some(&t))
                .await
        }
    };
    let r = verify(token.clone(), "000000-wrong".into()).await;
    expect_code(&r, 200, 1008, "step-up with a wrong code");
    expect_code(&reset(token.clone()).await, 200, 1033, "still stale");
    let r = verify(token.clone(), enrolled.recovery_codes[0].clone()).await;
    expect_ok(&r, "step-up with a recovery code");
    expect_ok(&reset(token.clone()).await, "fresh again");
    // The password-only session of the enrolling user gains the factor the same way.
    let r = verify(guarded.token.clone(), enrolled.recovery_codes[1].clone()).await;
    expect_ok(&r, "step-up of a password-only session");
    expect_ok(
        &reset(guarded.token.clone()).await,
        "now with a second factor",
    );
    // A user without a second factor sees the documented answer, however old the session.
    expect_ok(
        &reset(plain.token.clone()).await,
        "no second factor: no step-up",
    );
}
