//! Second factors through the real binary: TOTP enrolment with recovery codes, the login
//! challenge on the platform, IAM and cloud surfaces, replay and throttling of codes, HTTP
//! Basic refused for accounts with a second factor, and an admin's reset within the
//! containment rule. Users without a second factor see the login they always saw.

use std::time::Duration;

use tests::*;

/// A six-digit code that is none of the codes of the steps around now.
fn wrong_code(secret: &str) -> String {
    let near: Vec<String> = (-2..=2).map(|o| totp_now(secret, o)).collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .expect("a wrong code")
}

async fn complete(s: &TestServer, mfa_token: &str, code: &str) -> (u16, Value) {
    s.post(
        "login/mfa",
        &json!({"mfa_token": mfa_token, "code": code}),
        None,
    )
    .await
}

#[tokio::test]
async fn totp_enrolment_login_recovery_and_removal_on_the_platform() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &["UserAccess"]).await;

    // Without a second factor the login is the documented one (`new_user` logged in with
    // code 0 and a token), and the status says so.
    let r = s
        .post("platform/inquire/mfa", &json!({}), Some(&u.token))
        .await;
    let status = expect_ok(&r, "inquire/mfa before");
    assert_eq!(status["totp"], false, "{status}");

    let before = s.login(&u.name, &u.password).await;
    let enrolled = s.enrol_totp(&u.token).await;
    assert_eq!(enrolled.recovery_codes.len(), 10);
    // Enrolling ends the other sessions (they proved a password alone), not its own.
    let r = s
        .post("platform/inquire/mfa", &json!({}), Some(&before))
        .await;
    expect_code(&r, 401, 1001, "a session from before enrolment");
    let mut distinct = enrolled.recovery_codes.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
    let r = s
        .post("platform/inquire/mfa", &json!({}), Some(&u.token))
        .await;
    let status = expect_ok(&r, "inquire/mfa after");
    assert_eq!(
        status,
        json!({"totp": true, "totp_pending": false, "recovery_codes_left": 10, "passkeys": 0})
    );
    assert!(
        !r.1.to_string().contains(&enrolled.secret),
        "no secret after enrolment"
    );
    // Enrolling again is refused while one is enrolled.
    let r = s
        .post("platform/mfa/totp/begin", &json!({}), Some(&u.token))
        .await;
    expect_code(&r, 200, 1009, "begin while enrolled");

    // The password alone now answers a challenge, which authenticates nothing by itself.
    let challenge = s.login_challenge(&u.name, &u.password).await;
    let r = s
        .post("platform/inquire/mfa", &json!({}), Some(&challenge))
        .await;
    expect_code(&r, 401, 1001, "a challenge used as a token");

    // A wrong code is refused; the right one completes the login with a working token.
    let r = complete(&s, &challenge, &wrong_code(&enrolled.secret)).await;
    expect_code(&r, 200, 1008, "wrong TOTP code");
    let code = totp_now(&enrolled.secret, 1);
    let r = complete(&s, &challenge, &code).await;
    let data = expect_ok(&r, "login/mfa with TOTP");
    assert_eq!(data["user_name"], u.name.as_str());
    let token = data["auth_token"].as_str().expect("token").to_string();
    let r = s
        .post("platform/inquire/mfa", &json!({}), Some(&token))
        .await;
    expect_ok(&r, "the completed login's token");
    // The challenge was single-use, and the code is not accepted twice.
    let r = complete(&s, &challenge, &totp_now(&enrolled.secret, 0)).await;
    expect_code(&r, 401, 1001, "a used challenge");
    let again = s.login_challenge(&u.name, &u.password).await;
    let r = complete(&s, &again, &code).await;
    expect_code(&r, 200, 1008, "a replayed TOTP code");

    // A recovery code works once (in any case, with or without its dash).
    let first = enrolled.recovery_codes[0].to_uppercase().replace('-', "");
    let r = complete(&s, &again, &first).await;
    expect_ok(&r, "login/mfa with a recovery code");
    let third = s.login_challenge(&u.name, &u.password).await;
    let r = complete(&s, &third, &enrolled.recovery_codes[0]).await;
    expect_code(&r, 200, 1008, "a used recovery code");
    let r = s
        .post("platform/inquire/mfa", &json!({}), Some(&token))
        .await;
    assert_eq!(expect_ok(&r, "inquire/mfa")["recovery_codes_left"], 9);

    // Removing it needs the password and a code.
    let r = s
        .post(
            "platform/mfa/totp/remove",
            &json!({"password": "wrong-password-1", "code": enrolled.recovery_codes[1]}),
            Some(&token),
        )
        .await;
    expect_code(&r, 200, 1007, "remove with a wrong password");
    let r = s
        .post(
            "platform/mfa/totp/remove",
            &json!({"password": u.password, "code": wrong_code(&enrolled.secret)}),
            Some(&token),
        )
        .await;
    expect_code(&r, 200, 1008, "remove with a wrong code");
    let r = s
        .post(
            "platform/mfa/totp/remove",
            &json!({"password": u.password, "code": enrolled.recovery_codes[1]}),
            Some(&token),
        )
        .await;
    expect_ok(&r, "remove TOTP");
    // The password alone logs in again, as documented.
    s.login(&u.name, &u.password).await;
}

#[tokio::test]
async fn wrong_codes_are_throttled_like_passwords() {
    let s =
        TestServer::start_with(&["--login-free-failures", "2", "--login-backoff-secs", "3"]).await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let enrolled = s.enrol_totp(&u.token).await;
    let challenge = s.login_challenge(&u.name, &u.password).await;
    let wrong = wrong_code(&enrolled.secret);
    let mut throttled = false;
    for _ in 0..8 {
        let r = complete(&s, &challenge, &wrong).await;
        match code(&r.1) {
            1008 => continue,
            1009 => {
                throttled = true;
                break;
            }
            _ => panic!("wrong code: {}", r.1),
        }
    }
    assert!(throttled, "wrong codes back off like wrong passwords");
    // While backing off, even the right code waits its turn.
    let r = complete(&s, &challenge, &totp_now(&enrolled.secret, 1)).await;
    expect_code(&r, 200, 1009, "right code while throttled");
    // Positive control: once the back-off passes, the right code completes the login.
    tokio::time::sleep(Duration::from_millis(4000)).await;
    let r = complete(&s, &challenge, &totp_now(&enrolled.secret, 1)).await;
    expect_ok(&r, "right code after the back-off");
}

#[tokio::test]
async fn http_basic_is_refused_for_accounts_with_a_second_factor() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let plain = s.new_user(&admin, &[]).await;
    let guarded = s.new_user(&admin, &[]).await;
    s.enrol_totp(&guarded.token).await;
    let r = s
        .iam(
            "POST",
            "/logout",
            Auth::Basic(&plain.name, &plain.password),
            None,
        )
        .await;
    assert_eq!(r.0, 200, "Basic without a second factor: {}", r.1);
    let r = s
        .iam(
            "POST",
            "/logout",
            Auth::Basic(&guarded.name, &guarded.password),
            None,
        )
        .await;
    assert_eq!(r.0, 401, "Basic with a second factor: {}", r.1);
}

#[tokio::test]
async fn iam_and_cloud_logins_answer_their_challenges() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let enrolled = s.enrol_totp(&u.token).await;

    let creds = json!({"username": u.name, "password": u.password});
    let r = s.iam("POST", "/login", Auth::None, Some(&creds)).await;
    assert_eq!(r.0, 401, "{}", r.1);
    assert_eq!(r.1["code"], 100210, "{}", r.1);
    let mfa_token = r.1["mfa_token"].as_str().expect("mfa_token").to_string();
    let body = json!({"mfa_token": mfa_token, "code": wrong_code(&enrolled.secret)});
    let r = s.iam("POST", "/login/mfa", Auth::None, Some(&body)).await;
    assert_eq!((r.0, r.1["code"].clone()), (401, json!(100211)), "{}", r.1);
    let body = json!({"mfa_token": mfa_token, "code": totp_now(&enrolled.secret, 1)});
    let r = s.iam("POST", "/login/mfa", Auth::None, Some(&body)).await;
    assert_eq!(r.0, 200, "{}", r.1);
    let token = r.1["token"].as_str().expect("token").to_string();
    let r = s.iam("POST", "/logout", Auth::Bearer(&token), None).await;
    assert_eq!(r.0, 200, "the IAM token works: {}", r.1);

    let r = s.post("user/login", &creds, None).await;
    assert_eq!((r.0, r.1["errCode"].clone()), (200, json!(1008)), "{}", r.1);
    let mfa_token = r.1["data"]["mfa_token"]
        .as_str()
        .expect("mfa_token")
        .to_string();
    let r = s
        .post(
            "user/login/mfa",
            &json!({"mfa_token": mfa_token, "code": wrong_code(&enrolled.secret)}),
            None,
        )
        .await;
    assert_eq!(r.1["errCode"], 1003, "{}", r.1);
    let r = s
        .post(
            "user/login/mfa",
            &json!({"mfa_token": mfa_token, "code": enrolled.recovery_codes[3]}),
            None,
        )
        .await;
    assert_eq!(r.1["errCode"], 0, "{}", r.1);
    assert_eq!(r.1["data"]["username"], u.name.as_str(), "{}", r.1);

    // A user without a second factor sees the documented answers on both.
    let plain = s.new_user(&admin, &[]).await;
    s.iam_login(&plain.name, &plain.password).await;
    let r = s
        .post(
            "user/login",
            &json!({"username": plain.name, "password": plain.password}),
            None,
        )
        .await;
    assert_eq!(r.1["errCode"], 0, "{}", r.1);
}

#[tokio::test]
async fn resetting_second_factors_stays_within_the_actor() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let editor = s.new_user(&admin, &["UserEdit"]).await;
    let stronger = s.new_user(&admin, &["UserEdit", "RoleAdd"]).await;
    let within = s.new_user(&admin, &["UserEdit"]).await;
    s.enrol_totp(&stronger.token).await;
    s.enrol_totp(&within.token).await;

    let r = s
        .post(
            "platform/reset/mfa",
            &json!({"user_name": stronger.name}),
            Some(&editor.token),
        )
        .await;
    expect_code(&r, 200, 1021, "reset a stronger user's factors");
    s.login_challenge(&stronger.name, &stronger.password).await;
    let r = s
        .post(
            "platform/reset/mfa",
            &json!({"user_name": "admin"}),
            Some(&editor.token),
        )
        .await;
    expect_code(&r, 200, 1021, "reset the built-in admin's factors");

    // Positive control: a user within the editor is reset, and logs in with a password.
    let r = s
        .post(
            "platform/reset/mfa",
            &json!({"user_name": within.name}),
            Some(&editor.token),
        )
        .await;
    expect_ok(&r, "reset a user within");
    s.login(&within.name, &within.password).await;
    let r = s
        .post(
            "platform/reset/mfa",
            &json!({"user_name": stronger.name}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "the admin resets anyone");
}

#[tokio::test]
async fn the_secrets_key_lives_beside_a_sqlite_database_readable_by_its_owner_only() {
    let s = TestServer::start().await;
    let Some(db) = s.database_url().strip_prefix("sqlite://") else {
        // Elsewhere the harness gives `--secrets-key-file`.
        return;
    };
    let key = std::path::PathBuf::from(format!("{db}.secrets-key"));
    let meta = std::fs::metadata(&key).expect("the key file beside the database");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "{}",
        key.display()
    );
    let text = std::fs::read_to_string(&key).expect("key");
    assert_eq!(text.trim().len(), 64, "64 hex digits");
    // The database holds the sealed secret, never the key or the secret itself.
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let enrolled = s.enrol_totp(&u.token).await;
    let bytes = std::fs::read(db).expect("database file");
    let haystack = String::from_utf8_lossy(&bytes);
    assert!(
        !haystack.contains(text.trim()),
        "the key is not in the database"
    );
    assert!(
        !haystack.contains(&enrolled.secret),
        "the secret is not in the database"
    );
}

#[tokio::test]
async fn without_a_secrets_key_enrolment_is_refused_clearly_and_logins_go_on() {
    let s = TestServer::start_with(&[WITHOUT_SECRETS_KEY]).await;
    if s.database_url().starts_with("sqlite") {
        // SQLite generates its key beside the database (tested above).
        return;
    }
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let r = s
        .post("platform/mfa/totp/begin", &json!({}), Some(&u.token))
        .await;
    expect_code(&r, 200, 1019, "begin without a secrets key");
    let message = r.1["header"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("secrets key"), "{message}");
    s.login(&u.name, &u.password).await;
}

#[tokio::test]
async fn a_login_challenge_completes_only_on_the_surface_that_opened_it() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let enrolled = s.enrol_totp(&u.token).await;
    let creds = json!({"username": u.name, "password": u.password});

    // IAM's challenge, taken to the platform's and the cloud's second step: no challenge
    // there (and the right code is not spent on it).
    let r = s.iam("POST", "/login", Auth::None, Some(&creds)).await;
    assert_eq!((r.0, r.1["code"].clone()), (401, json!(100210)), "{}", r.1);
    let iam_challenge = r.1["mfa_token"].as_str().expect("mfa_token").to_string();
    let totp = totp_now(&enrolled.secret, 1);
    let body = json!({"mfa_token": iam_challenge, "code": totp});
    let r = s.post("login/mfa", &body, None).await;
    assert_eq!((r.0, code(&r.1)), (401, 1001), "platform: {}", r.1);
    let r = s.post("user/login/mfa", &body, None).await;
    assert_ne!(r.1["errCode"], json!(0), "cloud: {}", r.1);
    // Where it was opened, it completes (the control).
    let r = s.iam("POST", "/login/mfa", Auth::None, Some(&body)).await;
    assert_eq!(r.0, 200, "IAM completes its own challenge: {}", r.1);

    // The platform's challenge, taken to IAM: refused; on the platform: completed.
    let challenge = s.login_challenge(&u.name, &u.password).await;
    let body = json!({"mfa_token": challenge, "code": enrolled.recovery_codes[0]});
    let r = s.iam("POST", "/login/mfa", Auth::None, Some(&body)).await;
    assert_eq!(r.0, 401, "IAM: {}", r.1);
    let r = s.post("login/mfa", &body, None).await;
    expect_ok(&r, "the platform completes its own challenge");
}
