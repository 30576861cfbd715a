//! Security events through the real binary: logins, failures, lockouts, factors,
//! passwords, grants and sessions ended by an admin reach a loopback webhook as JSON signed
//! with HMAC-SHA256; a receiver that fails gets them again with backoff once it recovers;
//! a restart loses none; two instances never send one event twice; the delivery status is
//! the built-in admin's to see.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tests::*;

const SECRET: &str = "webhook-secret-for-tests-0123456789";

fn secret_file() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{}.webhook-secret", unique_name("hook")));
    std::fs::write(&path, SECRET).expect("secret file");
    path
}

fn flags<'a>(hook: &'a Webhook, secret: &'a str) -> Vec<&'a str> {
    vec![
        "--webhook",
        hook.url(),
        "--webhook-secret-file",
        secret,
        "--webhook-poll-ms",
        "100",
        "--webhook-retry-secs",
        "1",
    ]
}

/// The header `name` of a lower-cased request head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(str::trim)
}

/// Checks a request's `rbac-signature` over its exact body, as a receiver would.
fn verified(head: &str, body: &[u8], secret: &str) -> bool {
    let Some(sig) = header(head, "rbac-signature") else {
        return false;
    };
    let mut t = None;
    let mut v1 = None;
    for part in sig.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if (now - t).abs() > 300 {
        return false;
    }
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac.verify_slice(&v1).is_ok()
}

/// Events received (verified), by id: (type, times received); `answered`: only those
/// answered 200.
fn received(hook: &Webhook, answered: bool) -> HashMap<String, (String, usize)> {
    let mut out: HashMap<String, (String, usize)> = HashMap::new();
    for (head, body, ok) in hook.requests() {
        if answered && !ok {
            continue;
        }
        assert!(verified(&head, &body, SECRET), "a bad signature: {head}");
        let v: Value = serde_json::from_slice(&body).expect("json");
        let id = v["id"].as_str().expect("id").to_string();
        assert_eq!(header(&head, "rbac-event-id"), Some(id.as_str()));
        let entry = out
            .entry(id)
            .or_insert((v["type"].as_str().unwrap_or("").to_string(), 0));
        entry.1 += 1;
    }
    out
}

pub(crate) async fn deliveries(s: &TestServer, admin: &str) -> Vec<Value> {
    let r = s
        .post(
            "platform/list/webhook-delivery",
            &json!({"limit": 1000}),
            Some(admin),
        )
        .await;
    expect_ok(&r, "list/webhook-delivery")["deliveries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn all_delivered(s: &TestServer, admin: &str, at_least: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = deliveries(s, admin).await;
        if rows.len() >= at_least && rows.iter().all(|d| !d["delivered_at"].is_null()) {
            return rows;
        }
        assert!(Instant::now() < deadline, "not all delivered: {rows:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn events_are_signed_retried_after_failures_and_seen_by_the_admin_alone() {
    let hook = Webhook::start().await;
    hook.set_failing(true);
    let secret = secret_file();
    let secret_arg = secret.display().to_string();
    let mut extra = flags(&hook, &secret_arg);
    extra.extend(["--login-free-failures", "1", "--login-backoff-secs", "1"]);
    let s = TestServer::start_with(&extra).await;
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &["UserAccess"]).await;
    // Two wrong passwords: the second leaves the account backing off.
    for _ in 0..2 {
        let r = s
            .post(
                "login",
                &json!({"name": u.name, "password": "wrong-password-9"}),
                None,
            )
            .await;
        assert_ne!(code(&r.1), 0, "{}", r.1);
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.enrol_totp(&u.token).await;
    s.grant(&admin, &u.role, &["UserAccess", "RoleAccess"])
        .await;
    let r = s
        .post(
            "platform/reset/password",
            &json!({"user_name": u.name, "new_password": gen_password()}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "reset password");
    let r = s
        .post(
            "platform/end/session",
            &json!({"user_name": u.name}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "the admin ends the user's sessions");
    let r = s
        .post(
            "platform/reset/mfa",
            &json!({"user_name": u.name}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "the admin resets the user's second factor");
    let fresh = s.admin_token().await;
    let r = s
        .post(
            "platform/end/session",
            &json!({"user_name": "admin"}),
            Some(&fresh),
        )
        .await;
    expect_ok(&r, "the admin ends its own other sessions");

    // The receiver fails: attempts are made and recorded, nothing is delivered.
    let deadline = Instant::now() + Duration::from_secs(15);
    while hook.requests().is_empty() {
        assert!(Instant::now() < deadline, "no attempt reached the receiver");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rows = deliveries(&s, &fresh).await;
    assert!(rows.iter().all(|d| d["delivered_at"].is_null()), "{rows:?}");
    assert!(
        rows.iter().any(|d| d["last_error"] == "HTTP 500"),
        "the failure is visible: {rows:?}"
    );

    // It recovers: every event arrives, signed, and is answered once.
    hook.set_failing(false);
    let rows = all_delivered(&s, &fresh, 8).await;
    let after = received(&hook, true);
    let all = received(&hook, false);
    let types: HashSet<&str> = all.values().map(|(t, _)| t.as_str()).collect();
    for wanted in [
        "login.succeeded",
        "login.failed",
        "account.locked",
        "second_factor.enrolled",
        "role.changed",
        "password.reset",
        "sessions.ended_by_admin",
        "second_factor.removed",
    ] {
        assert!(types.contains(wanted), "{wanted} missing from {types:?}");
    }
    for row in &rows {
        let id = row["event_id"].as_str().expect("id");
        assert!(all.contains_key(id), "delivered but never received: {row}");
    }
    for (id, (kind, n)) in &after {
        assert_eq!(*n, 1, "{kind} {id} answered {n} times");
    }
    assert!(
        hook.requests().iter().any(|(_, _, ok)| !ok),
        "some attempts failed first"
    );
    // The signature is checked for real: another secret does not verify it.
    let (head, body, _) = hook.requests().pop().expect("a request");
    assert!(verified(&head, &body, SECRET));
    assert!(!verified(&head, &body, "another-secret-another-secret"));

    // The delivery status is the built-in admin's alone (the admin's own listing above is
    // the control).
    let other = s.new_user(&fresh, &ALL_PRIVILEGES).await;
    let r = s
        .post(
            "platform/list/webhook-delivery",
            &json!({}),
            Some(&other.token),
        )
        .await;
    expect_code(
        &r,
        200,
        1000,
        "a user holding every privilege but not admin",
    );
    let _ = std::fs::remove_file(secret);
}

#[tokio::test]
async fn two_instances_never_send_one_event_twice_and_a_restart_loses_none() {
    let hook = Webhook::start().await;
    hook.set_failing(true);
    let secret = secret_file();
    let secret_arg = secret.display().to_string();
    let extra = flags(&hook, &secret_arg);
    let a = TestServer::start_with(&extra).await;
    // The admin's login is an event too.
    let admin = a.admin_token().await;
    // Six accounts that exist, one wrong password each: an event each (failures of
    // unknown names would be folded into one per address and minute).
    for _ in 0..6 {
        let name = unique_name("wrong");
        a.create_user(&admin, &name, "Right-pw-123", None).await;
        let r = a
            .post(
                "login",
                &json!({"name": name, "password": "x-password-1"}),
                None,
            )
            .await;
        assert_ne!(code(&r.1), 0);
    }
    // A second instance starts, the first stops: the queue is in the store.
    let b = a.start_sharing(&extra).await;
    // A third polls alongside: two instances race for every delivery.
    let _c = a.start_sharing(&extra).await;
    a.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    hook.set_failing(false);
    let admin_b = b.admin_token().await;
    let rows = all_delivered(&b, &admin_b, 7).await;
    // Every event is delivered; among the answered requests, none twice, though two
    // instances were polling.
    let after = received(&hook, true);
    for row in &rows {
        let id = row["event_id"].as_str().expect("id");
        let n = after.get(id).map_or(0, |(_, n)| *n);
        assert!(n <= 1, "event {id} answered {n} times");
    }
    let failed_logins = received(&hook, false)
        .values()
        .filter(|(t, _)| t == "login.failed")
        .count();
    assert_eq!(failed_logins, 6, "every failed login, after the restart");
    let _ = std::fs::remove_file(secret);
}

#[tokio::test]
async fn each_target_can_have_its_own_key() {
    let (a, b) = (Webhook::start().await, Webhook::start().await);
    let (key_a, key_b) = ("receiver-a-key-0123456789", "receiver-b-key-9876543210");
    let file = |text: String| {
        let path = std::env::temp_dir().join(format!("{}.webhook-keys", unique_name("hooks")));
        std::fs::write(&path, text).expect("key file");
        path.display().to_string()
    };
    let keys = file(format!(
        "# one key per receiver\n{} {key_a}\n{} {key_b}\n",
        a.url(),
        b.url()
    ));
    let s = TestServer::start_with(&[
        "--webhook",
        a.url(),
        "--webhook",
        b.url(),
        "--webhook-secret-file",
        &keys,
        "--webhook-poll-ms",
        "100",
    ])
    .await;
    s.admin_token().await; // a login.succeeded event, for both receivers
    let deadline = Instant::now() + Duration::from_secs(30);
    while a.requests().is_empty() || b.requests().is_empty() {
        assert!(Instant::now() < deadline, "the event did not reach both");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (hook, own, other) in [(&a, key_a, key_b), (&b, key_b, key_a)] {
        for (head, body, _) in hook.requests() {
            assert!(
                verified(&head, &body, own),
                "not signed with its own key: {head}"
            );
            assert!(
                !verified(&head, &body, other),
                "signed with another's key: {head}"
            );
        }
    }
    // A key file that leaves a target without a key refuses the start, before any store.
    let partial = file(format!("{} {key_a}\n", a.url()));
    let dir = std::env::temp_dir().join(unique_name("refused"));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut child = std::process::Command::new(server_binary())
        .args(["--listen", "127.0.0.1:0", "--database"])
        .arg(format!("sqlite://{}/rbac.db", dir.display()))
        .args(["--webhook", a.url(), "--webhook", b.url()])
        .args(["--webhook-secret-file", &partial])
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the server");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("a key file without a key for every target was accepted");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("no secret for the target"), "{stderr}");
}

/// 500 failed logins of unknown names (one client address) do not delay the event of an
/// admin's password reset: they are folded into one event per address and minute, and a
/// batch is sent at once. The control: the failures still have their event (one, or one per
/// minute the burst spans); what a fold carries is the `noise` module's unit test.
#[tokio::test]
async fn anonymous_noise_does_not_delay_the_events_that_matter() {
    let hook = Webhook::start().await;
    let secret = secret_file();
    let secret_arg = secret.display().to_string();
    let mut extra = flags(&hook, &secret_arg);
    extra.extend([
        "--login-address-max-failures",
        "100000",
        "--login-address-concurrency",
        "64",
    ]);
    let s = std::sync::Arc::new(TestServer::start_with(&extra).await);
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let noise: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                for _ in 0..63 {
                    let name = unique_name("nobody");
                    // A machine slowed by other work may queue the burst past its wait
                    // (1009, "try again"): the client then tries again, as one would.
                    let r = loop {
                        let r = s
                            .post(
                                "login",
                                &json!({"name": name, "password": "Wrong-pw-1"}),
                                None,
                            )
                            .await;
                        if code(&r.1) != 1009 {
                            break r;
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    };
                    assert_eq!(code(&r.1), 1002, "{r:?}");
                }
            })
        })
        .collect();
    for n in noise {
        n.await.expect("noise");
    }
    let reset_at = Instant::now();
    let r = s
        .post(
            "platform/reset/password",
            &json!({"user_name": u.name, "new_password": gen_password()}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "reset/password");
    let delay = loop {
        let got = received(&hook, true);
        if got.values().any(|(kind, _)| kind == "password.reset") {
            break reset_at.elapsed();
        }
        assert!(
            reset_at.elapsed() < Duration::from_secs(10),
            "the reset's event still waits behind the noise: {} events received",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("the reset's event arrived {delay:?} after 504 anonymous failures");
    let failed = received(&hook, true)
        .values()
        .filter(|(kind, _)| kind == "login.failed")
        .count();
    assert!(
        (1..=3).contains(&failed),
        "one event per address and minute, not one per failure: {failed}"
    );
    let _ = std::fs::remove_file(secret);
}
