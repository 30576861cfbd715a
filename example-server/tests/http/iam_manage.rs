//! IAM surface (seed 004): updating users, changing passwords, deleting one or many, and listing with paging, ordering and filters.

use tests::*;

use crate::iam_support;
use iam_support::*;

#[tokio::test]
async fn update_merges_validates_and_checks_permission() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let alice = register(&srv, "alice").await;
    let bob = register(&srv, "bob").await;
    let path = format!("/v1/users/{}", alice.name);
    let put = |auth, body: Value| {
        let path = path.clone();
        let srv = &srv;
        async move { srv.iam("PUT", &path, auth, Some(&body)).await }
    };
    let me = Auth::Bearer(&alice.token);
    let original = expect_iam_ok(&get_user(&srv, me, &alice.name).await, "get");
    let phone0 = original["phone"].as_str().unwrap_or_default().to_string();

    // Only the nickname sent: the rest is kept.
    let r = put(me, json!({"nickname": "Alice A."})).await;
    let v = expect_iam_ok(&r, "nickname only");
    let id = check_resource(&v, &alice.name, "Alice A.", &alice.email, &phone0);
    assert_eq!(Some(id), original["metadata"]["id"].as_i64());
    assert_eq!(
        v["metadata"]["createdAt"],
        original["metadata"]["createdAt"]
    );

    // Only the email; then only the phone.
    let email2 = fresh_email();
    let r = put(me, json!({"email": email2})).await;
    check_resource(
        &expect_iam_ok(&r, "email only"),
        &alice.name,
        "Alice A.",
        &email2,
        &phone0,
    );
    let r = put(me, json!({"phone": "020-1234 ext. 9"})).await;
    let v = expect_iam_ok(&r, "phone only");
    check_resource(&v, &alice.name, "Alice A.", &email2, "020-1234 ext. 9");

    // A name or a password in the body changes neither.
    let r = put(
        me,
        json!({"metadata": {"name": unique_name("renamed")}, "nickname": "n2", "password": "Other@2099"}),
    )
    .await;
    let v = expect_iam_ok(&r, "with a name and a password");
    check_resource(&v, &alice.name, "n2", &email2, "020-1234 ext. 9");
    srv.iam_login(&alice.name, &alice.password).await;
    expect_iam_error(
        &login_raw(&srv, &alice.name, "Other@2099").await,
        401,
        100206,
        "update does not set the password",
    );
    let stored = expect_iam_ok(&get_user(&srv, me, &alice.name).await, "get");
    assert_eq!(stored, v, "GET answers what PUT answered");

    // Nickname boundaries.
    let r = put(me, json!({"nickname": "n".repeat(30)})).await;
    check_resource(
        &expect_iam_ok(&r, "30 chars"),
        &alice.name,
        &"n".repeat(30),
        &email2,
        "020-1234 ext. 9",
    );
    let stored = expect_iam_ok(&get_user(&srv, me, &alice.name).await, "get");

    // Refusals leave the stored user as it is.
    for (what, body) in [
        ("empty nickname", json!({"nickname": ""})),
        ("31-char nickname", json!({"nickname": "n".repeat(31)})),
        ("empty email", json!({"email": ""})),
        ("invalid email", json!({"email": "not-an-email"})),
        ("101-char email", json!({"email": email_of_len(101)})),
        (
            "valid nickname, invalid email",
            json!({"nickname": "fine", "email": "x@"}),
        ),
    ] {
        expect_iam_error(&put(me, body).await, 400, 100004, what);
    }
    for raw in [
        &b"{"[..],
        b"[1]",
        br#"{"nickname": 7}"#,
        br#"{"email": {"a": 1}}"#,
    ] {
        let r = srv
            .iam_raw("PUT", &path, me, Some(raw.to_vec()), true)
            .await;
        expect_iam_error(&r, 400, 100003, &String::from_utf8_lossy(raw));
    }
    // Another user's: only the admin.
    let r = put(Auth::Bearer(&bob.token), json!({"nickname": "hacked"})).await;
    expect_iam_error(&r, 403, 100207, "bob updates alice");
    let r = srv
        .iam(
            "PUT",
            "/v1/users/admin",
            me,
            Some(&json!({"nickname": "hacked"})),
        )
        .await;
    expect_iam_error(&r, 403, 100207, "alice updates admin");
    let after = expect_iam_ok(&get_user(&srv, me, &alice.name).await, "get");
    assert_eq!(after, stored, "refused updates store nothing");

    let r = put(Auth::Bearer(&admin), json!({"nickname": "by admin"})).await;
    check_resource(
        &expect_iam_ok(&r, "admin updates alice"),
        &alice.name,
        "by admin",
        &email2,
        "020-1234 ext. 9",
    );
    let r = srv
        .iam(
            "PUT",
            &format!("/v1/users/{}", unique_name("ghost")),
            Auth::Bearer(&admin),
            Some(&json!({"nickname": "x"})),
        )
        .await;
    expect_iam_error(&r, 404, 110001, "admin updates an unknown user");
    assert_no_secrets(&srv, &[&alice.password, &bob.password, "Other@2099"]);
}

// ---------------------------------------------------------------------------------------------
// Change password
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn change_password_own_revokes_other_sessions_only() {
    let srv = TestServer::start().await;
    let u = register(&srv, "cp").await;
    let other = srv.iam_login(&u.name, &u.password).await;
    let me = Auth::Bearer(&u.token);

    // Refusals: wrong old (401 100206), invalid new (400 100004), malformed (400 100003).
    let r = change_password(&srv, me, &u.name, "Wrong@2020", "Next@2021").await;
    expect_iam_error(&r, 401, 100206, "wrong oldPassword");
    for bad in [
        "Next@20",
        "Next@2021xxxxxxxx",
        "next@2021",
        "NEXT@2021",
        "Next@abcd",
        "Next2021",
        "",
    ] {
        let r = change_password(&srv, me, &u.name, &u.password, bad).await;
        expect_iam_error(&r, 400, 100004, &format!("newPassword {bad:?}"));
    }
    for raw in [
        &b"{"[..],
        br#"{"oldPassword": 1, "newPassword": "Next@2021"}"#,
        b"[]",
    ] {
        let r = srv
            .iam_raw(
                "PUT",
                &format!("/v1/users/{}/change-password", u.name),
                me,
                Some(raw.to_vec()),
                true,
            )
            .await;
        expect_iam_error(&r, 400, 100003, &String::from_utf8_lossy(raw));
    }
    // Nothing changed, no session ended.
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&other), &u.name).await,
        "other session",
    );
    srv.iam_login(&u.name, &u.password).await;

    // Success on the hyphen path.
    let r = change_password(&srv, me, &u.name, &u.password, "Next@2021").await;
    expect_iam_null(&r, "change-password");
    expect_iam_ok(
        &get_user(&srv, me, &u.name).await,
        "the token used keeps working",
    );
    let r = get_user(&srv, Auth::Bearer(&other), &u.name).await;
    assert_eq!(r.0, 401, "the other session ends at once: {}", r.1);
    expect_iam_error(
        &login_raw(&srv, &u.name, &u.password).await,
        401,
        100206,
        "old password",
    );
    let fresh = srv.iam_login(&u.name, "Next@2021").await;

    // And on the underscore path, back again.
    let r = srv
        .iam(
            "PUT",
            &format!("/v1/users/{}/change_password", u.name),
            Auth::Bearer(&fresh),
            Some(&json!({"oldPassword": "Next@2021", "newPassword": "Back@2022"})),
        )
        .await;
    expect_iam_null(&r, "change_password");
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&fresh), &u.name).await,
        "the token used",
    );
    assert_eq!(
        get_user(&srv, me, &u.name).await.0,
        401,
        "the first token ends now"
    );
    srv.iam_login(&u.name, "Back@2022").await;
    expect_iam_error(
        &login_raw(&srv, &u.name, "Next@2021").await,
        401,
        100206,
        "previous password",
    );
    assert_no_secrets(&srv, &[&u.password, "Next@2021", "Back@2022"]);
}

#[tokio::test]
async fn change_password_of_another_user() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let alice = register(&srv, "alice").await;
    let bob = register(&srv, "bob").await;

    // A non-admin cannot, even knowing the old password.
    let r = change_password(
        &srv,
        Auth::Bearer(&bob.token),
        &alice.name,
        &alice.password,
        "Bob@2021x",
    )
    .await;
    expect_iam_error(&r, 403, 100207, "bob changes alice's password");
    srv.iam_login(&alice.name, &alice.password).await;

    // The admin needs the right old password too.
    let r = change_password(
        &srv,
        Auth::Bearer(&admin),
        &alice.name,
        "Wrong@2020",
        "Adm@2021x",
    )
    .await;
    expect_iam_error(&r, 401, 100206, "admin with a wrong oldPassword");
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&alice.token), &alice.name).await,
        "alice's session",
    );

    let r = change_password(
        &srv,
        Auth::Bearer(&admin),
        &alice.name,
        &alice.password,
        "Adm@2021x",
    )
    .await;
    expect_iam_null(&r, "admin changes alice's password");
    assert_eq!(
        get_user(&srv, Auth::Bearer(&alice.token), &alice.name)
            .await
            .0,
        401,
        "alice's session ends"
    );
    expect_ok_admin(&srv, &admin).await;
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&bob.token), &bob.name).await,
        "bob unaffected",
    );
    srv.iam_login(&alice.name, "Adm@2021x").await;
    expect_iam_error(
        &login_raw(&srv, &alice.name, &alice.password).await,
        401,
        100206,
        "old",
    );

    let r = change_password(
        &srv,
        Auth::Bearer(&admin),
        &unique_name("ghost"),
        "Old@20201",
        "New@20201",
    )
    .await;
    expect_iam_error(&r, 404, 110001, "unknown user");
    assert_no_secrets(&srv, &[&alice.password, "Adm@2021x", "Bob@2021x"]);
}

#[tokio::test]
async fn delete_one() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let alice = register(&srv, "alice").await;
    let bob = register(&srv, "bob").await;
    let alice2 = srv.iam_login(&alice.name, &alice.password).await;

    // Non-admins cannot delete anybody, themselves included.
    for target in [alice.name.as_str(), bob.name.as_str(), "admin"] {
        let r = srv
            .iam(
                "DELETE",
                &format!("/v1/users/{target}"),
                Auth::Bearer(&bob.token),
                None,
            )
            .await;
        expect_iam_error(&r, 403, 100207, &format!("bob deletes {target}"));
    }
    assert!(exists(&srv, &admin, &alice.name).await);
    assert!(exists(&srv, &admin, &bob.name).await);

    // The admin cannot be deleted.
    let r = srv
        .iam("DELETE", "/v1/users/admin", Auth::Bearer(&admin), None)
        .await;
    expect_iam_error(&r, 403, 100207, "delete admin");
    assert!(exists(&srv, &admin, "admin").await);
    srv.iam_login("admin", srv.admin_password()).await;

    // Delete: every session of the user ends at once.
    let r = srv
        .iam(
            "DELETE",
            &format!("/v1/users/{}", alice.name),
            Auth::Bearer(&admin),
            None,
        )
        .await;
    expect_iam_null(&r, "delete alice");
    for t in [&alice.token, &alice2] {
        let r = get_user(&srv, Auth::Bearer(t), &alice.name).await;
        assert_eq!(r.0, 401, "deleted alice's token: {}", r.1);
    }
    let r = get_user(&srv, Auth::Basic(&alice.name, &alice.password), &alice.name).await;
    assert_eq!(r.0, 401, "deleted alice's Basic credentials: {}", r.1);
    assert!(!exists(&srv, &admin, &alice.name).await);
    expect_iam_error(
        &login_raw(&srv, &alice.name, &alice.password).await,
        401,
        100206,
        "login",
    );

    // Idempotent.
    let r = srv
        .iam(
            "DELETE",
            &format!("/v1/users/{}", alice.name),
            Auth::Bearer(&admin),
            None,
        )
        .await;
    expect_iam_null(&r, "delete alice again");
    let r = srv
        .iam(
            "DELETE",
            &format!("/v1/users/{}", unique_name("ghost")),
            Auth::Bearer(&admin),
            None,
        )
        .await;
    expect_iam_null(&r, "delete a user that never existed");
    assert!(exists(&srv, &admin, &bob.name).await);

    // The name is free again.
    let r = create(
        &srv,
        &user_body(&alice.name, "again", "Again@2020", &fresh_email(), "1"),
    )
    .await;
    expect_iam_ok(&r, "re-create alice");
    assert_no_secrets(&srv, &[&alice.password, &bob.password, "Again@2020"]);
}

#[tokio::test]
async fn batch_delete() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let a = register(&srv, "ba").await;
    let b = register(&srv, "bb").await;
    let c = register(&srv, "bc").await;
    let d = register(&srv, "bd").await;
    let count = total(&srv, &admin).await;

    // Non-admin: refused, nothing deleted.
    let path = format!("/v1/users?name={}&name={}", a.name, b.name);
    let r = srv.iam("DELETE", &path, Auth::Bearer(&c.token), None).await;
    expect_iam_error(&r, 403, 100207, "non-admin batch delete");

    // `admin` among the names: refused, nothing deleted.
    let path = format!("/v1/users?name={}&name=admin&name={}", a.name, b.name);
    let r = srv.iam("DELETE", &path, Auth::Bearer(&admin), None).await;
    expect_iam_error(&r, 403, 100207, "batch with admin");
    let path = format!("/v1/users?name=admin&name={}", a.name);
    let r = srv.iam("DELETE", &path, Auth::Bearer(&admin), None).await;
    expect_iam_error(&r, 403, 100207, "batch with admin first");
    assert_eq!(total(&srv, &admin).await, count, "nothing deleted");
    for u in [&a, &b, &c, &d] {
        expect_iam_ok(
            &get_user(&srv, Auth::Bearer(&u.token), &u.name).await,
            "still there",
        );
    }
    assert!(exists(&srv, &admin, "admin").await);

    // Missing names are skipped.
    let path = format!(
        "/v1/users?name={}&name={}&name={}",
        a.name,
        unique_name("ghost"),
        b.name
    );
    let r = srv.iam("DELETE", &path, Auth::Bearer(&admin), None).await;
    expect_iam_null(&r, "batch delete a, ghost, b");
    for u in [&a, &b] {
        assert!(!exists(&srv, &admin, &u.name).await, "{} deleted", u.name);
        assert_eq!(get_user(&srv, Auth::Bearer(&u.token), &u.name).await.0, 401);
    }
    for u in [&c, &d] {
        assert!(exists(&srv, &admin, &u.name).await, "{} kept", u.name);
    }
    assert_eq!(total(&srv, &admin).await, count - 2);

    // Only missing names: fine.
    let path = format!("/v1/users?name={}&name={}", a.name, unique_name("ghost"));
    let r = srv.iam("DELETE", &path, Auth::Bearer(&admin), None).await;
    expect_iam_null(&r, "batch of absent names");

    // With HTTP Basic credentials.
    let path = format!("/v1/users?name={}&name={}", c.name, d.name);
    let r = srv
        .iam(
            "DELETE",
            &path,
            Auth::Basic("admin", srv.admin_password()),
            None,
        )
        .await;
    expect_iam_null(&r, "batch delete with Basic");
    assert_eq!(total(&srv, &admin).await, count - 4);
    assert_no_secrets(&srv, &[&a.password, srv.admin_password()]);
}

// ---------------------------------------------------------------------------------------------
// List
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_paging_ordering_filter_total() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let pre = unique_name("ls");
    let mut names = Vec::new();
    for i in 0..5 {
        let name = format!("{pre}-{i}");
        let r = create(
            &srv,
            &user_body(&name, "n", "List@2020", &fresh_email(), "1"),
        )
        .await;
        expect_iam_ok(&r, &name);
        names.push(name);
    }
    let outsider = register(&srv, "zz").await;
    let newest_first: Vec<String> = names.iter().rev().cloned().collect();
    let sel = format!("fieldSelector=name={pre}");

    // Filter, newest first; paging.
    assert_eq!(list(&srv, &admin, &sel).await, (5, newest_first.clone()));
    assert_eq!(
        list(&srv, &admin, &format!("offset=0&limit=10&{sel}")).await,
        (5, newest_first.clone())
    );
    assert_eq!(
        list(&srv, &admin, &format!("offset=1&limit=2&{sel}")).await,
        (5, newest_first[1..3].to_vec())
    );
    assert_eq!(
        list(&srv, &admin, &format!("limit=2&{sel}")).await,
        (5, newest_first[..2].to_vec()),
        "offset defaults to 0"
    );
    assert_eq!(
        list(&srv, &admin, &format!("offset=2&{sel}")).await,
        (5, newest_first[2..].to_vec()),
        "limit defaults to 1000"
    );
    assert_eq!(
        list(&srv, &admin, &format!("offset=4&limit=10&{sel}")).await,
        (5, newest_first[4..].to_vec())
    );
    assert_eq!(
        list(&srv, &admin, &format!("offset=5&limit=10&{sel}")).await,
        (5, vec![]),
        "totalCount regardless of offset"
    );
    assert_eq!(
        list(&srv, &admin, &format!("offset=100&{sel}")).await,
        (5, vec![])
    );

    // Substring, not prefix; other terms of the selector are ignored (only name is supported).
    assert_eq!(
        list(&srv, &admin, &format!("fieldSelector=name={}", &pre[3..9])).await,
        (5, newest_first.clone())
    );
    assert_eq!(
        list(
            &srv,
            &admin,
            &format!("fieldSelector=name={}", &names[3][2..])
        )
        .await,
        (1, vec![names[3].clone()])
    );
    assert_eq!(
        list(&srv, &admin, &format!("fieldSelector=name={pre},phone=181")).await,
        (5, newest_first.clone())
    );
    assert_eq!(
        list(
            &srv,
            &admin,
            &format!("fieldSelector=name={}", unique_name("none"))
        )
        .await,
        (0, vec![])
    );

    // Everything: newest first, admin last, totalCount = items.
    let (all_total, all) = list(&srv, &admin, "").await;
    assert_eq!(all_total, 7, "admin, five, outsider: {all:?}");
    assert_eq!(all.len(), 7);
    assert_eq!(all[0], outsider.name, "newest first");
    assert_eq!(all[1..6], newest_first[..]);
    assert_eq!(all[6], "admin", "the oldest user last");
    assert_eq!(
        list(&srv, &admin, "offset=0&limit=3").await,
        (7, all[..3].to_vec())
    );
    assert_eq!(
        list(&srv, &admin, "offset=6&limit=3").await,
        (7, all[6..].to_vec())
    );

    // Items are full resources.
    let r = srv
        .iam(
            "GET",
            &format!("/v1/users?{sel}&limit=1"),
            Auth::Bearer(&admin),
            None,
        )
        .await;
    let item = &expect_iam_ok(&r, "list")["items"][0];
    let one = expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&admin), &names[4]).await,
        "get",
    );
    let mut expected = one.clone();
    expected["totalPolicy"] = json!(0);
    assert_eq!(
        item, &expected,
        "an item is the resource plus totalPolicy 0"
    );

    // Non-admin: 403, with or without a filter.
    for q in ["", "?fieldSelector=name=zz", "?offset=0&limit=1"] {
        let r = srv
            .iam(
                "GET",
                &format!("/v1/users{q}"),
                Auth::Bearer(&outsider.token),
                None,
            )
            .await;
        expect_iam_error(&r, 403, 100207, &format!("non-admin list {q}"));
    }
    assert_no_secrets(
        &srv,
        &["List@2020", &outsider.password, srv.admin_password()],
    );
}

#[tokio::test]
async fn list_filter_is_a_literal_substring() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let pre = unique_name("lit");
    // (`A_B` would be the name `a_b`: names are unique regardless of case.)
    for suffix in ["a_b", "axb", "a.b", "A_C"] {
        let name = format!("{pre}{suffix}");
        let r = create(
            &srv,
            &user_body(&name, "n", "Lit@2020x", &fresh_email(), ""),
        )
        .await;
        expect_iam_ok(&r, &name);
    }
    let q = |needle: &str| format!("fieldSelector=name={needle}");
    assert_eq!(
        list(&srv, &admin, &q(&format!("{pre}a_b"))).await,
        (1, vec![format!("{pre}a_b")]),
        "'_' is literal"
    );
    assert_eq!(
        list(&srv, &admin, &q(&format!("{pre}a.b"))).await,
        (1, vec![format!("{pre}a.b")]),
        "'.' is literal"
    );
    assert_eq!(
        list(&srv, &admin, &q(&format!("{pre}A_C"))).await,
        (1, vec![format!("{pre}A_C")]),
        "upper case"
    );
    assert_eq!(
        list(&srv, &admin, &q(&format!("{pre}a_c"))).await,
        (0, vec![]),
        "the filter is case-sensitive"
    );
    assert_eq!(
        list(&srv, &admin, &q(&format!("{pre}a%25"))).await,
        (0, vec![]),
        "'%' is literal"
    );
    assert_eq!(
        list(&srv, &admin, &q(&format!("{pre}%25b"))).await,
        (0, vec![]),
        "'%' is literal"
    );
    assert_eq!(list(&srv, &admin, &q(&pre)).await.0, 4);
}

// ---------------------------------------------------------------------------------------------
// Login, logout, refresh
// ---------------------------------------------------------------------------------------------
