//! Gateway projects as scopes: every project lies within its owner's `user:ID` scope, where
//! the owner holds the project-owner role; `project/delete` checks ProjectDelete within the
//! project's scope, so the owner, a global admin, or someone granted it within that project
//! may delete it, and no one else (answered as an unknown project, as before).

use tests::*;

use crate::gateway_support;
use gateway_support::*;

/// The id of the project with API key `key` in `owner`'s list.
async fn project_id(s: &TestServer, owner: &str, key: &str) -> i64 {
    let r = list_projects(s, owner, None).await;
    expect_ok(&r, "list")["list"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["project_key"] == key)
        .and_then(|p| p["id"].as_i64())
        .expect("the project is listed")
}

async fn delete(s: &TestServer, token: &str, id: i64) -> (u16, Value) {
    gw(s, "project/delete", &json!({"id": id}), token).await
}

#[tokio::test]
async fn project_deletion_is_a_check_within_the_project() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let owner = s.new_user(&admin, &[]).await;
    let other = s.new_user(&admin, &[]).await;
    let mut ids = Vec::new();
    for n in 0..4 {
        let (key, _) = create_project(&s, &owner.token, &format!("p{n}")).await;
        ids.push(project_id(&s, &owner.token, &key).await);
    }
    let owner_id = s
        .find_user(&admin, &owner.name)
        .await
        .and_then(|u| u["user_id"].as_i64())
        .expect("owner id");
    let r = s
        .post(
            "platform/list/user-role",
            &json!({"user_name": owner.name}),
            Some(&admin),
        )
        .await;
    let roles = expect_ok(&r, "owner's roles")["roles"].clone();
    assert!(
        roles
            .as_array()
            .expect("roles")
            .contains(&json!({"role_name": "project-owner", "scope": format!("user:{owner_id}")})),
        "one owner assignment for all its projects: {roles}"
    );

    // Another user: refused as before; the owner: allowed (the control).
    expect_header(
        &delete(&s, &other.token, ids[0]).await,
        1006,
        "other deletes",
    );
    expect_ok(&delete(&s, &owner.token, ids[0]).await, "owner deletes");
    // A global admin deletes anyone's.
    expect_ok(&delete(&s, &admin, ids[1]).await, "admin deletes");
    // Granted within one project: that one, not the owner's others.
    let deleters = unique_name("deleters");
    s.create_role(&admin, &deleters).await;
    s.grant(&admin, &deleters, &["ProjectDelete"]).await;
    let r = s
        .post(
            "platform/assign/role",
            &json!({"user_name": other.name, "role_name": deleters, "scope": format!("project:{}", ids[2])}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "grant within one project");
    expect_header(
        &delete(&s, &other.token, ids[3]).await,
        1006,
        "another project",
    );
    expect_ok(
        &delete(&s, &other.token, ids[2]).await,
        "the granted project",
    );
    expect_header(
        &delete(&s, &owner.token, ids[2]).await,
        1006,
        "deleted already",
    );
    expect_ok(
        &delete(&s, &owner.token, ids[3]).await,
        "the owner's last one",
    );
}

#[tokio::test]
async fn a_global_project_deleter_deletes_no_project_of_a_stronger_owner() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let (admins_key, _) = create_project(&s, &admin, "admins").await;
    let admins_project = project_id(&s, &admin, &admins_key).await;
    let plain = s.new_user(&admin, &[]).await;
    let (plain_key, _) = create_project(&s, &plain.token, "plain").await;
    let plain_project = project_id(&s, &plain.token, &plain_key).await;
    let deleter = s.new_user(&admin, &["ProjectDelete"]).await;
    // The admin's project: its owner is stronger than the deleter.
    expect_header(
        &delete(&s, &deleter.token, admins_project).await,
        1021,
        "the admin's project",
    );
    let r = list_projects(&s, &admin, None).await;
    assert!(
        expect_ok(&r, "admin's projects")["list"]
            .as_array()
            .is_some_and(|l| l.iter().any(|p| p["id"] == admins_project)),
        "the admin's project is still there: {}",
        r.1
    );
    // The control: a project of an owner within the deleter goes.
    expect_ok(
        &delete(&s, &deleter.token, plain_project).await,
        "a plain owner's project",
    );
}
