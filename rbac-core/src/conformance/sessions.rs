//! Sessions: issue, revoke, rotate (once, racing), touch, count and purge.

use super::*;

pub(super) async fn session_create_and_read<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let sess = Session {
        id: format!("{t}-{}", "f".repeat(64)),
        user_id: u.id,
        kind: SessionKind::Opaque,
        issued_at: 1_700_000_000,
        expires_at: 1_700_007_200,
        last_seen: 1_700_000_100,
        revoked: false,
        ip: "2001:db8::2".into(),
        factors: Factors::PASSWORD | Factors::TOTP,
        verified_at: 1_700_000_050,
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) \u{2014} probe".into(),
    };
    s.create_session(
        &sess,
        &p.journal("login", &[Change::Session(sess.id.clone())]),
    )
    .await
    .ctx("create_session")?;
    p.written(s, "login", &[Change::Session(sess.id.clone())])
        .await?;
    ensure_eq!(
        s.session(&sess.id).await.ctx("session")?,
        Some(sess.clone())
    );
    let mut jwt = new_session(&format!("{t}-jwt"), u.id, now() + 60);
    jwt.revoked = true;
    s.create_session(&jwt, &Journal::default())
        .await
        .ctx("create revoked jwt session")?;
    ensure_eq!(s.session(&jwt.id).await.ctx("session")?, Some(jwt.clone()));
    ensure_eq!(s.session(&format!("{t}-none")).await.ctx("session")?, None);
    ensure_eq!(
        s.session(&sess.id.to_uppercase()).await.ctx("session")?,
        None
    );

    let mut dup = sess.clone();
    dup.ip = "other".into();
    ensure_err!(
        s.create_session(&dup, &p.journal("dup", &[Change::Session(dup.id.clone())]))
            .await,
        StoreError::Conflict(Field::Other)
    );
    p.nothing(s, "a session with a taken id").await?;
    ensure_eq!(s.session(&sess.id).await.ctx("session")?, Some(sess));

    let orphan = new_session(&format!("{t}-orphan"), i64::MAX - 10, now() + 60);
    ensure_err!(
        s.create_session(&orphan, &p.journal("orphan", &[])).await,
        StoreError::NotFound(Entity::User)
    );
    p.nothing(s, "a session of a missing user").await?;
    ensure_eq!(s.session(&orphan.id).await.ctx("session")?, None);
    Ok(())
}

pub(super) async fn session_revoke<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let sid = format!("{t}-a");
    s.create_session(&new_session(&sid, u.id, now() + 60), &Journal::default())
        .await
        .ctx("create session")?;
    let ch = [Change::Session(sid.clone())];
    ensure!(
        s.revoke_session(&sid, &p.journal("logout", &ch))
            .await
            .ctx("revoke")?,
        "revoke of a live session returned false"
    );
    p.written(s, "logout", &ch).await?;
    ensure_eq!(
        s.session(&sid).await.ctx("session")?.map(|x| x.revoked),
        Some(true)
    );
    ensure!(
        !s.revoke_session(&sid, &p.journal("again", &ch))
            .await
            .ctx("revoke again")?,
        "second revoke returned true"
    );
    p.nothing(s, "revoking a revoked session").await?;
    ensure!(
        !s.revoke_session(&format!("{t}-none"), &p.journal("none", &ch))
            .await
            .ctx("revoke missing")?,
        "revoking a missing session returned true"
    );
    p.nothing(s, "revoking a missing session").await?;
    Ok(())
}

pub(super) async fn session_rotate_once<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let old = format!("{t}-old");
    s.create_session(&new_session(&old, u.id, now() + 60), &Journal::default())
        .await
        .ctx("create session")?;
    let new1 = new_session(&format!("{t}-new1"), u.id, now() + 120);
    let ch = [Change::Session(old.clone())];
    ensure!(
        s.rotate_session(&old, &new1, &p.journal("refresh", &ch))
            .await
            .ctx("rotate")?,
        "first rotate returned false"
    );
    p.written(s, "refresh", &ch).await?;
    ensure_eq!(
        s.session(&old).await.ctx("session")?.map(|x| x.revoked),
        Some(true)
    );
    ensure_eq!(
        s.session(&new1.id).await.ctx("session")?,
        Some(new1.clone())
    );

    let new2 = new_session(&format!("{t}-new2"), u.id, now() + 120);
    ensure!(
        !s.rotate_session(&old, &new2, &p.journal("replay", &ch))
            .await
            .ctx("rotate again")?,
        "second rotate of the same session returned true"
    );
    p.nothing(s, "a second rotate").await?;
    ensure_eq!(s.session(&new2.id).await.ctx("session")?, None);

    ensure!(
        !s.rotate_session(&format!("{t}-none"), &new2, &p.journal("none", &ch))
            .await
            .ctx("rotate missing")?,
        "rotating a missing session returned true"
    );
    p.nothing(s, "rotating a missing session").await?;
    ensure_eq!(s.session(&new2.id).await.ctx("session")?, None);

    // The new session rotates in turn.
    ensure!(
        s.rotate_session(&new1.id, &new2, &p.journal("refresh 2", &[]))
            .await
            .ctx("rotate new")?,
        "rotating the new session returned false"
    );
    p.written(s, "refresh 2", &[]).await?;
    Ok(())
}

pub(super) async fn session_rotate_race<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    for round in 0..5 {
        let old = format!("{t}-old{round}");
        s.create_session(&new_session(&old, u.id, now() + 60), &Journal::default())
            .await
            .ctx("create session")?;
        let a = new_session(&format!("{t}-a{round}"), u.id, now() + 60);
        let b = new_session(&format!("{t}-b{round}"), u.id, now() + 60);
        let (ja, jb) = (Journal::default(), Journal::default());
        let (ra, rb) = tokio::join!(
            s.rotate_session(&old, &a, &ja),
            s.rotate_session(&old, &b, &jb)
        );
        let (ra, rb) = (ra.ctx("rotate a")?, rb.ctx("rotate b")?);
        ensure!(
            ra != rb,
            "round {round}: concurrent rotates returned {ra} and {rb}; exactly one may win"
        );
        let ea = s.session(&a.id).await.ctx("session")?.is_some();
        let eb = s.session(&b.id).await.ctx("session")?.is_some();
        ensure_eq!((ea, eb), (ra, rb));
    }
    Ok(())
}

pub(super) async fn session_rotate_refusals<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let old = format!("{t}-old");
    let taken = format!("{t}-taken");
    for id in [&old, &taken] {
        s.create_session(&new_session(id, u.id, now() + 60), &Journal::default())
            .await
            .ctx("create session")?;
    }
    let clash = new_session(&taken, u.id, now() + 600);
    ensure_err!(
        s.rotate_session(
            &old,
            &clash,
            &p.journal("clash", &[Change::Session(old.clone())])
        )
        .await,
        StoreError::Conflict(Field::Other)
    );
    p.nothing(s, "a rotate onto a taken id").await?;
    ensure_eq!(
        s.session(&old).await.ctx("session")?.map(|x| x.revoked),
        Some(false)
    );
    ensure!(
        s.session(&taken)
            .await
            .ctx("session")?
            .map(|x| x.expires_at)
            != Some(clash.expires_at),
        "the taken session was overwritten"
    );

    let orphan = new_session(&format!("{t}-orphan"), i64::MAX - 12, now() + 60);
    ensure_err!(
        s.rotate_session(&old, &orphan, &p.journal("orphan", &[]))
            .await,
        StoreError::NotFound(Entity::User)
    );
    p.nothing(s, "a rotate to a missing user").await?;
    ensure_eq!(
        s.session(&old).await.ctx("session")?.map(|x| x.revoked),
        Some(false)
    );
    ensure_eq!(s.session(&orphan.id).await.ctx("session")?, None);
    Ok(())
}

pub(super) async fn session_revoke_user_sessions<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let other = s
        .create_user(&new_user(&format!("{t}-o")), &Journal::default())
        .await
        .ctx("create other")?;
    let far = now() + 3600;
    let sid: Vec<String> = (0..4).map(|i| format!("{t}-s{i}")).collect();
    for id in &sid {
        s.create_session(&new_session(id, u.id, far), &Journal::default())
            .await
            .ctx("create session")?;
    }
    s.revoke_session(&sid[3], &Journal::default())
        .await
        .ctx("revoke one")?;
    let foreign = format!("{t}-foreign");
    s.create_session(&new_session(&foreign, other.id, far), &Journal::default())
        .await
        .ctx("create foreign")?;

    let n = s
        .revoke_user_sessions(
            u.id,
            Some(&sid[1]),
            &p.journal("kick", &[Change::User(u.id)]),
        )
        .await
        .ctx("revoke_user_sessions")?;
    ensure_eq!(n, 2);
    p.written(s, "kick", &[Change::User(u.id)]).await?;
    for (i, want) in [(0, true), (1, false), (2, true), (3, true)] {
        ensure_eq!(
            s.session(&sid[i]).await.ctx("session")?.map(|x| x.revoked),
            Some(want)
        );
    }
    ensure_eq!(
        s.session(&foreign).await.ctx("session")?.map(|x| x.revoked),
        Some(false)
    );
    let again = s
        .revoke_user_sessions(u.id, Some(&sid[1]), &Journal::default())
        .await
        .ctx("revoke again")?;
    ensure_eq!(again, 0);
    let all = s
        .revoke_user_sessions(u.id, None, &Journal::default())
        .await
        .ctx("revoke all")?;
    ensure_eq!(all, 1);
    ensure_eq!(
        s.session(&sid[1]).await.ctx("session")?.map(|x| x.revoked),
        Some(true)
    );
    ensure_eq!(
        s.session(&foreign).await.ctx("session")?.map(|x| x.revoked),
        Some(false)
    );
    Ok(())
}

pub(super) async fn session_touch<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let n = now();
    let live = new_session(&format!("{t}-live"), u.id, n + 100);
    let revoked = new_session(&format!("{t}-revoked"), u.id, n + 100);
    let expired = new_session(&format!("{t}-expired"), u.id, n - 10);
    let edge = new_session(&format!("{t}-edge"), u.id, n + 50);
    for x in [&live, &revoked, &expired, &edge] {
        s.create_session(x, &Journal::default())
            .await
            .ctx("create session")?;
    }
    s.revoke_session(&revoked.id, &Journal::default())
        .await
        .ctx("revoke")?;

    s.touch_session(&live.id, n + 7200, n + 5)
        .await
        .ctx("touch live")?;
    let got = s.session(&live.id).await.ctx("session")?.ctx("live")?;
    ensure_eq!(
        (got.expires_at, got.last_seen, got.revoked),
        (n + 7200, n + 5, false)
    );

    s.touch_session(&revoked.id, n + 7200, n + 5)
        .await
        .ctx("touch revoked")?;
    let got = s
        .session(&revoked.id)
        .await
        .ctx("session")?
        .ctx("revoked")?;
    ensure_eq!(
        (got.expires_at, got.last_seen, got.revoked),
        (revoked.expires_at, revoked.last_seen, true)
    );

    s.touch_session(&expired.id, n + 7200, n)
        .await
        .ctx("touch expired")?;
    let got = s
        .session(&expired.id)
        .await
        .ctx("session")?
        .ctx("expired")?;
    ensure_eq!(
        (got.expires_at, got.last_seen),
        (expired.expires_at, expired.last_seen)
    );

    // A session is live while `expires_at > now`: at its expiry instant it is gone.
    s.touch_session(&edge.id, n + 7200, n + 50)
        .await
        .ctx("touch at expiry")?;
    let got = s.session(&edge.id).await.ctx("session")?.ctx("edge")?;
    ensure_eq!(
        (got.expires_at, got.last_seen),
        (edge.expires_at, edge.last_seen)
    );

    s.touch_session(&format!("{t}-none"), n + 7200, n)
        .await
        .ctx("touch missing")?;
    ensure_eq!(s.session(&format!("{t}-none")).await.ctx("session")?, None);
    p.nothing(s, "touch_session").await?;
    Ok(())
}

pub(super) async fn session_count_and_purge<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let n = now();
    let before_now = s.count_live_sessions(n).await.ctx("count")?;
    let before_edge = s.count_live_sessions(n + 100).await.ctx("count")?;
    let before_inside = s.count_live_sessions(n + 99).await.ctx("count")?;
    let live = new_session(&format!("{t}-live"), u.id, n + 100);
    let revoked = new_session(&format!("{t}-revoked"), u.id, n + 100);
    let expired = new_session(&format!("{t}-expired"), u.id, n - 100);
    for x in [&live, &revoked, &expired] {
        s.create_session(x, &Journal::default())
            .await
            .ctx("create session")?;
    }
    s.revoke_session(&revoked.id, &Journal::default())
        .await
        .ctx("revoke")?;
    ensure_eq!(s.count_live_sessions(n).await.ctx("count")?, before_now + 1);
    ensure_eq!(
        s.count_live_sessions(n + 99).await.ctx("count")?,
        before_inside + 1
    );
    ensure_eq!(
        s.count_live_sessions(n + 100).await.ctx("count")?,
        before_edge
    );

    // Ancient sessions, expired before anything else in the store.
    let old: Vec<Session> = [1_000, 1_500, 2_000]
        .iter()
        .enumerate()
        .map(|(i, e)| new_session(&format!("{t}-old{i}"), u.id, *e))
        .collect();
    for x in &old {
        s.create_session(x, &Journal::default())
            .await
            .ctx("create old session")?;
    }
    let purged = s.purge_sessions(2_000).await.ctx("purge")?;
    ensure!(
        purged >= 2,
        "purge_sessions(2000) purged {purged}, expected at least 2"
    );
    ensure_eq!(s.session(&old[0].id).await.ctx("session")?, None);
    ensure_eq!(s.session(&old[1].id).await.ctx("session")?, None);
    ensure!(
        s.session(&old[2].id).await.ctx("session")?.is_some(),
        "a session expiring exactly at `before` was purged"
    );
    ensure_eq!(s.purge_sessions(2_001).await.ctx("purge")?, 1);
    ensure_eq!(s.session(&old[2].id).await.ctx("session")?, None);
    ensure!(
        s.session(&live.id).await.ctx("session")?.is_some(),
        "a live session was purged"
    );
    ensure!(
        s.session(&revoked.id).await.ctx("session")?.is_some(),
        "an unexpired session was purged"
    );
    ensure!(
        s.session(&expired.id).await.ctx("session")?.is_some(),
        "purge_sessions(2001) purged a recent session"
    );
    ensure!(
        s.purge_sessions(n).await.ctx("purge")? >= 1,
        "expired session not purged"
    );
    ensure_eq!(s.session(&expired.id).await.ctx("session")?, None);
    ensure!(
        s.session(&live.id).await.ctx("session")?.is_some(),
        "a live session was purged"
    );
    Ok(())
}
