//! Hash flooding: with one hashing worker and a queue of two, a burst of logins across
//! several accounts gets quick "busy" refusals beyond the queue instead of piling up (and,
//! for attempts that waited too long behind others on one account, the throttled answer),
//! the server keeps answering other requests, and logins work again once the burst is over.

use std::sync::Arc;

use tests::*;

#[tokio::test]
async fn a_login_burst_beyond_the_queue_is_answered_busy() {
    // Every request comes from 127.0.0.1: let its attempts all reach the hasher at once
    // (by default one address hashes only a few at a time, which would hide the queue).
    let srv = Arc::new(
        TestServer::start_with(&[
            "--argon2-workers",
            "1",
            "--argon2-queue",
            "2",
            "--login-address-concurrency",
            "30",
        ])
        .await,
    );
    let admin = srv.admin_token().await;
    // One attempt per account hashes at a time, so the burst spreads over six accounts.
    let mut names = Vec::new();
    for _ in 0..6 {
        let name = unique_name("flood");
        srv.create_user(&admin, &name, "Flood-pw-1", None).await;
        names.push(name);
    }

    let burst: Vec<_> = (0..30)
        .map(|i| {
            let (srv, name) = (srv.clone(), names[i % names.len()].clone());
            tokio::spawn(async move {
                srv.post(
                    "login",
                    &json!({"name": name, "password": "Flood-pw-1"}),
                    None,
                )
                .await
            })
        })
        .collect();
    // Other requests are served during the burst.
    assert_eq!(srv.request("GET", "platform/ping", None).await.0, 200);
    let (mut busy, mut ok, mut throttled) = (0, 0, 0);
    for t in burst {
        let r = t.await.expect("task");
        assert_eq!(r.0, 200, "{}", r.1);
        match code(&r.1) {
            0 => ok += 1,
            1019 => {
                busy += 1;
                let msg = r.1["header"]["message"].as_str().unwrap_or_default();
                assert!(msg.contains("busy"), "says why: {msg}");
            }
            1009 => throttled += 1,
            other => panic!("unexpected code {other}: {}", r.1),
        }
    }
    let seen = format!("{ok} ok, {busy} busy, {throttled} throttled");
    assert!(ok >= 1, "some logins went through ({seen})");
    assert!(busy >= 1, "the burst overflowed the queue ({seen})");
    // Once the burst is over, logins work again.
    for name in &names {
        srv.login(name, "Flood-pw-1").await;
    }
}
