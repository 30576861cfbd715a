//! The operation log's retention: with `--audit-retention-days N` a server prunes entries
//! older than N days in the background (at start, then hourly); newer entries stay, and
//! the log's total follows. Without the flag nothing is pruned (the control).

use tests::*;

async fn total(s: &TestServer, token: &str) -> i64 {
    let r = s
        .post(
            "platform/list/oper-log",
            &json!({"page_no": 0, "page_size": 1}),
            Some(token),
        )
        .await;
    expect_ok(&r, "list/oper-log");
    r.1["header"]["total"].as_i64().expect("total")
}

#[tokio::test]
async fn entries_past_retention_are_pruned_and_newer_ones_stay() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let r = s.new_user(&admin, &[]).await;
    let before = total(&s, &admin).await;
    assert!(before >= 3, "logins and creations are logged: {before}");
    // Age every entry so far by ten days; then one new entry.
    s.exec_sql("UPDATE rbac_audit SET time = time - 864000")
        .await;
    s.login(&r.name, &r.password).await;
    let all = total(&s, &admin).await;
    assert!(all > before, "{all} after {before}");

    // Control: a second instance without retention prunes nothing.
    let keeping = s.start_sharing(&[]).await;
    assert_eq!(total(&keeping, &admin).await, total(&s, &admin).await);

    // Thirty days' retention keeps the ten-day-old entries too.
    let month = s.start_sharing(&["--audit-retention-days", "30"]).await;
    let now = total(&month, &admin).await;
    assert!(now >= all, "nothing within 30 days pruned: {now} of {all}");

    // Seven days: the aged entries go, at start, in the background.
    let week = s.start_sharing(&["--audit-retention-days", "7"]).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut left = total(&week, &admin).await;
    while left > now - before && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        left = total(&week, &admin).await;
    }
    assert!(
        left <= now - before && left > 0,
        "{before} aged entries pruned, the newer {} kept: {left} left",
        now - before
    );
    let r = week
        .post(
            "platform/list/oper-log",
            &json!({"page_no": 0, "page_size": 0}),
            Some(&admin),
        )
        .await;
    let rows = expect_ok(&r, "all entries")["list"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0) as i64;
    let listed = r.1["header"]["total"].as_i64().unwrap_or(-1);
    assert_eq!(rows, listed, "the maintained total counts what is listed");

    // A retention of 0 days is refused at start.
    let bad = std::process::Command::new(server_binary())
        .args(["--audit-retention-days", "0", "--help"])
        .output()
        .expect("run");
    assert!(!bad.status.success(), "0 days accepted");
}
