//! Platform surface: list/oper-log.

use tests::*;

pub(crate) async fn oper_log(srv: &TestServer, token: &str, filter: Value) -> (Vec<Value>, Value) {
    let r = srv
        .post("platform/list/oper-log", &filter, Some(token))
        .await;
    let data = expect_ok(&r, &format!("list/oper-log {filter}"));
    let list = data["list"]
        .as_array()
        .unwrap_or_else(|| panic!("list/oper-log: data.list is not an array: {}", r.1))
        .clone();
    (list, r.1)
}

fn check_entry(e: &Value) {
    for field in ["oper_user", "oper_type", "oper_time", "oper_content"] {
        assert!(
            e.get(field).is_some(),
            "oper-log entry lacks `{field}`: {e}"
        );
    }
    assert!(e["oper_user"].is_string(), "{e}");
    assert!(e["oper_type"].is_number(), "{e}");
    assert!(e["oper_content"].is_string(), "{e}");
    let t = e["oper_time"].as_str().unwrap_or_default();
    assert!(is_datetime(t), "oper_time not YYYY-MM-DD HH:MM:SS: {e}");
    let secs = parse_datetime(t).unwrap_or(0);
    let now = unix_now();
    assert!(
        (now - secs).abs() < 600,
        "oper_time {t} is not UTC now ({}): {e}",
        utc_string(0)
    );
}

fn check_newest_first(list: &[Value]) {
    let times: Vec<&str> = list
        .iter()
        .map(|e| e["oper_time"].as_str().unwrap_or_default())
        .collect();
    for w in times.windows(2) {
        assert!(w[0] >= w[1], "oper-log not newest first: {times:?}");
    }
}

#[tokio::test]
async fn admin_actions_are_logged_newest_first() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let role = unique_name("logrole");
    srv.create_role(&admin, &role).await;
    let name = unique_name("loguser");
    srv.create_user(&admin, &name, &gen_password(), Some(&role))
        .await;

    let (list, raw) = oper_log(&srv, &admin, json!({"page_no": 0, "page_size": 0})).await;
    assert!(!list.is_empty(), "empty oper-log: {raw}");
    for e in &list {
        check_entry(e);
    }
    check_newest_first(&list);
    let newest = &list[0];
    assert!(
        newest["oper_content"]
            .as_str()
            .unwrap_or_default()
            .contains(&name),
        "the newest entry should be the create/user of {name}: {raw}"
    );
    assert_eq!(
        newest["oper_type"], 2,
        "create/user is oper_type 2: {newest}"
    );
    assert_eq!(newest["oper_user"], "admin", "{newest}");
    assert!(
        list.iter().any(|e| e["oper_type"] == 2
            && e["oper_content"]
                .as_str()
                .unwrap_or_default()
                .contains(&role)),
        "no entry for create/role {role}: {raw}"
    );
    assert!(
        list.iter()
            .any(|e| e["oper_type"] == 1 && e["oper_user"] == "admin"),
        "no login entry (oper_type 1) for admin: {raw}"
    );
    assert_eq!(
        raw["header"]["count"].as_i64(),
        Some(list.len() as i64),
        "{raw}"
    );
    assert!(
        raw["header"]["total"].as_i64() >= Some(list.len() as i64),
        "{raw}"
    );

    // Paging.
    let total = list.len() as i64;
    let (page, raw) = oper_log(&srv, &admin, json!({"page_no": 0, "page_size": 1})).await;
    assert_eq!(page.len(), 1, "{raw}");
    assert_eq!(raw["header"]["total"].as_i64(), Some(total), "{raw}");
    assert_eq!(raw["header"]["count"].as_i64(), Some(1), "{raw}");
    assert_eq!(page[0], list[0], "page 0 of size 1 is the newest entry");
    let (page, raw) = oper_log(&srv, &admin, json!({"page_no": 1, "page_size": 1})).await;
    assert_eq!(page.len(), 1, "{raw}");
    assert_eq!(
        page[0], list[1],
        "page 1 of size 1 is the second newest entry"
    );
}

#[tokio::test]
async fn every_mutating_call_writes_an_entry() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let role = unique_name("mr");
    let user = unique_name("mu");
    let pw = gen_password();
    let steps: Vec<(&str, Value, i64)> = vec![
        ("platform/create/role", json!({"role_name": role}), 2),
        (
            "platform/auth/role",
            json!({"role_name": role, "privilege": ["UserAccess"]}),
            2,
        ),
        (
            "platform/create/user",
            json!({"user_name": user, "user_alias": "A", "phone_number": gen_phone(),
                   "password": pw, "role_name": role}),
            2,
        ),
        (
            "platform/edit/user",
            json!({"user_name": user, "remark": "x"}),
            2,
        ),
        ("platform/disable/user", json!({"user_name": user}), 2),
        ("platform/enable/user", json!({"user_name": user}), 2),
        (
            "platform/reset/password",
            json!({"user_name": user, "new_password": pw}),
            2,
        ),
        ("platform/disable/role", json!({"role_name": role}), 2),
        ("platform/enable/role", json!({"role_name": role}), 2),
        ("platform/delete/user", json!({"user_name": user}), 2),
        ("platform/delete/role", json!({"role_name": role}), 2),
    ];
    let mut not_exactly_one = Vec::new();
    for (path, body, oper_type) in steps {
        let before = oper_log(&srv, &admin, json!({})).await.0.len();
        expect_ok(&srv.post(path, &body, Some(&admin)).await, path);
        let (list, raw) = oper_log(&srv, &admin, json!({})).await;
        assert!(list.len() > before, "{path} wrote no entry: {raw}");
        let fresh = &list[..list.len() - before];
        if fresh.len() != 1 {
            not_exactly_one.push(format!("{path} wrote {}: {fresh:?}", fresh.len()));
        }
        let target = body
            .get("user_name")
            .or_else(|| body.get("role_name"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let entry = fresh
            .iter()
            .find(|e| {
                e["oper_content"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(target)
            })
            .unwrap_or_else(|| panic!("{path}: no new entry names {target}: {fresh:?}"));
        assert_eq!(entry["oper_type"], oper_type, "{path}: {entry}");
        assert_eq!(entry["oper_user"], "admin", "{path}: {entry}");
        for e in fresh {
            assert!(
                !e["oper_content"].as_str().unwrap_or_default().contains(&pw),
                "{path}: content leaks the password: {e}"
            );
        }
    }
    assert!(
        not_exactly_one.is_empty(),
        "every mutating call writes one entry:\n{}",
        not_exactly_one.join("\n")
    );
    // Reads write nothing.
    let before = oper_log(&srv, &admin, json!({})).await.0.len();
    for path in ["platform/list/user", "platform/list/role"] {
        expect_ok(&srv.post(path, &json!({}), Some(&admin)).await, path);
    }
    assert_eq!(
        oper_log(&srv, &admin, json!({})).await.0.len(),
        before,
        "reads must not be logged"
    );
}

#[tokio::test]
async fn visibility_and_filters() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let u = srv.new_user(&admin, &[]).await;
    let new_pw = gen_password();
    expect_ok(
        &srv.post(
            "platform/change/password",
            &json!({"old_password": u.password, "new_password": new_pw}),
            Some(&u.token),
        )
        .await,
        "change/password",
    );

    // Without UserAccess: only one's own entries.
    let (own, raw) = oper_log(&srv, &u.token, json!({})).await;
    assert!(own.len() >= 2, "login + change/password expected: {raw}");
    for e in &own {
        check_entry(e);
        assert_eq!(
            e["oper_user"],
            json!(u.name),
            "foreign entry visible: {raw}"
        );
    }
    assert_eq!(
        own[0]["oper_type"], 1,
        "change/password is oper_type 1: {raw}"
    );
    // Asking for someone else's entries does not widen the view.
    let (others, raw) = oper_log(&srv, &u.token, json!({"oper_user": "admin"})).await;
    assert!(
        others.iter().all(|e| e["oper_user"] == json!(u.name)),
        "a user without UserAccess saw admin's entries: {raw}"
    );

    // Logout writes an entry too.
    let t2 = srv.login(&u.name, &new_pw).await;
    let before = oper_log(&srv, &t2, json!({})).await.0.len();
    let t3 = srv.login(&u.name, &new_pw).await;
    expect_ok(
        &srv.post("platform/logout", &json!({}), Some(&t3)).await,
        "logout",
    );
    let (after, raw) = oper_log(&srv, &t2, json!({})).await;
    assert_eq!(
        after.len(),
        before + 2,
        "login + logout should be logged: {raw}"
    );
    assert_eq!(after[0]["oper_type"], 1, "{raw}");

    // With UserAccess: everyone, filterable by user and type.
    let (all, raw) = oper_log(&srv, &admin, json!({})).await;
    assert!(all.iter().any(|e| e["oper_user"] == "admin"), "{raw}");
    assert!(all.iter().any(|e| e["oper_user"] == json!(u.name)), "{raw}");
    let (by_user, raw) = oper_log(&srv, &admin, json!({"oper_user": u.name})).await;
    assert_eq!(
        by_user.len(),
        after.len(),
        "admin's view of {}: {raw}",
        u.name
    );
    assert!(
        by_user.iter().all(|e| e["oper_user"] == json!(u.name)),
        "{raw}"
    );
    let (t1, raw) = oper_log(&srv, &admin, json!({"oper_type": 1})).await;
    assert!(!t1.is_empty(), "{raw}");
    assert!(t1.iter().all(|e| e["oper_type"] == 1), "{raw}");
    let (t2l, raw) = oper_log(&srv, &admin, json!({"oper_type": 2})).await;
    assert!(!t2l.is_empty(), "{raw}");
    assert!(t2l.iter().all(|e| e["oper_type"] == 2), "{raw}");
    let (t0, raw) = oper_log(&srv, &admin, json!({"oper_type": 0})).await;
    assert_eq!(t0.len(), all.len(), "oper_type 0 means all: {raw}");

    // Time filters, "YYYY-MM-DD HH:MM:SS" UTC.
    let (none, raw) = oper_log(&srv, &admin, json!({"start_time": utc_string(86_400)})).await;
    assert!(none.is_empty(), "start_time tomorrow: {raw}");
    let (none, raw) = oper_log(&srv, &admin, json!({"end_time": "2000-01-01 00:00:00"})).await;
    assert!(none.is_empty(), "end_time in 2000: {raw}");
    let (some, raw) = oper_log(
        &srv,
        &admin,
        json!({"start_time": utc_string(-3600), "end_time": utc_string(3600)}),
    )
    .await;
    assert_eq!(
        some.len(),
        all.len(),
        "a window around now holds everything: {raw}"
    );
    // ... or unix seconds.
    let (none, raw) = oper_log(
        &srv,
        &admin,
        json!({"start_time": (unix_now() + 86_400).to_string()}),
    )
    .await;
    assert!(none.is_empty(), "unix start_time tomorrow: {raw}");
    let (some, raw) = oper_log(
        &srv,
        &admin,
        json!({"start_time": (unix_now() - 3600).to_string(), "end_time": (unix_now() + 3600).to_string()}),
    )
    .await;
    assert_eq!(some.len(), all.len(), "unix window around now: {raw}");
}

#[tokio::test]
async fn names_an_attacker_sends_are_rendered_as_data() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let sent = "eve\u{202e}nimda\nroot";
    let r = srv
        .post("login", &json!({"name": sent, "password": "guess"}), None)
        .await;
    expect_code(&r, 200, 1002, "a failed login with a crafted name");
    let (list, raw) = oper_log(&srv, &admin, json!({"page_no": 0, "page_size": 0})).await;
    let shown: Vec<&str> = list
        .iter()
        .filter_map(|e| e["oper_user"].as_str())
        .filter(|u| u.starts_with("eve"))
        .collect();
    assert_eq!(shown, ["eve\\u{202e}nimda\\u{000a}root"], "{raw}");
    for e in &list {
        let text = format!("{}{}", e["oper_user"], e["oper_content"]);
        assert!(
            !text.contains('\u{202e}') && !text.contains('\n'),
            "raw control characters in {e}"
        );
    }
}

#[tokio::test]
async fn denials_are_aggregated_per_user_privilege_and_minute() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let weak = srv.new_user(&admin, &[]).await;
    for _ in 0..20 {
        let r = srv
            .post("platform/list/user", &json!({}), Some(&weak.token))
            .await;
        expect_denied(&r, "UserAccess", "list/user without UserAccess");
    }
    // Control: a denial of another privilege gets its own row.
    let r = srv
        .post("platform/list/role", &json!({}), Some(&weak.token))
        .await;
    expect_denied(&r, "RoleAccess", "list/role without RoleAccess");
    // The rows are written without delaying the answers: wait for them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (list, raw) = oper_log(
            &srv,
            &admin,
            json!({"page_no": 0, "page_size": 0, "oper_user": weak.name}),
        )
        .await;
        let denied = |privilege: &str| {
            list.iter()
                .filter(|e| {
                    let c = e["oper_content"].as_str().unwrap_or_default();
                    c.contains("access denied") && c.contains(privilege)
                })
                .count()
        };
        // 20 denials fit in at most two minutes: one or two rows, never twenty.
        let (users, roles) = (denied("UserAccess"), denied("RoleAccess"));
        if users >= 1 && roles == 1 {
            assert!(users <= 2, "aggregated per minute: {users} rows in {raw}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "denials not logged: {raw}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_reader_sees_no_entry_of_a_stronger_user() {
    let srv = TestServer::start().await;
    // The admin's login (with its address) and its actions are entries by admin.
    let admin = srv.admin_token().await;
    let strong = ["UserAccess", "UserDelete"];
    let reader = srv.new_user(&admin, &["UserAccess"]).await;
    let weaker = srv.new_user(&admin, &[]).await;
    let stronger = srv.new_user(&admin, &strong).await;
    let everything = json!({"page_no": 0, "page_size": 0});
    let (list, raw) = oper_log(&srv, &reader.token, everything.clone()).await;
    let by = |name: &str| list.iter().any(|e| e["oper_user"] == name);
    assert!(
        !by("admin"),
        "admin's entries shown to a weaker reader: {raw}"
    );
    assert!(
        !by(&stronger.name),
        "a stronger user's entries shown: {raw}"
    );
    // The controls: the reader's own entries and a weaker user's are shown.
    assert!(by(&reader.name), "the reader's own login is missing: {raw}");
    assert!(by(&weaker.name), "a weaker user's login is missing: {raw}");
    assert_eq!(
        raw["header"]["total"].as_i64(),
        Some(list.len() as i64),
        "{raw}"
    );
    // Naming a stronger user finds nothing; naming a weaker one finds its entries.
    let named = |name: &str| json!({"page_no": 0, "page_size": 0, "oper_user": name});
    let (list, raw) = oper_log(&srv, &reader.token, named("admin")).await;
    assert!(list.is_empty(), "admin's entries by name: {raw}");
    let (list, raw) = oper_log(&srv, &reader.token, named(&weaker.name)).await;
    assert!(!list.is_empty(), "the weaker user's entries by name: {raw}");
    // A reader holding what the stronger user holds sees it; admin sees everyone's.
    let peer = srv.new_user(&admin, &strong).await;
    let (list, raw) = oper_log(&srv, &peer.token, everything.clone()).await;
    assert!(
        list.iter()
            .any(|e| e["oper_user"] == stronger.name.as_str()),
        "an equal's entries: {raw}"
    );
    let (list, raw) = oper_log(&srv, &admin, everything).await;
    assert!(
        list.iter().any(|e| e["oper_user"] == "admin"),
        "admin's own: {raw}"
    );
}
