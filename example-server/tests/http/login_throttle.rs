//! Failed-login throttling through the real binary: typos are free, then exponential
//! backoff, a lock after ten failures per account, a looser limit per client address, the
//! surfaces' own refusals, the owner's known address kept working, attempts reserved before
//! their hash under concurrency, the unlock through `enable/user`, and one client address
//! everywhere (behind `--trusted-proxy`, for HTTP Basic too). Distinct clients connect from
//! distinct loopback addresses (127.0.0.x).

use std::time::Duration;

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

/// Fails `n` logins of `name` from `from`, each answered 1002.
async fn fail_from(srv: &TestServer, from: &str, name: &str, n: usize) {
    for i in 1..=n {
        let r = srv.login_from(from, name, "wrong-guess").await;
        expect_code(&r, 200, 1002, &format!("failure {i} of {name} from {from}"));
    }
}

#[tokio::test]
async fn ten_failures_lock_the_account_until_an_admin_enables_it() {
    let srv = start(&["--login-backoff-secs", "0"]).await;
    let admin = srv.admin_token().await;
    let (victim, other) = (unique_name("victim"), unique_name("bystander"));
    srv.create_user(&admin, &victim, "Victim-pw-1", None).await;
    srv.create_user(&admin, &other, "Other-pw-1", None).await;

    fail_from(&srv, "127.0.0.1", &victim, 10).await;
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
    // The name in another case is the same account.
    expect_code(
        &platform_login(&srv, &victim.to_uppercase(), "Victim-pw-1").await,
        200,
        1009,
        "the locked name in capitals",
    );

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
async fn typos_are_free_then_failures_back_off_exponentially() {
    // 2 s so that a second boundary between two requests cannot end the wait early.
    let srv = start(&["--login-backoff-secs", "2"]).await;
    let admin = srv.admin_token().await;
    let name = unique_name("slow");
    srv.create_user(&admin, &name, "Slow-pw-1", None).await;

    // Four typos cost nothing: the right password a moment later works.
    fail_from(&srv, "127.0.0.1", &name, 4).await;
    srv.login(&name, "Slow-pw-1").await;
    // The success cleared the count: five more failures are each judged on the password.
    fail_from(&srv, "127.0.0.1", &name, 5).await;
    // After the fifth, a 2 s wait: refused at once, whatever the password, naming the wait.
    let r = platform_login(&srv, &name, "Slow-pw-1").await;
    expect_code(&r, 200, 1009, "inside the backoff");
    let message = r.1["header"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("try again in"), "says when: {message}");
    tokio::time::sleep(Duration::from_millis(3100)).await;
    // The wait is over: the right password works and clears the count.
    srv.login(&name, "Slow-pw-1").await;
    fail_from(&srv, "127.0.0.1", &name, 4).await;
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
        let r = srv.login_from("127.0.0.21", &target, "guess").await;
        expect_code(&r, 200, 1002, "spray");
    }
    let r = srv.login_from("127.0.0.21", &name, "Real-pw-1").await;
    expect_code(&r, 200, 1009, "from a locked address");
    // A locked address and a locked unknown name answer alike: no user enumeration.
    let r = srv
        .login_from("127.0.0.21", &unique_name("ghost"), "guess")
        .await;
    expect_code(&r, 200, 1009, "unknown name from a locked address");
    // Control: the same account from another address.
    let r = srv.login_from("127.0.0.22", &name, "Real-pw-1").await;
    expect_ok(&r, "the same account from another address");
}

#[tokio::test]
async fn the_owner_keeps_logging_in_while_others_have_the_account_locked() {
    let srv = start(&["--login-backoff-secs", "0"]).await;
    let admin = srv.admin_token().await;
    let name = unique_name("owner");
    srv.create_user(&admin, &name, "Owner-pw-1", None).await;
    // The owner logs in from home once: the address becomes known to the account.
    expect_ok(
        &srv.login_from("127.0.0.31", &name, "Owner-pw-1").await,
        "the owner's first login",
    );
    // An attacker locks the account from elsewhere.
    fail_from(&srv, "127.0.0.32", &name, 10).await;
    let r = srv.login_from("127.0.0.32", &name, "Owner-pw-1").await;
    expect_code(
        &r,
        200,
        1009,
        "the right password from the attacker's address",
    );
    let r = srv.login_from("127.0.0.33", &name, "Owner-pw-1").await;
    expect_code(&r, 200, 1009, "the right password from a third address");
    // The owner's known address is not locked out, even after a typo of its own.
    let r = srv.login_from("127.0.0.31", &name, "typo").await;
    expect_code(&r, 200, 1002, "the owner's typo is judged on its password");
    expect_ok(
        &srv.login_from("127.0.0.31", &name, "Owner-pw-1").await,
        "the owner from the known address",
    );
}

#[tokio::test]
async fn admin_unlocks_itself_through_enable_user() {
    let srv = start(&["--login-backoff-secs", "0"]).await;
    let admin = srv.admin_token().await; // an existing session, from 127.0.0.1
    fail_from(&srv, "127.0.0.41", "admin", 10).await;
    let r = srv
        .login_from("127.0.0.42", "admin", srv.admin_password())
        .await;
    expect_code(&r, 200, 1009, "admin locked for a new address");
    // Enabling oneself when enabled is only an unlock; disabling oneself stays refused.
    expect_ok(
        &srv.post(
            "platform/enable/user",
            &json!({"user_name": "admin"}),
            Some(&admin),
        )
        .await,
        "admin unlocks admin",
    );
    expect_ok(
        &srv.login_from("127.0.0.42", "admin", srv.admin_password())
            .await,
        "admin logs in after the unlock",
    );
    let r = srv
        .post(
            "platform/disable/user",
            &json!({"user_name": "admin"}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1009, "disabling oneself");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_guesses_are_reserved_before_their_hash() {
    let srv = std::sync::Arc::new(start(&[]).await);
    let admin = srv.admin_token().await;
    let name = unique_name("burst");
    srv.create_user(&admin, &name, "Burst-pw-1", None).await;
    let guesses: Vec<_> = (0..39)
        .map(|_| {
            let (srv, name) = (srv.clone(), name.clone());
            tokio::spawn(async move { srv.login_from("127.0.0.51", &name, "wrong-guess").await })
        })
        .collect();
    let (mut evaluated, mut throttled) = (0, 0);
    for g in guesses {
        let r = g.await.expect("task");
        match code(&r.1) {
            1002 => evaluated += 1,
            1009 => throttled += 1,
            other => panic!("unexpected code {other}: {}", r.1),
        }
    }
    assert!(
        evaluated <= 10,
        "at most 10 of 39 concurrent guesses evaluated, got {evaluated} ({throttled} throttled)"
    );
    assert!(evaluated >= 1, "some guesses were evaluated");
    assert_eq!(evaluated + throttled, 39);
}

#[tokio::test]
async fn wrong_old_passwords_and_basic_credentials_count_as_failures() {
    let srv = start(&["--login-backoff-secs", "0"]).await;
    let admin = srv.admin_token().await;
    let user = srv.new_user(&admin, &["UserAccess"]).await;
    // Wrong old passwords on change/password lock the account like failed logins.
    for i in 1..=10 {
        let r = srv
            .post(
                "platform/change/password",
                &json!({"old_password": "not-it", "new_password": "Next-pw-123"}),
                Some(&user.token),
            )
            .await;
        expect_code(&r, 200, 1007, &format!("wrong old password {i}"));
    }
    // The session is from 127.0.0.1, an address the account logged in from: its failures
    // lock that address's attempts, not the account for everyone.
    let r = platform_login(&srv, &user.name, &user.password).await;
    expect_code(&r, 200, 1009, "locked by wrong old passwords");
    expect_ok(
        &srv.login_from("127.0.0.61", &user.name, &user.password)
            .await,
        "control: the account from an address that did not fail",
    );

    // HTTP Basic on the IAM surface is throttled per address through the layer.
    let srv = start(&[
        "--login-address-max-failures",
        "3",
        "--login-backoff-secs",
        "0",
    ])
    .await;
    let admin = srv.admin_token().await;
    let user = srv.new_user(&admin, &["UserAccess"]).await;
    let basic = |from: &str, name: &str, password: &str| {
        let req = srv
            .client_from(from)
            .get(srv.url("/v1/users"))
            .basic_auth(name, Some(password));
        async move { req.send().await.expect("request").status().as_u16() }
    };
    for _ in 0..3 {
        assert_eq!(
            basic("127.0.0.62", &unique_name("ghost"), "guess").await,
            401
        );
    }
    assert_eq!(
        basic("127.0.0.62", &user.name, &user.password).await,
        401,
        "right Basic credentials from a locked address"
    );
    assert_eq!(
        basic("127.0.0.63", &user.name, &user.password).await,
        200,
        "the same credentials from another address"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_throttled() {
    let srv = start(&[
        "--trusted-proxy",
        "127.0.0.1",
        "--login-address-max-failures",
        "3",
        "--login-backoff-secs",
        "0",
    ])
    .await;
    let admin = srv.admin_token().await;
    let name = unique_name("proxied");
    srv.create_user(&admin, &name, "Proxied-pw-1", None).await;
    let via = |forwarded: &'static str, password: &'static str| {
        let body = json!({"name": name, "password": password});
        let url = srv.url("login");
        let client = srv.client_from("127.0.0.1");
        async move {
            let r = client
                .post(url)
                .header("X-Forwarded-For", forwarded)
                .json(&body)
                .send()
                .await
                .expect("request");
            r.json::<Value>().await.expect("json")
        }
    };
    for _ in 0..3 {
        assert_eq!(code(&via("203.0.113.7", "guess").await), 1002);
    }
    assert_eq!(
        code(&via("203.0.113.7", "Proxied-pw-1").await),
        1009,
        "the forwarded client's address is locked"
    );
    let ok = via("203.0.113.8", "Proxied-pw-1").await;
    assert_eq!(code(&ok), 0, "another client behind the same proxy: {ok}");
    assert_eq!(
        ok["data"]["login_ip"], "203.0.113.8",
        "login_ip is the client's: {ok}"
    );
}
