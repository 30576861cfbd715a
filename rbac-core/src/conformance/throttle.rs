//! Failed-login counters, reservations and known login addresses.

use super::*;

pub(super) async fn login_throttle<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("throttle");
    let (a, b) = (format!("user:{t}"), format!("ip:{t}"));
    let policy = ThrottlePolicy {
        free: 1,
        max_failures: 3,
        window: 100,
        lockout: 1000,
        backoff: 10,
    };
    let at = 1_000_000;
    let blocked = |keys: Vec<String>, when: Timestamp| async move {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        s.login_blocked(&keys, when).await.ctx("login_blocked")
    };
    let fail = |key: String, when: Timestamp| async move {
        s.record_login_failure(&key, when, &policy)
            .await
            .ctx("record_login_failure")
    };
    ensure_eq!(blocked(vec![a.clone(), b.clone()], at).await?, None);
    ensure_eq!(blocked(vec![], at).await?, None);
    // The first failure costs no wait; the second waits `backoff`; the third locks.
    ensure_eq!(fail(a.clone(), at).await?, 1);
    ensure_eq!(blocked(vec![a.clone()], at).await?, None);
    ensure_eq!(fail(a.clone(), at + 1).await?, 2);
    ensure_eq!(
        blocked(vec![a.clone(), b.clone()], at + 1).await?,
        Some(at + 11)
    );
    ensure_eq!(blocked(vec![b.clone()], at + 1).await?, None);
    ensure_eq!(blocked(vec![a.clone()], at + 11).await?, None);
    ensure_eq!(fail(a.clone(), at + 12).await?, 3);
    ensure_eq!(blocked(vec![a.clone()], at + 13).await?, Some(at + 1012));
    // A failure after the window starts a new count (and lifts the block).
    ensure_eq!(fail(a.clone(), at + 500).await?, 1);
    ensure_eq!(blocked(vec![a.clone()], at + 500).await?, None);
    // Keys are independent and exact; clearing forgets one.
    ensure_eq!(fail(b.clone(), at).await?, 1);
    ensure_eq!(fail(b.clone(), at).await?, 2);
    ensure_eq!(blocked(vec![b.to_uppercase()], at).await?, None);
    s.clear_login_failures(&b)
        .await
        .ctx("clear_login_failures")?;
    ensure_eq!(blocked(vec![b.clone()], at).await?, None);
    ensure_eq!(fail(b.clone(), at).await?, 1);
    s.clear_login_failures(&format!("{t}-never"))
        .await
        .ctx("clearing a missing key")?;
    // `a` kept its own count through all of `b`'s.
    ensure_eq!(fail(a.clone(), at + 501).await?, 2);
    Ok(())
}

pub(super) async fn login_throttle_race<S: Store + ?Sized>(s: &S) -> Outcome {
    let key = format!("user:{}", uniq("throttle-race"));
    let policy = ThrottlePolicy {
        free: 0,
        max_failures: 100,
        window: 1000,
        lockout: 1000,
        backoff: 0,
    };
    let at = now();
    let f = || s.record_login_failure(&key, at, &policy);
    let (r1, r2, r3, r4) = tokio::join!(f(), f(), f(), f());
    let mut counts = vec![
        r1.ctx("failure 1")?,
        r2.ctx("failure 2")?,
        r3.ctx("failure 3")?,
        r4.ctx("failure 4")?,
    ];
    counts.sort_unstable();
    // Each concurrent failure counted exactly once.
    ensure_eq!(counts, vec![1, 2, 3, 4]);
    Ok(())
}

/// Reservations: counted while not blocked, refused without counting while blocked,
/// released by clearing, restarted after the window.
pub(super) async fn login_reserve<S: Store + ?Sized>(s: &S) -> Outcome {
    let key = format!("user:{}", uniq("reserve"));
    let policy = ThrottlePolicy {
        free: 2,
        max_failures: 4,
        window: 100,
        lockout: 1000,
        backoff: 10,
    };
    let at = 1_000_000;
    let reserve = |when: Timestamp| {
        let key = key.clone();
        async move {
            s.reserve_login_attempt(&key, when, &policy)
                .await
                .ctx("reserve_login_attempt")
        }
    };
    ensure_eq!(reserve(at).await?, Ok(1));
    ensure_eq!(reserve(at).await?, Ok(2));
    // Past the free ones: counted, and blocked for the backoff.
    ensure_eq!(reserve(at).await?, Ok(3));
    ensure_eq!(reserve(at + 1).await?, Err(at + 10));
    ensure_eq!(reserve(at + 9).await?, Err(at + 10));
    ensure_eq!(
        s.login_blocked(&[key.as_str()], at + 9)
            .await
            .ctx("blocked")?,
        Some(at + 10)
    );
    // The refusals counted nothing: the next one is the fourth, which locks.
    ensure_eq!(reserve(at + 10).await?, Ok(4));
    ensure_eq!(reserve(at + 11).await?, Err(at + 1010));
    s.clear_login_failures(&key).await.ctx("clear")?;
    ensure_eq!(reserve(at + 12).await?, Ok(1));
    ensure_eq!(reserve(at + 500).await?, Ok(1));
    // An unlock forgets the key and its `@address` keys, not a longer name's.
    let (known, longer) = (format!("{key}@127.0.0.9"), format!("{key}x"));
    for k in [&known, &longer] {
        s.record_login_failure(k, at, &policy).await.ctx("fail")?;
    }
    s.clear_login_failures_under(&key)
        .await
        .ctx("clear under")?;
    ensure_eq!(reserve(at + 501).await?, Ok(1));
    ensure_eq!(
        s.reserve_login_attempt(&known, at, &policy)
            .await
            .ctx("known")?,
        Ok(1)
    );
    ensure_eq!(
        s.reserve_login_attempt(&longer, at, &policy)
            .await
            .ctx("longer")?,
        Ok(2)
    );
    Ok(())
}

/// Concurrent reservations of one key: exactly as many as the policy allows are granted.
pub(super) async fn login_reserve_race<S: Store + ?Sized>(s: &S) -> Outcome {
    let key = format!("user:{}", uniq("reserve-race"));
    let policy = ThrottlePolicy {
        free: 100,
        max_failures: 5,
        window: 1000,
        lockout: 1000,
        backoff: 0,
    };
    let at = now();
    let f = || s.reserve_login_attempt(&key, at, &policy);
    let (r1, r2, r3, r4, r5, r6, r7, r8) = tokio::join!(f(), f(), f(), f(), f(), f(), f(), f());
    let results = [r1, r2, r3, r4, r5, r6, r7, r8];
    let mut granted = Vec::new();
    for r in results {
        if let Ok(n) = r.ctx("reserve")? {
            granted.push(n);
        }
    }
    granted.sort_unstable();
    ensure_eq!(granted, vec![1, 2, 3, 4, 5]);
    Ok(())
}

/// Known login addresses: per account and address, the latest success kept.
pub(super) async fn login_addresses<S: Store + ?Sized>(s: &S) -> Outcome {
    let account = uniq("addr");
    let known = |address: &'static str, since: Timestamp| {
        let account = account.clone();
        async move {
            s.login_address_known(&account, address, since)
                .await
                .ctx("login_address_known")
        }
    };
    ensure!(!known("127.0.0.9", 0).await?, "unknown before any login");
    s.remember_login_address(&account, "127.0.0.9", 100)
        .await
        .ctx("remember")?;
    ensure!(
        known("127.0.0.9", 50).await?,
        "known since before the login"
    );
    ensure!(known("127.0.0.9", 100).await?, "known at the login");
    ensure!(!known("127.0.0.9", 101).await?, "not known since after it");
    ensure!(!known("127.0.0.10", 0).await?, "another address");
    ensure!(
        !s.login_address_known(&format!("{account}x"), "127.0.0.9", 0)
            .await
            .ctx("other account")?,
        "another account"
    );
    s.remember_login_address(&account, "127.0.0.9", 200)
        .await
        .ctx("remember again")?;
    s.remember_login_address(&account, "127.0.0.9", 150)
        .await
        .ctx("remember an older one")?;
    ensure!(known("127.0.0.9", 200).await?, "the latest success is kept");
    Ok(())
}
