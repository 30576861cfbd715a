//! Passkeys through the real binary, with a software authenticator behind a WebAuthn
//! client at `http://localhost:PORT`: registering (named, listed, removed), a passkey as a
//! login's second step on the platform, IAM and cloud surfaces, signing in with a passkey
//! alone, a passkey as a step-up, replays and other users' assertions refused, and an
//! admin's reset.

use std::time::Duration;

use tests::*;

/// Logs in with the password and expects the challenge with passkey options: `(mfa_token,
/// options)`.
async fn passkey_challenge(s: &TestServer, name: &str, password: &str) -> (String, Value) {
    let r = s
        .post("login", &json!({"name": name, "password": password}), None)
        .await;
    assert_eq!(
        (r.0, code(&r.1)),
        (200, 1033),
        "login with a passkey: {}",
        r.1
    );
    let data = &r.1["data"];
    assert!(
        data["methods"]
            .as_array()
            .is_some_and(|m| m.contains(&json!("passkey"))),
        "{data}"
    );
    assert!(
        data["passkey"]["publicKey"]["challenge"].is_string(),
        "{data}"
    );
    (
        data["mfa_token"].as_str().expect("mfa_token").to_string(),
        data["passkey"].clone(),
    )
}

async fn complete(s: &TestServer, mfa_token: &str, assertion: &Value) -> (u16, Value) {
    s.post(
        "login/mfa",
        &json!({"mfa_token": mfa_token, "passkey": assertion}),
        None,
    )
    .await
}

fn token_of(r: &(u16, Value), ctx: &str) -> String {
    expect_ok(r, ctx)["auth_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}: no auth_token in {}", r.1))
        .to_string()
}

#[tokio::test]
async fn a_registered_passkey_completes_logins_once_per_challenge() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &["UserAccess"]).await;
    let other = s.new_user(&admin, &[]).await;
    let before = s.login(&u.name, &u.password).await;

    let mut key = SoftKey::for_server(&s);
    let listed = s.register_passkey(&u.token, &mut key, "laptop").await;
    assert_eq!(listed["name"], "laptop", "{listed}");
    assert_eq!(listed["last_used_at"], 0, "{listed}");
    // The first second factor ends the sessions that proved a password alone.
    let r = s
        .post("platform/mfa/passkey/list", &json!({}), Some(&before))
        .await;
    expect_code(&r, 401, 1001, "a session from before the passkey");
    let r = s
        .post("platform/mfa/passkey/list", &json!({}), Some(&u.token))
        .await;
    let rows = expect_ok(&r, "mfa/passkey/list")["passkeys"].clone();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(rows[0]["id"], listed["id"], "{rows}");
    for secret in ["credential", "public", "cred_id", "user_handle"] {
        assert!(!r.1.to_string().contains(secret), "{secret} in {}", r.1);
    }
    let r = s
        .post("platform/inquire/mfa", &json!({}), Some(&u.token))
        .await;
    assert_eq!(expect_ok(&r, "inquire/mfa")["passkeys"], 1, "{}", r.1);

    // The password alone answers a challenge whose options name the passkey; its
    // assertion completes the login with a session that proved both.
    let (mfa_token, options) = passkey_challenge(&s, &u.name, &u.password).await;
    let assertion = key.assert(&options).await;
    let r = complete(&s, &mfa_token, &json!({"id": "forged"})).await;
    expect_code(&r, 200, 1008, "not an assertion");
    // The refused attempt used the challenge's passkey ceremony up: log in again.
    let (mfa_token, options) = passkey_challenge(&s, &u.name, &u.password).await;
    let stale = assertion;
    let r = complete(&s, &mfa_token, &stale).await;
    expect_code(
        &r,
        200,
        1008,
        "an assertion of another challenge (a replay)",
    );
    let (mfa_token, options_again) = passkey_challenge(&s, &u.name, &u.password).await;
    assert_ne!(options, options_again, "each challenge is new");
    let assertion = key.assert(&options_again).await;
    let token = token_of(&complete(&s, &mfa_token, &assertion).await, "passkey step");
    let r = s
        .post("platform/list/session", &json!({}), Some(&token))
        .await;
    let sessions = expect_ok(&r, "list/session");
    let current = sessions["sessions"]
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["current"] == true))
        .unwrap_or_else(|| panic!("no current session in {sessions}"));
    assert_eq!(
        current["factors"],
        json!(["password", "passkey"]),
        "{current}"
    );
    // Once: the same challenge and assertion do not log in again.
    let r = complete(&s, &mfa_token, &assertion).await;
    expect_code(&r, 401, 1001, "a used challenge");
    let r = s
        .post("platform/mfa/passkey/list", &json!({}), Some(&token))
        .await;
    assert_ne!(
        expect_ok(&r, "list after use")["passkeys"][0]["last_used_at"],
        0,
        "{}",
        r.1
    );

    // Another user's assertion (for their own challenge) proves nothing for this one.
    let mut other_key = SoftKey::for_server(&s);
    s.register_passkey(&other.token, &mut other_key, "phone")
        .await;
    let (other_token, other_options) = passkey_challenge(&s, &other.name, &other.password).await;
    let theirs = other_key.assert(&other_options).await;
    let (mfa_token, _) = passkey_challenge(&s, &u.name, &u.password).await;
    let r = complete(&s, &mfa_token, &theirs).await;
    expect_code(&r, 200, 1008, "another user's assertion");
    // Positive control: that assertion completes its own user's login.
    token_of(
        &complete(&s, &other_token, &theirs).await,
        "their own login",
    );
}

#[tokio::test]
async fn a_password_and_a_session_do_not_add_or_remove_factors_of_a_user_who_has_one() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let enrolled = s.enrol_totp(&u.token).await;
    // The enrolling session proved a password only: it cannot add a passkey, which would
    // sign in without the TOTP code.
    let r = s
        .post(
            "platform/mfa/passkey/begin",
            &json!({"password": u.password}),
            Some(&u.token),
        )
        .await;
    expect_code(&r, 200, 1033, "a password-only session adding a passkey");
    // Positive control: a session that proved the code adds one.
    let proven = s
        .login_with_code(&u.name, &u.password, &totp_now(&enrolled.secret, 1))
        .await;
    let mut key = SoftKey::for_server(&s);
    let added = s.register_passkey(&proven, &mut key, "key").await;

    // Removing it likewise needs a second factor proven on the session.
    let remove = json!({"id": added["id"], "password": u.password});
    let r = s
        .post("platform/mfa/passkey/remove", &remove, Some(&u.token))
        .await;
    expect_code(&r, 200, 1033, "a password-only session removing a passkey");
    let r = s
        .post("platform/mfa/passkey/list", &json!({}), Some(&proven))
        .await;
    assert_eq!(
        expect_ok(&r, "still listed")["passkeys"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let r = s
        .post("platform/mfa/passkey/remove", &remove, Some(&proven))
        .await;
    expect_ok(&r, "removed on a session that proved a code");
}

#[tokio::test]
async fn a_sign_counter_that_goes_backwards_is_refused() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let mut key = SoftKey::for_server(&s);
    s.register_passkey(&u.token, &mut key, "hardware key").await;
    key.set_counter(10);
    s.login_with_passkey_step(&u, &mut key).await;
    // A clone of the key that signed fewer times than the server has seen.
    key.set_counter(4);
    let (mfa_token, options) = passkey_challenge(&s, &u.name, &u.password).await;
    let r = complete(&s, &mfa_token, &key.assert(&options).await).await;
    expect_code(&r, 200, 1008, "a counter behind the stored one");
    let (token, options) = begin_sign_in(&s).await;
    let r = sign_in(&s, &token, &key.assert(&options).await).await;
    expect_code(&r, 200, 1008, "the same clone signing in alone");
    // A clone answering a challenge opened before the real key's last use: the ceremony's
    // copy of the counter is old, the stored one is not.
    key.set_counter(10);
    let (stale_token, stale_options) = passkey_challenge(&s, &u.name, &u.password).await;
    key.set_counter(30);
    s.login_with_passkey_step(&u, &mut key).await;
    key.set_counter(14);
    let r = complete(&s, &stale_token, &key.assert(&stale_options).await).await;
    expect_code(&r, 200, 1008, "a clone on an older challenge");
    // Positive control: a counter ahead of the stored one is accepted.
    key.set_counter(40);
    let (mfa_token, options) = passkey_challenge(&s, &u.name, &u.password).await;
    let r = complete(&s, &mfa_token, &key.assert(&options).await).await;
    token_of(&r, "a counter ahead");
    let r = s
        .post(
            "platform/mfa/passkey/list",
            &json!({}),
            Some(&token_of(&r, "again")),
        )
        .await;
    assert_ne!(
        expect_ok(&r, "list")["passkeys"][0]["last_used_at"],
        0,
        "{}",
        r.1
    );
}

#[tokio::test]
async fn a_passkey_alone_signs_in_and_only_while_it_and_its_user_are_valid() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let mut key = SoftKey::for_server(&s);
    s.register_passkey(&u.token, &mut key, "security key").await;

    let (token, options) = begin_sign_in(&s).await;
    let assertion = key.assert(&options).await;
    let r = sign_in(&s, &token, &assertion).await;
    let session = token_of(&r, "passkey sign-in");
    assert_eq!(r.1["data"]["user_name"], u.name.as_str(), "{}", r.1);
    let r = s
        .post("platform/list/session", &json!({}), Some(&session))
        .await;
    let rows = expect_ok(&r, "list/session");
    assert!(
        rows["sessions"].as_array().is_some_and(|rows| rows
            .iter()
            .any(|row| row["current"] == true && row["factors"] == json!(["passkey"]))),
        "{rows}"
    );
    // Once: the ceremony is gone.
    let r = sign_in(&s, &token, &assertion).await;
    expect_code(&r, 401, 1001, "a replayed sign-in");

    // A disabled user cannot sign in with a passkey (positive control above).
    let r = s
        .post(
            "platform/disable/user",
            &json!({"user_name": u.name}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "disable");
    let (token, options) = begin_sign_in(&s).await;
    let r = sign_in(&s, &token, &key.assert(&options).await).await;
    expect_code(&r, 200, 1012, "a disabled user's passkey");
    let r = s
        .post(
            "platform/enable/user",
            &json!({"user_name": u.name}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "enable");
    let (token, options) = begin_sign_in(&s).await;
    token_of(
        &sign_in(&s, &token, &key.assert(&options).await).await,
        "enabled again",
    );

    // A removed passkey signs no one in.
    let fresh = s
        .post(
            "login/mfa",
            &json!({"mfa_token": passkey_token_for(&s, &u).await.0, "passkey": Value::Null}),
            None,
        )
        .await;
    expect_code(&fresh, 200, 1004, "login/mfa without code or passkey");
    let (mfa_token, options) = passkey_token_for(&s, &u).await;
    let session = token_of(
        &complete(&s, &mfa_token, &key.assert(&options).await).await,
        "second step",
    );
    let id = expect_ok(
        &s.post("platform/mfa/passkey/list", &json!({}), Some(&session))
            .await,
        "list",
    )["passkeys"][0]["id"]
        .clone();
    let r = s
        .post(
            "platform/mfa/passkey/remove",
            &json!({"id": id, "password": "not-the-password-1A"}),
            Some(&session),
        )
        .await;
    expect_code(&r, 200, 1007, "remove with a wrong password");
    let r = s
        .post(
            "platform/mfa/passkey/remove",
            &json!({"id": id, "password": u.password}),
            Some(&session),
        )
        .await;
    expect_ok(&r, "remove with the password");
    let (token, options) = begin_sign_in(&s).await;
    let r = sign_in(&s, &token, &key.assert(&options).await).await;
    expect_code(&r, 200, 1008, "a removed passkey");
    // Without a second factor left, the password alone logs in as documented.
    s.login(&u.name, &u.password).await;
}

/// Begins a passwordless sign-in: `(passkey_token, options)`.
async fn begin_sign_in(s: &TestServer) -> (String, Value) {
    let r = s.post("login/passkey/begin", &json!({}), None).await;
    let begun = expect_ok(&r, "login/passkey/begin");
    // Discoverable: the browser is asked for any passkey of this site.
    let allowed = &begun["options"]["publicKey"]["allowCredentials"];
    assert!(
        allowed.is_null() || allowed.as_array().is_some_and(Vec::is_empty),
        "{begun}"
    );
    (
        begun["passkey_token"].as_str().expect("token").to_string(),
        begun["options"].clone(),
    )
}

async fn sign_in(s: &TestServer, token: &str, assertion: &Value) -> (u16, Value) {
    s.post(
        "login/passkey",
        &json!({"passkey_token": token, "passkey": assertion}),
        None,
    )
    .await
}

/// The challenge of `u`'s password login: `(mfa_token, passkey options)`.
async fn passkey_token_for(s: &TestServer, u: &TestUser) -> (String, Value) {
    passkey_challenge(s, &u.name, &u.password).await
}

#[tokio::test]
async fn passkeys_are_removed_only_by_their_owner_or_an_admin_reset() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let v = s.new_user(&admin, &[]).await;
    let mut key = SoftKey::for_server(&s);
    let theirs = s.register_passkey(&v.token, &mut key, "v's key").await;
    let mut own = SoftKey::for_server(&s);
    s.register_passkey(&u.token, &mut own, "u's key").await;

    // u names v's passkey: not one of u's (on a session that proved u's passkey).
    let u_session = s.login_with_passkey_step(&u, &mut own).await;
    let r = s
        .post(
            "platform/mfa/passkey/remove",
            &json!({"id": theirs["id"], "password": u.password}),
            Some(&u_session),
        )
        .await;
    expect_code(&r, 200, 1006, "another user's passkey");
    let r = s
        .post("platform/mfa/passkey/list", &json!({}), Some(&v.token))
        .await;
    assert_eq!(
        expect_ok(&r, "v's list")["passkeys"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // The same credential cannot be registered twice.
    let v_session = s.login_with_passkey_step(&v, &mut key).await;
    let r = s
        .post("platform/mfa/passkey/begin", &json!({}), Some(&v_session))
        .await;
    let begun = expect_ok(&r, "begin again");
    let excluded = begun["options"]["publicKey"]["excludeCredentials"].clone();
    assert_eq!(excluded.as_array().map(Vec::len), Some(1), "{begun}");

    // A registration completes only on the session that began it.
    let elsewhere = s.login_with_passkey_step(&v, &mut key).await;
    let mut spare = SoftKey::for_server(&s);
    let credential = spare.register(&begun["options"]).await;
    let finish = json!({
        "passkey_token": begun["passkey_token"],
        "name": "spare",
        "credential": credential,
    });
    let r = s
        .post("platform/mfa/passkey/finish", &finish, Some(&elsewhere))
        .await;
    expect_code(&r, 200, 1009, "another session finishing the registration");
    let r = s
        .post("platform/mfa/passkey/finish", &finish, Some(&v_session))
        .await;
    expect_ok(&r, "the session that began it finishes it");
    let r = s
        .post("platform/mfa/passkey/finish", &finish, Some(&v_session))
        .await;
    expect_code(&r, 200, 1009, "a registration is finished once");

    // An admin's reset removes every second factor; the password alone then logs in.
    let r = s
        .post(
            "platform/reset/mfa",
            &json!({"user_name": v.name}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "reset/mfa");
    s.login(&v.name, &v.password).await;
    let r = s
        .post(
            "platform/reset/mfa",
            &json!({"user_name": v.name}),
            Some(&admin),
        )
        .await;
    expect_code(&r, 200, 1009, "nothing left to reset");
}

#[tokio::test]
async fn a_passkey_steps_up_a_session_for_sensitive_actions() {
    let s = TestServer::start_with(&["--step-up-secs", "2"]).await;
    let admin = s.admin_token().await;
    let target = s.new_user(&admin, &[]).await;
    let guarded = s.new_user(&admin, &["UserEdit"]).await;
    let mut key = SoftKey::for_server(&s);
    s.register_passkey(&guarded.token, &mut key, "key").await;
    let token = s.login_with_passkey_step(&guarded, &mut key).await;
    let reset = |t: String| {
        let s = &s;
        let name = target.name.clone();
        async move {
            s.post(
                "platform/reset/password",
                &json!({"user_name": name, "new_password": gen_password()}),
                Some(&t),
            )
            .await
        }
    };
    expect_ok(&reset(token.clone()).await, "fresh passkey");
    tokio::time::sleep(Duration::from_millis(3100)).await;
    expect_code(&reset(token.clone()).await, 200, 1033, "stale");

    let r = s
        .post("platform/mfa/passkey/challenge", &json!({}), Some(&token))
        .await;
    let begun = expect_ok(&r, "mfa/passkey/challenge");
    let assertion = key.assert(&begun["options"]).await;
    // Bound to its session: another session of the same user cannot use it.
    let other_session = s.login_with_passkey_step(&guarded, &mut key).await;
    let step_up = json!({"passkey_token": begun["passkey_token"], "passkey": assertion});
    let r = s
        .post("platform/mfa/verify", &step_up, Some(&other_session))
        .await;
    expect_code(&r, 200, 1008, "a step-up begun on another session");
    // The refused attempt took the ceremony: begin again on the right session.
    let r = s
        .post("platform/mfa/passkey/challenge", &json!({}), Some(&token))
        .await;
    let begun = expect_ok(&r, "mfa/passkey/challenge again");
    let step_up = json!({
        "passkey_token": begun["passkey_token"],
        "passkey": key.assert(&begun["options"]).await,
    });
    expect_ok(
        &s.post("platform/mfa/verify", &step_up, Some(&token)).await,
        "step-up with the passkey",
    );
    expect_ok(&reset(token.clone()).await, "fresh again");
    let r = s.post("platform/mfa/verify", &step_up, Some(&token)).await;
    expect_code(&r, 200, 1008, "a step-up assertion used twice");
}

#[tokio::test]
async fn iam_and_cloud_logins_take_a_passkey() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let mut key = SoftKey::for_server(&s);
    s.register_passkey(&u.token, &mut key, "key").await;

    let creds = json!({"username": u.name, "password": u.password});
    let r = s.iam("POST", "/login", Auth::None, Some(&creds)).await;
    assert_eq!((r.0, r.1["code"].clone()), (401, json!(100210)), "{}", r.1);
    let body = json!({
        "mfa_token": r.1["mfa_token"],
        "passkey": key.assert(&r.1["passkey"]).await,
    });
    let r = s.iam("POST", "/login/mfa", Auth::None, Some(&body)).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert!(r.1["token"].is_string(), "{}", r.1);
    let r = s.iam("POST", "/login/mfa", Auth::None, Some(&body)).await;
    assert_eq!(r.0, 401, "used: {}", r.1);

    let r = s.post("user/login", &creds, None).await;
    assert_eq!((r.0, r.1["errCode"].clone()), (200, json!(1008)), "{}", r.1);
    let body = json!({
        "mfa_token": r.1["data"]["mfa_token"],
        "passkey": key.assert(&r.1["data"]["passkey"]).await,
    });
    let r = s.post("user/login/mfa", &body, None).await;
    assert_eq!(r.1["errCode"], 0, "{}", r.1);
    assert_eq!(r.1["data"]["username"], u.name.as_str(), "{}", r.1);
}

#[tokio::test]
async fn an_ip_address_cannot_be_the_relying_party() {
    let dir = std::env::temp_dir().join(format!("rbac-rp-{}", unique_name("d")));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = format!("sqlite://{}?mode=rwc", dir.join("rbac.db").display());
    let mut child = std::process::Command::new(server_binary())
        .args([
            "--database",
            &db,
            "--listen",
            "127.0.0.1:0",
            "--rp-id",
            "127.0.0.1",
        ])
        .env("NO_COLOR", "1")
        .env_remove("RBAC_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running example-server");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stderr);
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        status.is_some_and(|s| !s.success()),
        "the server must refuse to start: {stderr}"
    );
    assert!(stderr.contains("is an IP address"), "{stderr}");
    // Positive control: a domain and an origin of it start.
    let s = TestServer::start_with(&["--rp-id", "localhost", "--rp-origin", "http://localhost:1"])
        .await;
    let r = s.post("login/passkey/begin", &json!({}), None).await;
    let begun = expect_ok(&r, "login/passkey/begin");
    assert_eq!(
        begun["options"]["publicKey"]["rpId"], "localhost",
        "{begun}"
    );
}

#[tokio::test]
async fn passkey_ceremonies_a_signed_in_user_begins_are_counted_per_hour() {
    let s = TestServer::start_with(&["--passkey-ceremonies-per-user-hour", "3"]).await;
    let admin = s.admin_token().await;
    let a = s.new_user(&admin, &[]).await;
    let b = s.new_user(&admin, &[]).await;
    let (mut key_a, mut key_b) = (SoftKey::for_server(&s), SoftKey::for_server(&s));
    // Registering begins the first ceremony of each user's three.
    s.register_passkey(&a.token, &mut key_a, "key").await;
    s.register_passkey(&b.token, &mut key_b, "key").await;
    let token_a = s.login_with_passkey_step(&a, &mut key_a).await;
    let token_b = s.login_with_passkey_step(&b, &mut key_b).await;
    let challenge = |token: String| {
        let s = &s;
        async move {
            s.post("platform/mfa/passkey/challenge", &json!({}), Some(&token))
                .await
        }
    };
    expect_ok(&challenge(token_a.clone()).await, "a's second ceremony");
    expect_ok(&challenge(token_a.clone()).await, "a's third ceremony");
    let r = challenge(token_a.clone()).await;
    expect_code(&r, 200, 1009, "a's fourth ceremony within the hour");
    // The count is the user's own: b still begins its second and third.
    expect_ok(&challenge(token_b.clone()).await, "b's second ceremony");
    expect_ok(&challenge(token_b).await, "b's third ceremony");
    // A user without a passkey is told so, and spends nothing.
    let c = s.new_user(&admin, &[]).await;
    for _ in 0..4 {
        let r = challenge(c.token.clone()).await;
        let message = r.1["header"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("no passkey"),
            "a step-up ceremony without a passkey, never throttled: {}",
            r.1
        );
    }
    // Once throttled, a's fourth is refused by the count, not for want of a passkey.
    let r = challenge(token_a).await;
    let message = r.1["header"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("too many attempts"), "{}", r.1);
}
