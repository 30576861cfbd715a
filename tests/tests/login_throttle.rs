//! Failed-login throttling through the real binary: exponential backoff, lock after N per
//! account, a looser limit per client address, the surfaces' own refusals, and the
//! admin's unlock through `enable/user`.

use tests::*;

async fn platform_login(srv: &TestServer, name: &str, password: &str) -> (u16, Value) {
    srv.post("login", &json!({"name": name, "password": password}), None)
        .await
}

async fn start(extra: &[&str]) -> TestServer {
    let mut flags: Vec<&str> = DEFAULT_THROTTLE.to_vec();
    flags.extend_from_slice(extra);
    TestServer::start_with(&flags).await
}

#[tokio::test]
async fn five_failures_lock_the_account_until_an_admin_enables_it() {
    let srv = start(&["--login-backoff-secs", "0"]).await;
    let admin = srv.admin_token().await;
    let (victim, other) = (unique_name("victim"), unique_name("bystander"));
    srv.create_user(&admin, &victim, "Victim-pw-1", None).await;
    srv.create_user(&admin, &other, "Other-pw-1", None).await;

    for i in 1..=5 {
        expect_code(
            &platform_login(&srv, &victim, "wrong").await,
            200,
            1002,
            &format!("failure {i}"),
        );
    }
    // Locked: even the right password is refused, on every surface, without a hash.
    expect_code(
        &platform_login(&srv, &victim, "Victim-pw-1").await,
        200,
        1009,
        "the right password of a locked account",
    );
    let r = srv
        .iam(
            "POST",
            "/login",
            Auth::None,
            Some(&json!({"username": victim, "password": "Victim-pw-1"})),
        )
        .await;
    assert_eq!(r.0, 429, "IAM login of a locked account: {}", r.1);
    let r = srv
        .post(
            "user/login",
            &json!({"username": victim, "password": "Victim-pw-1"}),
            None,
        )
        .await;
    assert_eq!(
        r.1["errCode"],
        json!(1001),
        "cloud login of a locked account: {}",
        r.1
    );
    assert!(
        r.1["errMsg"]
            .as_str()
            .is_some_and(|m| m.contains("too many")),
        "{}",
        r.1
    );

    // Another account, from the same address, is unaffected.
    srv.login(&other, "Other-pw-1").await;

    // The admin's enable/user lifts the lock.
    expect_ok(
        &srv.post(
            "platform/enable/user",
            &json!({"user_name": victim}),
            Some(&admin),
        )
        .await,
        "enable/user as unlock",
    );
    srv.login(&victim, "Victim-pw-1").await;
}

#[tokio::test]
async fn failures_back_off_exponentially() {
    // 2 s so that a second boundary between two requests cannot end the wait early.
    let srv = start(&["--login-backoff-secs", "2"]).await;
    let admin = srv.admin_token().await;
    let name = unique_name("slow");
    srv.create_user(&admin, &name, "Slow-pw-1", None).await;

    // The first failure costs nothing: the second attempt is judged on its password.
    expect_code(
        &platform_login(&srv, &name, "wrong").await,
        200,
        1002,
        "failure 1",
    );
    expect_code(
        &platform_login(&srv, &name, "wrong").await,
        200,
        1002,
        "failure 2",
    );
    // After the second, a 2 s wait: refused at once, whatever the password.
    let r = platform_login(&srv, &name, "Slow-pw-1").await;
    expect_code(&r, 200, 1009, "inside the backoff");
    let message = r.1["header"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(message.contains("try again"), "says when: {message}");
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    // The wait is over: the right password works and clears the count.
    srv.login(&name, "Slow-pw-1").await;
    expect_code(
        &platform_login(&srv, &name, "wrong").await,
        200,
        1002,
        "after success",
    );
    expect_code(
        &platform_login(&srv, &name, "wrong").await,
        200,
        1002,
        "count restarted",
    );
}

#[tokio::test]
async fn an_address_failing_across_accounts_is_locked() {
    let srv = start(&[
        "--login-address-max-failures",
        "3",
        "--login-max-failures",
        "100",
        "--login-backoff-secs",
        "0",
    ])
    .await;
    let admin = srv.admin_token().await;
    let name = unique_name("real");
    srv.create_user(&admin, &name, "Real-pw-1", None).await;
    // Password spraying: one guess each at three names (two of them do not exist).
    for target in [unique_name("ghost"), unique_name("ghost"), name.clone()] {
        expect_code(
            &platform_login(&srv, &target, "guess").await,
            200,
            1002,
            "spray",
        );
    }
    expect_code(
        &platform_login(&srv, &name, "Real-pw-1").await,
        200,
        1009,
        "from a locked address",
    );
    // A locked address and a locked unknown name answer alike: no user enumeration.
    expect_code(
        &platform_login(&srv, &unique_name("ghost"), "guess").await,
        200,
        1009,
        "unknown name from a locked address",
    );
}
