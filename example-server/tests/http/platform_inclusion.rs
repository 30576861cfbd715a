//! Composite roles through the platform surface (`include/role`, beyond the document): an
//! including role confers what it includes, on the very next request; disabling an
//! included role takes its privileges back; cycles and unknown roles are refused; and no
//! one changes what a role includes unless it holds everything that change touches.

use tests::*;

async fn include(srv: &TestServer, token: &str, role: &str, include: &[&str]) -> (u16, Value) {
    srv.post(
        "platform/include/role",
        &json!({"role_name": role, "include": include}),
        Some(token),
    )
    .await
}

async fn list_users(srv: &TestServer, token: &str) -> (u16, Value) {
    srv.post(
        "platform/list/user",
        &json!({"page_no": 0, "page_size": 1}),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn an_including_role_confers_what_it_includes() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let readers = unique_name("readers");
    srv.create_role(&admin, &readers).await;
    srv.grant(&admin, &readers, &["UserAccess"]).await;
    let staff = srv.new_user(&admin, &[]).await;
    expect_denied(
        &list_users(&srv, &staff.token).await,
        "UserAccess",
        "before",
    );

    expect_ok(
        &include(&srv, &admin, &staff.role, &[&readers]).await,
        "include readers in staff",
    );
    expect_ok(
        &list_users(&srv, &staff.token).await,
        "through the included role",
    );
    assert_eq!(
        srv.inquire(&admin, &staff.name, 0).await,
        sorted(&["UserAccess"]),
        "the user's effective privileges"
    );
    assert_eq!(
        srv.inquire(&admin, &staff.role, 1).await,
        sorted(&["UserAccess"]),
        "the including role's"
    );

    let r = srv
        .post(
            "platform/disable/role",
            &json!({"role_name": readers}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "disable readers");
    expect_denied(
        &list_users(&srv, &staff.token).await,
        "UserAccess",
        "a disabled included role confers nothing",
    );
    let r = srv
        .post(
            "platform/enable/role",
            &json!({"role_name": readers}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "enable readers");
    expect_ok(&list_users(&srv, &staff.token).await, "enabled again");

    expect_code(
        &include(&srv, &admin, &readers, &[&staff.role]).await,
        200,
        1003,
        "a cycle",
    );
    expect_code(
        &include(&srv, &admin, &staff.role, &[&staff.role]).await,
        200,
        1003,
        "itself",
    );
    // More than 64 names is a bad parameter, checked before any is looked up.
    let many: Vec<String> = (0..65).map(|i| format!("no-such-role-{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    expect_code(
        &include(&srv, &admin, &staff.role, &many).await,
        200,
        1003,
        "65 included roles",
    );
    expect_code(
        &include(&srv, &admin, &staff.role, &many[..64]).await,
        200,
        1006,
        "64 names are looked up (the control)",
    );
    expect_code(
        &include(&srv, &admin, &staff.role, &["no-such-role"]).await,
        200,
        1006,
        "an unknown role",
    );
    expect_ok(
        &list_users(&srv, &staff.token).await,
        "refusals changed nothing",
    );

    expect_ok(
        &include(&srv, &admin, &staff.role, &[]).await,
        "include nothing",
    );
    expect_denied(
        &list_users(&srv, &staff.token).await,
        "UserAccess",
        "no longer included",
    );
}

#[tokio::test]
async fn including_needs_every_privilege_the_change_touches() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let actor = srv.new_user(&admin, &["RoleAuthority", "UserAccess"]).await;
    let readers = unique_name("readers");
    srv.create_role(&admin, &readers).await;
    srv.grant(&admin, &readers, &["UserAccess"]).await;
    let deleters = unique_name("deleters");
    srv.create_role(&admin, &deleters).await;
    srv.grant(&admin, &deleters, &["UserDelete"]).await;
    let target = unique_name("target");
    srv.create_role(&admin, &target).await;

    // Adding a role holding what the actor lacks is a grant beyond it; its control passes.
    expect_code(
        &include(&srv, &actor.token, &target, &[&deleters]).await,
        200,
        1021,
        "include a stronger role",
    );
    expect_ok(
        &include(&srv, &actor.token, &target, &[&readers]).await,
        "include a role within the actor",
    );

    // A role that is itself stronger cannot be changed.
    expect_code(
        &include(&srv, &actor.token, &deleters, &[&readers]).await,
        200,
        1021,
        "change a stronger role",
    );

    // A stronger role including the target changes with it: refused until it no longer does.
    expect_ok(&include(&srv, &admin, &deleters, &[&target]).await, "admin");
    expect_code(
        &include(&srv, &actor.token, &target, &[]).await,
        200,
        1021,
        "change a role a stronger role includes",
    );
    expect_ok(&include(&srv, &admin, &deleters, &[]).await, "admin");
    expect_ok(
        &include(&srv, &actor.token, &target, &[]).await,
        "the same change once no stronger role includes it",
    );

    // Removing is acting too: admin includes the stronger role, the actor may not drop it.
    expect_ok(&include(&srv, &admin, &target, &[&deleters]).await, "admin");
    expect_code(
        &include(&srv, &actor.token, &target, &[]).await,
        200,
        1021,
        "drop a stronger included role",
    );

    // Without RoleAuthority nothing is looked at.
    let reader = srv.new_user(&admin, &["UserAccess", "RoleAccess"]).await;
    expect_denied(
        &include(&srv, &reader.token, &target, &[]).await,
        "RoleAuthority",
        "no RoleAuthority",
    );
}
