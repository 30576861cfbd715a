//! The session cache is bounded by `--session-cache-capacity`: with room for one session,
//! tokens of several users keep working (evicted ones are read from the store again), and a
//! logout still ends its token at once.

use tests::*;

#[tokio::test]
async fn a_full_session_cache_reads_the_store_and_still_revokes() {
    let s = TestServer::start_with(&["--session-cache-capacity", "1"]).await;
    let admin = s.admin_token().await;
    let mut tokens = vec![admin.clone()];
    for i in 0..3 {
        let name = unique_name(&format!("cache{i}"));
        let password = gen_password();
        let created = s
            .post(
                "platform/create/user",
                &json!({"user_name": name, "user_alias": "Cache", "password": password,
                        "phone_number": gen_phone(), "remark": "", "role_name": ""}),
                Some(&admin),
            )
            .await;
        expect_ok(&created, "create");
        tokens.push(s.login(&name, &password).await);
    }
    for round in 0..3 {
        for (i, t) in tokens.iter().enumerate() {
            let r = s
                .post("platform/list/oper-log", &json!({"page_size": 1}), Some(t))
                .await;
            expect_ok(&r, &format!("round {round}, token {i}"));
        }
    }
    // Logout ends that token at once, cached or not; the others keep working.
    expect_ok(
        &s.post("platform/logout", &json!({}), Some(&tokens[2]))
            .await,
        "logout",
    );
    let r = s
        .post(
            "platform/list/oper-log",
            &json!({"page_size": 1}),
            Some(&tokens[2]),
        )
        .await;
    expect_unauthorized(&r, "after logout");
    let r = s
        .post(
            "platform/list/oper-log",
            &json!({"page_size": 1}),
            Some(&tokens[3]),
        )
        .await;
    expect_ok(&r, "another user's token");
}
