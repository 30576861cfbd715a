//! The IAM surface (seed 004): creating and reading users of the REST resource `/v1/users`,
//! the documented client session and `/healthz`, over real HTTP against the built
//! `example-server` (updates, passwords, deletes and lists: iam_manage.rs; login, logout,
//! refresh and credentials: iam_sessions.rs).
//!
//! Errors are an HTTP status plus `{"code": N, "message": "..."}`; successes are the resource,
//! a list, a token or `null`.

use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use std::cell::RefCell;
use std::collections::HashSet;
use tests::*;

use crate::iam_support;
use iam_support::*;

#[tokio::test]
async fn documented_client_session() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let auth = Auth::Bearer(&admin);

    // Delete foo if present (it is not: deleting is idempotent).
    let r = srv.iam("DELETE", "/v1/users/foo", auth, None).await;
    expect_iam_null(&r, "delete-if-present foo");

    // 1. Create, with the document's body and its Bearer header.
    let body = json!({
        "metadata": {"name": "foo"},
        "nickname": "foo",
        "password": "Foo@2020",
        "email": "foo@foxmail.com",
        "phone": "1812884xxxx"
    });
    let r = srv.iam("POST", "/v1/users", auth, Some(&body)).await;
    let created = expect_iam_ok(&r, "create foo");
    let id = check_resource(&created, "foo", "foo", "foo@foxmail.com", "1812884xxxx");

    // 7. List with the document's query.
    let r = srv
        .iam(
            "GET",
            "/v1/users?offset=0&limit=10&fieldSelector=name=foo",
            auth,
            None,
        )
        .await;
    let listed = expect_iam_ok(&r, "list foo");
    let mut item = created.clone();
    item["totalPolicy"] = json!(0);
    assert_eq!(listed, json!({"totalCount": 1, "items": [item]}), "list");

    // 6. Get.
    let r = get_user(&srv, auth, "foo").await;
    assert_eq!(expect_iam_ok(&r, "get foo"), created, "get foo");

    // 5. Update, with the document's body (nickname foo1).
    let body = json!({
        "metadata": {"name": "foo"},
        "nickname": "foo1",
        "password": "Foo@2020",
        "email": "foo@foxmail.com",
        "phone": "1812884xxxx"
    });
    let r = srv.iam("PUT", "/v1/users/foo", auth, Some(&body)).await;
    let updated = expect_iam_ok(&r, "update foo");
    assert_eq!(
        check_resource(&updated, "foo", "foo1", "foo@foxmail.com", "1812884xxxx"),
        id
    );
    assert_eq!(
        updated["metadata"]["createdAt"], created["metadata"]["createdAt"],
        "createdAt is kept"
    );
    let r = get_user(&srv, auth, "foo").await;
    assert_eq!(expect_iam_ok(&r, "get foo after update"), updated);

    // 4. Change the password (the documented underscore path), with the admin's token as in
    // the document; foo's own earlier session ends, the admin's does not.
    let foo_token = srv.iam_login("foo", "Foo@2020").await;
    let r = srv
        .iam(
            "PUT",
            "/v1/users/foo/change_password",
            auth,
            Some(&json!({"oldPassword": "Foo@2020", "newPassword": "Foo@2021"})),
        )
        .await;
    expect_iam_null(&r, "change_password foo");
    expect_iam_ok(
        &get_user(&srv, auth, "foo").await,
        "admin token still works",
    );
    let r = get_user(&srv, Auth::Bearer(&foo_token), "foo").await;
    assert_eq!(r.0, 401, "foo's earlier token after the change: {}", r.1);
    expect_iam_error(
        &login_raw(&srv, "foo", "Foo@2020").await,
        401,
        100206,
        "old password",
    );
    let foo_token = srv.iam_login("foo", "Foo@2021").await;
    expect_iam_ok(
        &get_user(&srv, Auth::Bearer(&foo_token), "foo").await,
        "foo with the new password",
    );

    // 3. Delete.
    expect_iam_null(
        &srv.iam("DELETE", "/v1/users/foo", auth, None).await,
        "delete foo",
    );
    assert!(!exists(&srv, &admin, "foo").await);
    let r = get_user(&srv, Auth::Bearer(&foo_token), "foo").await;
    assert_eq!(r.0, 401, "deleted foo's token: {}", r.1);

    // 2. Batch delete with the document's query (both already absent).
    expect_iam_null(
        &srv.iam("DELETE", "/v1/users?name=foo&name=fooo", auth, None)
            .await,
        "batch delete foo, fooo",
    );
    assert_eq!(list(&srv, &admin, "fieldSelector=name=foo").await.0, 0);

    assert_no_secrets(&srv, &["Foo@2020", "Foo@2021", srv.admin_password()]);
}

// ---------------------------------------------------------------------------------------------
// Health, unknown paths
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn healthz_and_unknown_paths() {
    let srv = TestServer::start().await;
    let r = srv.iam("GET", "/healthz", Auth::None, None).await;
    assert_eq!(r, (200, json!({"status": "ok"})), "healthz");

    let admin = srv.iam_admin_token().await;
    for path in ["/v1/nothing", "/v1/users/admin/nothing", "/v1/secrets/x"] {
        for auth in [Auth::None, Auth::Bearer(&admin)] {
            let r = srv.iam("GET", path, auth, None).await;
            expect_iam_error(&r, 404, 100006, &format!("GET {path} ({auth:?})"));
        }
    }
    let r = srv
        .iam(
            "POST",
            "/v1/nothing",
            Auth::Bearer(&admin),
            Some(&json!({})),
        )
        .await;
    expect_iam_error(&r, 404, 100006, "POST /v1/nothing");
}

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn self_registration_answers_the_resource() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let before = srv
        .iam("GET", "/v1/users", Auth::Bearer(&admin), None)
        .await;
    let newest_before = expect_iam_ok(&before, "list")["items"][0]["metadata"]["id"]
        .as_i64()
        .unwrap_or(0);

    let name = unique_name("Reg.A-b_");
    let email = fresh_email();
    let t0 = unix_now();
    let r = create(
        &srv,
        &user_body(&name, "Réka 李", "Aa1!aaaa", &email, "+36 (1) 555-0101"),
    )
    .await;
    let v = expect_iam_ok(&r, "self-registration");
    let id = check_resource(&v, &name, "Réka 李", &email, "+36 (1) 555-0101");
    assert!(id > newest_before, "a fresh id: {v}");
    let created_at = parse_rfc3339(v["metadata"]["createdAt"].as_str().unwrap_or_default())
        .expect("createdAt parses");
    assert!(
        (t0 - 5..=unix_now() + 5).contains(&created_at),
        "createdAt is now: {v}"
    );

    // Phone is free text: empty is fine too.
    let name2 = unique_name("nophone");
    let email2 = fresh_email();
    let r = create(&srv, &user_body(&name2, "x", "Aa1!aaaa", &email2, "")).await;
    check_resource(&expect_iam_ok(&r, "empty phone"), &name2, "x", &email2, "");

    // The stored user: visible to itself and to the admin, and it can log in.
    let token = srv.iam_login(&name, "Aa1!aaaa").await;
    let r = get_user(&srv, Auth::Bearer(&token), &name).await;
    assert_eq!(expect_iam_ok(&r, "get oneself"), v);
    assert!(exists(&srv, &admin, &name).await);

    assert_no_secrets(&srv, &["Aa1!aaaa", srv.admin_password()]);
}

#[tokio::test]
async fn create_boundaries_accepted() {
    let srv = TestServer::start().await;
    let ok_cases: Vec<(String, String, String, String)> = vec![
        // (name, nickname, password, email)
        ("a".into(), "n".into(), "Aa1!aaaa".into(), fresh_email()),
        (
            format!("{}{}", unique_name("x"), "a".repeat(52)),
            "n".repeat(30),
            "Aa1!aaaaaaaaaaaa".into(),
            fresh_email(),
        ),
        (
            unique_name("u"),
            "é".repeat(30),
            // 16 characters, 17 bytes: the rule counts characters.
            "Aä1!aaaaaaaaaaaa".into(),
            // 100 characters.
            email_of_len(100),
        ),
        ("0-_.9".into(), "n".into(), "~Zz9~~~~".into(), fresh_email()),
    ];
    for (name, nickname, password, email) in &ok_cases {
        let ctx = format!("create {name:?} / {nickname:?} / {password:?} / {email:?}");
        assert!(name.chars().count() <= 63, "{ctx}");
        assert!(email.chars().count() <= 100, "{ctx}");
        let r = create(&srv, &user_body(name, nickname, password, email, "1")).await;
        check_resource(&expect_iam_ok(&r, &ctx), name, nickname, email, "1");
        srv.iam_login(name, password).await;
    }
    let long = &ok_cases[1].0;
    assert_eq!(long.len(), 63, "the 63-character name");
    assert_eq!(
        ok_cases[2].3.chars().count(),
        100,
        "the 100-character email"
    );
    let secrets: Vec<&str> = ok_cases.iter().map(|c| c.2.as_str()).collect();
    assert_no_secrets(&srv, &secrets);
}

#[tokio::test]
async fn create_refusals_store_nothing() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let existing = register(&srv, "dup").await;
    let count = total(&srv, &admin).await;

    let good = |name: &str| user_body(name, "nick", "Good@2020", &fresh_email(), "1");

    // 400 100004: validation.
    let mut invalid: Vec<(String, Value)> = Vec::new();
    for bad_name in [
        "".to_string(),
        "-a".into(),
        "a-".into(),
        "_a".into(),
        "a.".into(),
        ".".into(),
        "a b".into(),
        "a@b".into(),
        "a/b".into(),
        "李彬".into(),
        "a".repeat(64),
    ] {
        invalid.push((format!("name {bad_name:?}"), good(&bad_name)));
    }
    let mut no_name = good("x");
    no_name.as_object_mut().expect("object").remove("metadata");
    invalid.push(("no metadata".into(), no_name));
    invalid.push((
        "no metadata.name".into(),
        json!({"metadata": {}, "nickname": "n", "password": "Good@2020", "email": fresh_email()}),
    ));
    let name = unique_name("v");
    for (what, nickname) in [
        ("empty nickname", "".to_string()),
        ("31-char nickname", "n".repeat(31)),
    ] {
        invalid.push((
            what.into(),
            user_body(&name, &nickname, "Good@2020", &fresh_email(), "1"),
        ));
    }
    let mut body = good(&name);
    body.as_object_mut().expect("object").remove("nickname");
    invalid.push(("no nickname".into(), body));
    for email in [
        "".to_string(),
        "foo".into(),
        "foo@".into(),
        "@foxmail.com".into(),
        "foo bar@foxmail.com".into(),
        "foo@@foxmail.com".into(),
        email_of_len(101),
    ] {
        invalid.push((
            format!("email {email:?}"),
            user_body(&name, "n", "Good@2020", &email, "1"),
        ));
    }
    let mut body = good(&name);
    body.as_object_mut().expect("object").remove("email");
    invalid.push(("no email".into(), body));
    for password in [
        "",
        "Aa1!aaa",           // 7
        "Aa1!aaaaaaaaaaaaa", // 17
        "aa1!aaaa",          // no upper-case
        "AA1!AAAA",          // no lower-case
        "Aaa!aaaa",          // no digit
        "Aa1aaaaa",          // no symbol
        "Aa1 aaaa",          // a space is not a symbol
    ] {
        invalid.push((
            format!("password {password:?}"),
            user_body(&name, "n", password, &fresh_email(), "1"),
        ));
    }
    let mut body = good(&name);
    body.as_object_mut().expect("object").remove("password");
    invalid.push(("no password".into(), body));
    for (what, body) in &invalid {
        let r = create(&srv, body).await;
        expect_iam_error(&r, 400, 100004, what);
    }
    assert!(!exists(&srv, &admin, &name).await, "{name} was not stored");

    // 400 100003: malformed JSON and wrong types.
    let malformed: Vec<&[u8]> = vec![
        b"{",
        b"not json",
        b"[]",
        b"null",
        b"\"foo\"",
        br#"{"metadata":{"name":5},"nickname":"n","password":"Good@2020","email":"a@b.cd"}"#,
        br#"{"metadata":"foo","nickname":"n","password":"Good@2020","email":"a@b.cd"}"#,
        br#"{"metadata":{"name":"foo"},"nickname":["n"],"password":"Good@2020","email":"a@b.cd"}"#,
        br#"{"metadata":{"name":"foo"},"nickname":"n","password":20202020,"email":"a@b.cd"}"#,
        br#"{"metadata":{"name":"foo"},"nickname":"n","password":"Good@2020","email":true}"#,
        br#"{"metadata":{"name":"foo"},"nickname":"n","password":"Good@2020","email":"a@b.cd","phone":1812884}"#,
    ];
    for raw in malformed {
        let r = srv
            .iam_raw("POST", "/v1/users", Auth::None, Some(raw.to_vec()), true)
            .await;
        expect_iam_error(&r, 400, 100003, &String::from_utf8_lossy(raw));
    }
    assert!(!exists(&srv, &admin, "foo").await, "foo was not stored");

    // 400 110002: duplicate name; the stored user is untouched.
    let r = create(
        &srv,
        &user_body(&existing.name, "other", "Other@2020", &fresh_email(), "2"),
    )
    .await;
    expect_iam_error(&r, 400, 110002, "duplicate name");
    let r = create(
        &srv,
        &user_body("admin", "other", "Other@2020", &fresh_email(), "2"),
    )
    .await;
    expect_iam_error(&r, 400, 110002, "duplicate name admin");
    let r = get_user(&srv, Auth::Bearer(&admin), &existing.name).await;
    let v = expect_iam_ok(&r, "existing user");
    assert_eq!(
        v["nickname"],
        json!(existing.name),
        "nickname untouched: {v}"
    );
    assert_eq!(v["email"], json!(existing.email), "email untouched: {v}");
    expect_iam_error(
        &login_raw(&srv, &existing.name, "Other@2020").await,
        401,
        100206,
        "the duplicate's password",
    );
    srv.iam_login(&existing.name, &existing.password).await;
    srv.iam_login("admin", srv.admin_password()).await;

    assert_eq!(
        total(&srv, &admin).await,
        count,
        "nothing stored on any refusal"
    );
    assert_no_secrets(
        &srv,
        &[
            "Good@2020",
            "Other@2020",
            &existing.password,
            srv.admin_password(),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Get, update
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_oneself_or_admin_only() {
    let srv = TestServer::start().await;
    let admin = srv.iam_admin_token().await;
    let alice = register(&srv, "alice").await;
    let bob = register(&srv, "bob").await;

    let r = get_user(&srv, Auth::Bearer(&alice.token), &alice.name).await;
    check_resource(
        &expect_iam_ok(&r, "alice gets herself"),
        &alice.name,
        &alice.name,
        &alice.email,
        r.1["phone"].as_str().unwrap_or_default(),
    );
    let r = get_user(&srv, Auth::Bearer(&admin), &alice.name).await;
    expect_iam_ok(&r, "admin gets alice");
    let r = get_user(&srv, Auth::Bearer(&alice.token), &bob.name).await;
    expect_iam_error(&r, 403, 100207, "alice gets bob");
    let r = get_user(&srv, Auth::Bearer(&alice.token), "admin").await;
    expect_iam_error(&r, 403, 100207, "alice gets admin");
    let r = get_user(&srv, Auth::Bearer(&alice.token), &unique_name("ghost")).await;
    expect_iam_error(&r, 403, 100207, "alice gets an unknown user");
    let r = get_user(&srv, Auth::Bearer(&admin), &unique_name("ghost")).await;
    expect_iam_error(&r, 404, 110001, "admin gets an unknown user");
    let r = get_user(&srv, Auth::Bearer(&admin), "admin").await;
    expect_iam_ok(&r, "admin gets itself");
    assert_no_secrets(&srv, &[&alice.password, srv.admin_password()]);
}

fn name_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        // Inside: short and long.
        "[A-Za-z0-9]([-A-Za-z0-9_.]{0,12}[A-Za-z0-9])?",
        "[A-Za-z0-9][-A-Za-z0-9_.]{60}[A-Za-z0-9]",
        "[A-Za-z0-9][-A-Za-z0-9_.]{61}[A-Za-z0-9]",
        // Outside: 64+ characters.
        "[A-Za-z0-9][-A-Za-z0-9_.]{62}[A-Za-z0-9]",
        "[a-z0-9]{64,66}",
        // Outside: leading or trailing separator, or a separator alone.
        "[-_.][A-Za-z0-9]{1,8}",
        "[A-Za-z0-9]{1,8}[-_.]",
        "[-_.]{1,2}",
        // Outside: a forbidden character.
        "[A-Za-z0-9]{1,6}[ @/#:+!,~é李][A-Za-z0-9]{1,6}",
        Just(String::new()),
    ]
}

fn password_strategy() -> impl Strategy<Value = String> {
    const CLASSES: [&str; 4] = [
        "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "0123456789",
        "!@#$%^&*()-_=+[]{};:,.<>/?~|`'\"\\",
    ];
    let length = prop_oneof![
        4 => prop::sample::select(vec![7usize, 8, 9, 15, 16, 17]),
        1 => 0usize..=20,
    ];
    // Mostly all four classes, sometimes one or more missing.
    let mask = prop_oneof![3 => Just(0b1111u8), 2 => 0u8..16];
    (
        length,
        mask,
        prop::collection::vec(any::<u16>(), 20),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(len, mask, picks, with_space)| {
            let classes: Vec<&[u8]> = (0..4)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| CLASSES[i].as_bytes())
                .collect();
            if classes.is_empty() {
                return " ".repeat(len.min(9));
            }
            let mut out = String::new();
            for (i, pick) in picks.iter().take(len).enumerate() {
                // The first characters cover each chosen class once.
                let class = classes[if i < classes.len() {
                    i
                } else {
                    *pick as usize % classes.len()
                }];
                out.push(class[(*pick as usize / 7) % class.len()] as char);
            }
            if with_space && !out.is_empty() {
                let at = picks[19] as usize % out.len();
                out.replace_range(at..=at, " ");
            }
            out
        })
}

#[test]
fn generated_names_and_passwords_follow_the_rules() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let srv = rt.block_on(TestServer::start());
    let admin = rt.block_on(srv.iam_admin_token());
    let fixed = rt.block_on(register(&srv, "prop"));
    // The names stored so far, by skeleton (the server stays up across cases; a name whose
    // case-folded look-alike skeleton is taken, `l` after `I`, is a duplicate), and the
    // fixed user's password.
    let skeleton = rbac_core::identity::name_skeleton;
    let stored: RefCell<HashSet<String>> = RefCell::new(
        [skeleton("admin"), skeleton(&fixed.name)]
            .into_iter()
            .collect(),
    );
    let current = RefCell::new(fixed.password.clone());
    let leaked_candidates: RefCell<Vec<String>> = RefCell::new(Vec::new());
    // (names accepted, names refused, passwords accepted, passwords refused)
    let seen = RefCell::new([0u32; 4]);

    let mut runner = TestRunner::new(PropConfig {
        cases: 32,
        max_shrink_iters: 0,
        failure_persistence: None,
        ..PropConfig::default()
    });
    let result = runner.run(
        &(name_strategy(), password_strategy()),
        |(name, password)| {
            rt.block_on(async {
                // A generated name with a valid rest.
                let r = create(
                    &srv,
                    &user_body(&name, "n", "Prop@2020", &fresh_email(), ""),
                )
                .await;
                let ctx = format!("create name {name:?} ({} chars)", name.chars().count());
                seen.borrow_mut()[usize::from(!name_rule(&name))] += 1;
                if !name_rule(&name) {
                    expect_iam_error(&r, 400, 100004, &ctx);
                } else if stored.borrow().contains(&skeleton(&name)) {
                    expect_iam_error(&r, 400, 110002, &format!("{ctx} again"));
                } else {
                    check_resource(
                        &expect_iam_ok(&r, &ctx),
                        &name,
                        "n",
                        r.1["email"].as_str().unwrap_or_default(),
                        "",
                    );
                    stored.borrow_mut().insert(skeleton(&name));
                    assert!(exists(&srv, &admin, &name).await, "{ctx}: stored");
                }

                // A generated password with a valid rest, on create.
                let other = unique_name("pw");
                let r = create(&srv, &user_body(&other, "n", &password, &fresh_email(), "")).await;
                let ctx = format!(
                    "create with password {password:?} ({} chars)",
                    password.chars().count()
                );
                seen.borrow_mut()[2 + usize::from(!password_rule(&password))] += 1;
                if password_rule(&password) {
                    expect_iam_ok(&r, &ctx);
                    stored.borrow_mut().insert(skeleton(&other));
                    srv.iam_login(&other, &password).await;
                    leaked_candidates.borrow_mut().push(password.clone());
                } else {
                    expect_iam_error(&r, 400, 100004, &ctx);
                    assert!(!exists(&srv, &admin, &other).await, "{ctx}: not stored");
                }

                // The same password as a new password.
                let old = current.borrow().clone();
                let r = change_password(
                    &srv,
                    Auth::Bearer(&fixed.token),
                    &fixed.name,
                    &old,
                    &password,
                )
                .await;
                let ctx = format!("change password to {password:?}");
                if password_rule(&password) {
                    expect_iam_null(&r, &ctx);
                    *current.borrow_mut() = password.clone();
                    srv.iam_login(&fixed.name, &password).await;
                } else {
                    expect_iam_error(&r, 400, 100004, &ctx);
                    srv.iam_login(&fixed.name, &old).await;
                }
                // The token used for the changes keeps working.
                expect_iam_ok(
                    &get_user(&srv, Auth::Bearer(&fixed.token), &fixed.name).await,
                    "fixed user's token",
                );

                // Exactly the accepted users are stored.
                assert_eq!(
                    total(&srv, &admin).await,
                    stored.borrow().len() as u64,
                    "user count"
                );
            });
            Ok(())
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    let seen = seen.into_inner();
    assert!(
        seen.iter().all(|n| *n > 0),
        "the generators reach both sides of each rule: {seen:?}"
    );
    let candidates = leaked_candidates.borrow();
    let mut secrets: Vec<&str> = candidates.iter().map(String::as_str).collect();
    secrets.push(&fixed.password);
    assert_no_secrets(&srv, &secrets);
    drop(srv);
}
