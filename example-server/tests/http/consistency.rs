//! The consistency token across two instances on one database: a write through one
//! answers `X-Rbac-Revision: N`; the other, asked with `X-Rbac-Consistency: N`, answers
//! only once it has applied that write (on SQLite and MariaDB, which poll, well before its
//! next poll; a request without the token still sees the old state there). Malformed and
//! unknown tokens are bad requests, a wait that runs out is HTTP 503 with `Retry-After`.

use tests::*;

/// The instances poll the change log every 20 s: only the token makes the second one
/// read it sooner.
const SLOW_POLL: &[&str] = &["--change-poll-ms", "20000"];

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn revision(answer: &(u16, Vec<(String, String)>, Value), ctx: &str) -> i64 {
    header(&answer.1, "x-rbac-revision")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{ctx}: no X-Rbac-Revision in {:?}", answer.1))
}

fn list_body() -> Value {
    json!({"page_no": 0, "page_size": 1})
}

#[tokio::test]
async fn a_write_through_one_instance_is_read_through_another_with_its_revision() {
    let a = TestServer::start_with(SLOW_POLL).await;
    let b = a.start_sharing(SLOW_POLL).await;
    let polls = !a.database_url().starts_with("postgres");
    let admin = a.admin_token().await;
    let reader = a.new_user(&admin, &[]).await;
    // Both instances know the user and its empty role.
    expect_denied(
        &b.post("platform/list/user", &list_body(), Some(&reader.token))
            .await,
        "UserAccess",
        "before the grant",
    );

    let granted = a
        .post_with_headers(
            "platform/auth/role",
            &json!({"role_name": reader.role, "privilege": ["UserAccess"]}),
            Some(&admin),
            &[],
        )
        .await;
    expect_ok(&(granted.0, granted.2.clone()), "grant");
    let n = revision(&granted, "grant");
    assert!(n > 0, "a revision: {n}");

    if polls {
        // The control: without the token, the other instance has not read the change yet.
        expect_denied(
            &b.post("platform/list/user", &list_body(), Some(&reader.token))
                .await,
            "UserAccess",
            "no token: the old state until the next poll",
        );
    }
    let token = n.to_string();
    let read = b
        .post_with_headers(
            "platform/list/user",
            &list_body(),
            Some(&reader.token),
            &[("X-Rbac-Consistency", &token)],
        )
        .await;
    expect_ok(
        &(read.0, read.2.clone()),
        "with the revision: the write is seen",
    );

    // A refusal carries no revision; a read-only success the newest one.
    let refused = a
        .post_with_headers(
            "platform/create/role",
            &json!({"role_name": "admin"}),
            Some(&admin),
            &[],
        )
        .await;
    expect_code(&(refused.0, refused.2.clone()), 200, 1005, "a taken name");
    assert_eq!(
        header(&refused.1, "x-rbac-revision"),
        None,
        "{:?}",
        refused.1
    );

    for (bad, why) in [
        ("soon", "malformed"),
        ("-1", "negative"),
        ("999999999", "unknown"),
    ] {
        let r = b
            .post_with_headers(
                "platform/list/user",
                &list_body(),
                Some(&reader.token),
                &[("X-Rbac-Consistency", bad)],
            )
            .await;
        expect_code(&(r.0, r.2.clone()), 200, 1003, why);
    }
}

#[tokio::test]
async fn a_revision_not_applied_in_time_is_a_503_with_retry_after() {
    let a = TestServer::start_with(SLOW_POLL).await;
    if a.database_url().starts_with("postgres") {
        return; // NOTIFY delivers at once: no instance lags long enough to time out
    }
    let b = a
        .start_sharing(&["--change-poll-ms", "20000", "--consistency-wait-ms", "0"])
        .await;
    let admin = a.admin_token().await;
    let reader = a.new_user(&admin, &[]).await;
    let granted = a
        .post_with_headers(
            "platform/auth/role",
            &json!({"role_name": reader.role, "privilege": ["UserAccess"]}),
            Some(&admin),
            &[],
        )
        .await;
    let token = revision(&granted, "grant").to_string();
    let r = b
        .post_with_headers(
            "platform/list/user",
            &list_body(),
            Some(&reader.token),
            &[("X-Rbac-Consistency", &token)],
        )
        .await;
    assert_eq!(r.0, 503, "{:?} {}", r.1, r.2);
    assert_eq!(header(&r.1, "retry-after"), Some("1"));
    assert_eq!(r.2["header"]["code"], json!(1019), "{}", r.2);
    // The control: the same request once the wait is allowed is served.
    let c = a.start_sharing(SLOW_POLL).await;
    let r = c
        .post_with_headers(
            "platform/list/user",
            &list_body(),
            Some(&reader.token),
            &[("X-Rbac-Consistency", &token)],
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.2);
    assert_eq!(r.2["header"]["code"], json!(0), "{}", r.2);
}

/// Credentials come first: without a valid credential the token changes nothing in the
/// answer (so it cannot be used to read how far the change log has grown); with one, a
/// revision past the head is refused (the control).
#[tokio::test]
async fn an_unauthenticated_request_learns_nothing_from_the_token() {
    let srv = TestServer::start().await;
    let admin = srv.admin_token().await;
    let head = revision(
        &srv.post_with_headers(
            "platform/create/role",
            &json!({"role_name": unique_name("rev"), "remark": ""}),
            Some(&admin),
            &[],
        )
        .await,
        "a write",
    );
    let anonymous = srv
        .post_with_headers("platform/list/user", &list_body(), None, &[])
        .await;
    let forged = srv
        .post_with_headers("platform/list/user", &list_body(), Some("forged"), &[])
        .await;
    assert_ne!(code(&anonymous.2), 0, "{anonymous:?}");
    for token in ["0".to_string(), head.to_string(), "999999999".to_string()] {
        for (credential, without) in [(None, &anonymous), (Some("forged"), &forged)] {
            let with = srv
                .post_with_headers(
                    "platform/list/user",
                    &list_body(),
                    credential,
                    &[("X-Rbac-Consistency", &token)],
                )
                .await;
            assert_eq!(
                (with.0, &with.2),
                (without.0, &without.2),
                "revision {token} with credential {credential:?}"
            );
        }
        // The same on the IAM surface, whose refusal is a 401.
        let r = srv
            .send_with("GET", "/v1/users", &[("X-Rbac-Consistency", &token)], None)
            .await;
        assert_eq!(r.0, 401, "{r:?}");
    }
    // HTTP Basic is not checked twice (a password would be counted and hashed twice): the
    // token is not honoured with it, and the answer is the one without it.
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{}", srv.admin_password()))
    );
    let plain = srv
        .send_with("GET", "/v1/users", &[("Authorization", &basic)], None)
        .await;
    let with = srv
        .send_with(
            "GET",
            "/v1/users",
            &[
                ("Authorization", &basic),
                ("X-Rbac-Consistency", "999999999"),
            ],
            None,
        )
        .await;
    assert_eq!(plain.0, 200, "{plain:?}");
    assert_eq!(with.0, plain.0, "{with:?}");
    // Control: an authenticated caller is told a revision lies past the head.
    let r = srv
        .post_with_headers(
            "platform/list/user",
            &list_body(),
            Some(&admin),
            &[("X-Rbac-Consistency", "999999999")],
        )
        .await;
    expect_code(
        &(r.0, r.2.clone()),
        200,
        1003,
        "past the head, authenticated",
    );
}
