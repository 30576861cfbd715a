//! Sessions people can see and end, through the real binary: one's own on the platform and
//! IAM surfaces, another user's within the containment rule, and on a second instance at
//! once with the consistency token.

use tests::*;

const AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) rbac-tests/1";

async fn login_as_browser(s: &TestServer, name: &str, password: &str) -> String {
    let r = s
        .post_with_headers(
            "login",
            &json!({"name": name, "password": password}),
            None,
            &[("User-Agent", AGENT)],
        )
        .await;
    let data = expect_ok(&(r.0, r.2.clone()), "login");
    data["auth_token"].as_str().expect("token").to_string()
}

async fn sessions(s: &TestServer, token: &str, user: Option<&str>) -> (u16, Value) {
    let body = match user {
        Some(u) => json!({"user_name": u}),
        None => json!({}),
    };
    s.post("platform/list/session", &body, Some(token)).await
}

async fn works(s: &TestServer, token: &str) -> bool {
    let r = s
        .post("platform/inquire/mfa", &json!({}), Some(token))
        .await;
    match r.0 {
        200 => true,
        401 => false,
        _ => panic!("unexpected answer {}", r.1),
    }
}

#[tokio::test]
async fn a_user_sees_and_ends_their_own_sessions() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let browser = login_as_browser(&s, &u.name, &u.password).await;

    let r = sessions(&s, &browser, None).await;
    let data = expect_ok(&r, "list own sessions");
    let rows = data["sessions"].as_array().expect("sessions").clone();
    assert_eq!(rows.len(), 2, "{data}");
    assert_eq!(r.1["header"]["total"], 2, "{}", r.1);
    // Newest first (by the second): the browser's, which asked, is current and recorded
    // its agent.
    assert!(
        rows[0]["created_at"].as_i64() >= rows[1]["created_at"].as_i64(),
        "{data}"
    );
    let current: Vec<&Value> = rows.iter().filter(|r| r["current"] == true).collect();
    assert_eq!(current.len(), 1, "{data}");
    assert_eq!(current[0]["user_agent"], AGENT, "{data}");
    assert_eq!(current[0]["factors"], json!(["password"]), "{data}");
    assert_eq!(current[0]["login_ip"], "127.0.0.1", "{data}");
    let other = rows
        .iter()
        .find(|r| r["current"] == false)
        .and_then(|r| r["session_id"].as_str())
        .expect("the other session's handle")
        .to_string();

    // Ending the other one ends `u.token` at once; the browser's goes on.
    let r = s
        .post(
            "platform/end/session",
            &json!({"session_id": other}),
            Some(&browser),
        )
        .await;
    assert_eq!(expect_ok(&r, "end one")["ended"], 1);
    assert!(!works(&s, &u.token).await, "the ended session");
    assert!(works(&s, &browser).await, "the session that ended it");
    let r = s
        .post(
            "platform/end/session",
            &json!({"session_id": other}),
            Some(&browser),
        )
        .await;
    expect_code(&r, 200, 1006, "an ended session is no longer listed");

    // Ending all others keeps the caller's own.
    let third = s.login(&u.name, &u.password).await;
    let fourth = s.login(&u.name, &u.password).await;
    let r = s
        .post("platform/end/session", &json!({}), Some(&browser))
        .await;
    assert_eq!(expect_ok(&r, "end others")["ended"], 2);
    assert!(!works(&s, &third).await && !works(&s, &fourth).await);
    assert!(works(&s, &browser).await);

    // The same on IAM, by name.
    let iam = s.iam_login(&u.name, &u.password).await;
    let path = format!("/v1/users/{}/sessions", u.name);
    let r = s.iam("GET", &path, Auth::Bearer(&iam), None).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["totalCount"], 2, "{}", r.1);
    let mine = r.1["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["current"] == false)
        .expect("the browser's")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = s
        .iam(
            "DELETE",
            &format!("{path}/{mine}"),
            Auth::Bearer(&iam),
            None,
        )
        .await;
    assert_eq!((r.0, r.1["ended"].clone()), (200, json!(1)), "{}", r.1);
    assert!(!works(&s, &browser).await, "ended through IAM");
}

#[tokio::test]
async fn another_users_sessions_are_seen_and_ended_only_within_the_actor() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let editor = s.new_user(&admin, &["UserAccess", "UserEdit"]).await;
    let stronger = s
        .new_user(&admin, &["UserAccess", "UserEdit", "RoleAdd"])
        .await;
    let within = s.new_user(&admin, &["UserAccess"]).await;
    let nobody = s.new_user(&admin, &[]).await;

    // No privilege: refused, even for a weaker user.
    let r = sessions(&s, &nobody.token, Some(&within.name)).await;
    expect_code(&r, 200, 1000, "list without UserAccess");
    // A stronger user's sessions: neither listed nor ended, on either surface.
    let r = sessions(&s, &editor.token, Some(&stronger.name)).await;
    expect_code(&r, 200, 1021, "list a stronger user's sessions");
    let r = s
        .post(
            "platform/end/session",
            &json!({"user_name": stronger.name}),
            Some(&editor.token),
        )
        .await;
    expect_code(&r, 200, 1021, "end a stronger user's sessions");
    let r = s
        .post(
            "platform/end/session",
            &json!({"user_name": "admin"}),
            Some(&editor.token),
        )
        .await;
    expect_code(&r, 200, 1021, "end the built-in admin's sessions");
    let iam_editor = s.iam_login(&editor.name, &editor.password).await;
    let path = format!("/v1/users/{}/sessions", stronger.name);
    let r = s
        .iam("DELETE", &path, Auth::Bearer(&iam_editor), None)
        .await;
    assert_eq!(r.0, 403, "{}", r.1);
    assert!(
        works(&s, &stronger.token).await,
        "the stronger user's session lives"
    );
    assert!(works(&s, &admin).await, "the admin's session lives");

    // Positive control: a user within the editor is listed and ended.
    let r = sessions(&s, &editor.token, Some(&within.name)).await;
    let rows = expect_ok(&r, "list a user within")["sessions"].clone();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(rows[0]["current"], false, "{rows}");
    let r = s
        .post(
            "platform/end/session",
            &json!({"user_name": within.name}),
            Some(&editor.token),
        )
        .await;
    assert_eq!(expect_ok(&r, "end a user within")["ended"], 1);
    assert!(!works(&s, &within.token).await, "ended by the editor");
    assert!(works(&s, &editor.token).await);
}

#[tokio::test]
async fn an_ended_session_is_refused_by_another_instance_given_the_revision() {
    let slow = &["--change-poll-ms", "20000"];
    let a = TestServer::start_with(slow).await;
    let b = a.start_sharing(slow).await;
    let admin = a.admin_token().await;
    let u = a.new_user(&admin, &[]).await;
    let second = a.login(&u.name, &u.password).await;
    assert!(
        works(&b, &u.token).await,
        "the other instance knows the session"
    );
    let ended = a
        .post_with_headers("platform/end/session", &json!({}), Some(&second), &[])
        .await;
    let data = expect_ok(&(ended.0, ended.2.clone()), "end others");
    assert_eq!(data["ended"], 1);
    let revision = ended
        .1
        .iter()
        .find(|(k, _)| k == "x-rbac-revision")
        .map(|(_, v)| v.clone())
        .expect("a revision");
    let r = b
        .post_with_headers(
            "platform/inquire/mfa",
            &json!({}),
            Some(&u.token),
            &[("X-Rbac-Consistency", &revision)],
        )
        .await;
    assert_eq!(r.0, 401, "with the revision, ended at once: {}", r.2);
    assert!(works(&b, &second).await, "the session that ended it lives");
}
