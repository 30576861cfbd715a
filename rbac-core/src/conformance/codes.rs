//! One-time codes: send, resend, take, and their races.

use super::*;

fn code(key: &str, digest: &str, context: &str, sent_at: Timestamp) -> VerificationCode {
    VerificationCode {
        key: key.into(),
        digest: digest.into(),
        context: context.into(),
        sent_at,
        expires_at: sent_at + 300,
    }
}

pub(super) async fn codes_send_and_resend<S: Store + ?Sized>(s: &S) -> Outcome {
    let key = format!("sms-register:{}", uniq("code"));
    let at = 1_000_000;
    ensure_eq!(
        s.put_code(&code(&key, "d1", "2", at), at - 60)
            .await
            .ctx("put_code")?,
        None
    );
    // A second send within the resend interval writes nothing and names the first send.
    ensure_eq!(
        s.put_code(&code(&key, "d2", "2", at + 30), at - 30)
            .await
            .ctx("put_code (too soon)")?,
        Some(at)
    );
    ensure_eq!(
        s.take_code(&key, "d2", "2", at + 31, 5)
            .await
            .ctx("take_code")?,
        CodeCheck::Wrong { burned: false }
    );
    // After the interval the new code replaces the old one.
    ensure_eq!(
        s.put_code(&code(&key, "d3", "5", at + 61), at + 1)
            .await
            .ctx("put_code (resend)")?,
        None
    );
    ensure_eq!(
        s.take_code(&key, "d1", "2", at + 62, 5)
            .await
            .ctx("take_code old")?,
        CodeCheck::OtherContext
    );
    ensure_eq!(
        s.take_code(&key, "d1", "5", at + 62, 5)
            .await
            .ctx("take_code old")?,
        CodeCheck::Wrong { burned: false }
    );
    // Withdrawing another digest leaves the code; withdrawing its own deletes it.
    s.withdraw_code(&key, "d1").await.ctx("withdraw_code")?;
    s.withdraw_code(&key, "d3").await.ctx("withdraw_code")?;
    ensure_eq!(
        s.take_code(&key, "d3", "5", at + 63, 5)
            .await
            .ctx("take_code withdrawn")?,
        CodeCheck::Missing
    );
    // A withdrawn code does not block the next send.
    ensure_eq!(
        s.put_code(&code(&key, "d4", "5", at + 64), at + 4)
            .await
            .ctx("put_code after withdraw")?,
        None
    );
    ensure_eq!(
        s.take_code(&key, "d4", "5", at + 65, 5)
            .await
            .ctx("take_code")?,
        CodeCheck::Accepted
    );
    Ok(())
}

pub(super) async fn codes_take<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("take");
    let at = 2_000_000;
    let (a, b, c) = (format!("a:{t}"), format!("b:{t}"), format!("c:{t}"));
    // Accepted once, then gone.
    s.put_code(&code(&a, "good", "", at), at - 60)
        .await
        .ctx("put_code")?;
    ensure_eq!(
        s.take_code(&a, "good", "", at + 1, 3).await.ctx("take")?,
        CodeCheck::Accepted
    );
    ensure_eq!(
        s.take_code(&a, "good", "", at + 1, 3).await.ctx("take")?,
        CodeCheck::Missing
    );
    // The max_attempts-th wrong try burns the code: the right one no longer works.
    s.put_code(&code(&b, "good", "", at), at - 60)
        .await
        .ctx("put_code")?;
    for burned in [false, false, true] {
        ensure_eq!(
            s.take_code(&b, "bad", "", at + 1, 3).await.ctx("take")?,
            CodeCheck::Wrong { burned }
        );
    }
    ensure_eq!(
        s.take_code(&b, "good", "", at + 1, 3).await.ctx("take")?,
        CodeCheck::Missing
    );
    // Expired at expires_at, right code or not; and then deleted.
    s.put_code(&code(&c, "good", "", at), at - 60)
        .await
        .ctx("put_code")?;
    ensure_eq!(
        s.take_code(&c, "good", "", at + 300, 3).await.ctx("take")?,
        CodeCheck::Expired
    );
    ensure_eq!(
        s.take_code(&c, "good", "", at + 1, 3).await.ctx("take")?,
        CodeCheck::Missing
    );
    // Keys are exact.
    s.put_code(&code(&c, "good", "", at), at - 60)
        .await
        .ctx("put_code")?;
    ensure_eq!(
        s.take_code(&c.to_uppercase(), "good", "", at + 1, 3)
            .await
            .ctx("take")?,
        CodeCheck::Missing
    );
    // Purging removes codes that expired before the cut-off only.
    let purged = s.purge_codes(at + 301).await.ctx("purge_codes")?;
    ensure!(purged >= 1, "purged {purged}");
    ensure_eq!(
        s.take_code(&c, "good", "", at + 1, 3).await.ctx("take")?,
        CodeCheck::Missing
    );
    Ok(())
}

pub(super) async fn codes_take_race<S: Store + ?Sized>(s: &S) -> Outcome {
    let key = format!("race:{}", uniq("take"));
    let at = now();
    s.put_code(&code(&key, "good", "", at), at - 60)
        .await
        .ctx("put_code")?;
    let f = || s.take_code(&key, "good", "", at + 1, 5);
    let (r1, r2, r3, r4) = tokio::join!(f(), f(), f(), f());
    let checks = [r1.ctx("1")?, r2.ctx("2")?, r3.ctx("3")?, r4.ctx("4")?];
    // A code is accepted exactly once, however many use it at the same time.
    ensure_eq!(
        checks.iter().filter(|c| **c == CodeCheck::Accepted).count(),
        1
    );
    ensure!(
        checks
            .iter()
            .all(|c| matches!(c, CodeCheck::Accepted | CodeCheck::Missing)),
        "{checks:?}"
    );
    Ok(())
}

pub(super) async fn codes_put_race<S: Store + ?Sized>(s: &S) -> Outcome {
    let key = format!("race:{}", uniq("put"));
    let at = now();
    let f = |d: &'static str| {
        let c = code(&key, d, "", at);
        async move { s.put_code(&c, at - 60).await }
    };
    let (r1, r2, r3, r4) = tokio::join!(f("d1"), f("d2"), f("d3"), f("d4"));
    let puts = [r1.ctx("1")?, r2.ctx("2")?, r3.ctx("3")?, r4.ctx("4")?];
    // One send wins the resend interval; the others are told when it was sent.
    ensure_eq!(puts.iter().filter(|p| p.is_none()).count(), 1);
    ensure!(
        puts.iter().all(|p| p.is_none() || *p == Some(at)),
        "{puts:?}"
    );
    let winner = ["d1", "d2", "d3", "d4"][puts.iter().position(Option::is_none).unwrap_or(0)];
    ensure_eq!(
        s.take_code(&key, winner, "", at + 1, 5).await.ctx("take")?,
        CodeCheck::Accepted
    );
    Ok(())
}
