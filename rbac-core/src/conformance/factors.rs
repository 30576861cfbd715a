//! Second factors (TOTP and recovery codes) and a user's session list.

use super::*;
use crate::events::{Attempt, NewEvent};

fn factor(user: UserId, sealed: &str) -> TotpFactor {
    TotpFactor {
        user_id: user,
        sealed: sealed.to_string(),
        confirmed: false,
        last_step: 0,
        created_at: 1_700_000_000,
    }
}

pub(super) async fn second_factor_totp<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("f");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    ensure_eq!(s.totp(u.id).await.ctx("totp")?, None);
    ensure!(
        !s.claim_totp_step(u.id, 5).await.ctx("claim")?,
        "no factor, no claim"
    );
    ensure!(
        !s.confirm_totp(u.id, 5, &[], None, &Journal::default())
            .await
            .ctx("confirm")?,
        "nothing pending to confirm"
    );
    ensure_err!(
        s.put_pending_totp(&factor(i64::MAX - 20, "x"), &Journal::default())
            .await,
        StoreError::NotFound(Entity::User)
    );

    // Pending: stored, replaced by a newer pending one, never claimable.
    s.put_pending_totp(&factor(u.id, "v1.first"), &p.journal("begin", &[]))
        .await
        .ctx("put pending")?;
    p.written(s, "begin", &[]).await?;
    s.put_pending_totp(&factor(u.id, "v1.second"), &Journal::default())
        .await
        .ctx("replace pending")?;
    ensure_eq!(
        s.totp(u.id).await.ctx("totp")?,
        Some(factor(u.id, "v1.second"))
    );
    ensure!(
        !s.claim_totp_step(u.id, 9).await.ctx("claim")?,
        "pending is not claimable"
    );

    // Confirmed at step 100 with two recovery codes.
    let codes = vec!["a".repeat(64), "b".repeat(64)];
    ensure!(
        s.confirm_totp(
            u.id,
            100,
            &codes,
            None,
            &p.journal("enrol", &[Change::User(u.id)])
        )
        .await
        .ctx("confirm")?,
        "confirm pending"
    );
    p.written(s, "enrol", &[Change::User(u.id)]).await?;
    let stored = s.totp(u.id).await.ctx("totp")?.ctx("factor")?;
    ensure!(
        stored.confirmed && stored.last_step == 100,
        "confirmed: {stored:?}"
    );
    ensure!(
        !s.confirm_totp(u.id, 200, &[], None, &Journal::default())
            .await
            .ctx("confirm")?,
        "confirming twice"
    );
    ensure_err!(
        s.put_pending_totp(&factor(u.id, "v1.third"), &p.journal("again", &[]))
            .await,
        StoreError::Conflict(Field::Other)
    );
    p.nothing(s, "a pending factor over a confirmed one")
        .await?;
    ensure_eq!(
        s.totp(u.id).await.ctx("totp")?.ctx("factor")?.sealed,
        "v1.second"
    );

    // Steps: only later ones, each once.
    ensure!(
        !s.claim_totp_step(u.id, 100).await.ctx("claim")?,
        "the confirming step"
    );
    ensure!(
        !s.claim_totp_step(u.id, 99).await.ctx("claim")?,
        "an earlier step"
    );
    ensure!(
        s.claim_totp_step(u.id, 101).await.ctx("claim")?,
        "a later step"
    );
    ensure!(
        !s.claim_totp_step(u.id, 101).await.ctx("claim")?,
        "the same step twice"
    );

    // Recovery codes: each once; replaced wholesale.
    ensure_eq!(s.recovery_codes_left(u.id).await.ctx("left")?, 2);
    ensure!(
        s.use_recovery_code(u.id, &codes[0]).await.ctx("use")?,
        "first use"
    );
    ensure!(
        !s.use_recovery_code(u.id, &codes[0]).await.ctx("use")?,
        "second use"
    );
    ensure!(
        !s.use_recovery_code(u.id, &"c".repeat(64))
            .await
            .ctx("use")?,
        "unknown code"
    );
    ensure_eq!(s.recovery_codes_left(u.id).await.ctx("left")?, 1);
    let fresh = vec!["d".repeat(64), "e".repeat(64), "f".repeat(64)];
    ensure!(
        s.replace_recovery_codes(u.id, &fresh, &Journal::default())
            .await
            .ctx("replace")?,
        "replace with a confirmed factor"
    );
    ensure!(
        !s.use_recovery_code(u.id, &codes[1]).await.ctx("use")?,
        "a replaced code"
    );
    ensure_eq!(s.recovery_codes_left(u.id).await.ctx("left")?, 3);

    // Another user's codes are not this user's.
    let other = s
        .create_user(&new_user(&format!("{t}-o")), &Journal::default())
        .await
        .ctx("create other")?;
    ensure!(
        !s.use_recovery_code(other.id, &fresh[0]).await.ctx("use")?,
        "another's code"
    );
    ensure!(
        !s.replace_recovery_codes(other.id, &fresh, &Journal::default())
            .await
            .ctx("replace")?,
        "replace without a factor"
    );

    // Removal takes the factor and the codes, once.
    ensure!(
        s.remove_totp(u.id, &p.journal("remove", &[Change::User(u.id)]))
            .await
            .ctx("remove")?,
        "remove"
    );
    p.written(s, "remove", &[Change::User(u.id)]).await?;
    ensure_eq!(s.totp(u.id).await.ctx("totp")?, None);
    ensure_eq!(s.recovery_codes_left(u.id).await.ctx("left")?, 0);
    ensure!(
        !s.remove_totp(u.id, &Journal::default())
            .await
            .ctx("remove")?,
        "twice"
    );

    // Deleting a user takes its factor along.
    s.put_pending_totp(&factor(other.id, "v1.other"), &Journal::default())
        .await
        .ctx("put other")?;
    s.delete_user(other.id, &Journal::default())
        .await
        .ctx("delete")?;
    ensure_eq!(s.totp(other.id).await.ctx("totp")?, None);
    Ok(())
}

pub(super) async fn session_list_of_a_user<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("sl");
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let other = s
        .create_user(&new_user(&format!("{t}-o")), &Journal::default())
        .await
        .ctx("create other")?;
    let n = now();
    let mut older = new_session(&format!("{t}-older"), u.id, n + 100);
    older.issued_at = n - 50;
    let newer = new_session(&format!("{t}-newer"), u.id, n + 100);
    let mut revoked = new_session(&format!("{t}-revoked"), u.id, n + 100);
    revoked.revoked = true;
    let expired = new_session(&format!("{t}-expired"), u.id, n - 1);
    let mut challenge = new_session(&format!("{t}-challenge"), u.id, n + 100);
    challenge.kind = SessionKind::Challenge;
    let foreign = new_session(&format!("{t}-foreign"), other.id, n + 100);
    for sess in [&older, &newer, &revoked, &expired, &challenge, &foreign] {
        s.create_session(sess, &Journal::default())
            .await
            .ctx("create session")?;
    }
    let live = s.user_sessions(u.id, n, 10).await.ctx("user_sessions")?;
    let got: Vec<&str> = live.iter().map(|x| x.id.as_str()).collect();
    ensure_eq!(got, vec![newer.id.as_str(), older.id.as_str()]);
    ensure_eq!(live[0], newer);
    let one = s.user_sessions(u.id, n, 1).await.ctx("user_sessions")?;
    ensure_eq!(one.len(), 1);
    // A step-up adds its factor and moves the verification time, on live sessions only.
    let changes = [Change::Session(newer.id.clone())];
    let mut p = Probe::new(s, "actor").await?;
    ensure!(
        s.mark_session_verified(
            &newer.id,
            Factors::TOTP,
            n + 5,
            &p.journal("step up", &changes)
        )
        .await
        .ctx("mark")?,
        "a live session"
    );
    p.written(s, "step up", &changes).await?;
    let marked = s
        .session(&newer.id)
        .await
        .ctx("session")?
        .ctx("the session")?;
    ensure_eq!(marked.factors, Factors::PASSWORD | Factors::TOTP);
    ensure_eq!(marked.verified_at, n + 5);
    for (id, why) in [
        (&revoked.id, "a revoked session"),
        (&expired.id, "an expired session"),
        (&challenge.id, "a challenge"),
    ] {
        ensure!(
            !s.mark_session_verified(id, Factors::TOTP, n, &p.journal("no", &[]))
                .await
                .ctx("mark")?,
            "{why} was marked"
        );
    }
    p.nothing(s, "marking what is not live").await?;
    // A challenge is no live session to count.
    let before = s.count_live_sessions(n).await.ctx("count")?;
    s.revoke_session(&challenge.id, &Journal::default())
        .await
        .ctx("revoke challenge")?;
    ensure_eq!(s.count_live_sessions(n).await.ctx("count")?, before);
    Ok(())
}

pub(super) async fn role_requires_second_factor<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("rf");
    let mut p = Probe::new(s, "actor").await?;
    let role = s
        .create_role(&Role::new(format!("{t}-r"), "", "t"), &Journal::default())
        .await
        .ctx("create role")?;
    ensure!(!role.requires_second_factor, "off by default");
    let changes = [Change::Role(role.id)];
    s.set_role_requires_second_factor(role.id, true, &p.journal("require", &changes))
        .await
        .ctx("require")?;
    p.written(s, "require", &changes).await?;
    let read = s.role(role.id).await.ctx("role")?.ctx("the role")?;
    ensure!(read.requires_second_factor, "required: {read:?}");
    let listed = s
        .role_by_name(&role.name)
        .await
        .ctx("by name")?
        .ctx("the role")?;
    ensure!(listed.requires_second_factor, "by name: {listed:?}");
    s.set_role_requires_second_factor(role.id, false, &Journal::default())
        .await
        .ctx("lift")?;
    ensure!(
        !s.role(role.id)
            .await
            .ctx("role")?
            .ctx("the role")?
            .requires_second_factor,
        "lifted"
    );
    ensure_err!(
        s.set_role_requires_second_factor(i64::MAX - 30, true, &p.journal("gone", &[]))
            .await,
        StoreError::NotFound(Entity::Role)
    );
    p.nothing(s, "a missing role").await?;
    Ok(())
}

/// The deliveries of one check's own events (subjects starting with `t`): checks running
/// at the same time on the same store append events of their own.
fn own(batch: Vec<crate::events::Delivery>, t: &str) -> Vec<crate::events::Delivery> {
    batch
        .into_iter()
        .filter(|d| d.event.subject.starts_with(t))
        .collect()
}

pub(super) async fn security_event_deliveries<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("ev");
    let target = format!("http://127.0.0.1:9/{t}");
    let at = now();
    // Drain what other checks left for this (new) target first.
    loop {
        let batch = s
            .claim_deliveries(&target, "drain", at, at + 60, 500, 5)
            .await
            .ctx("drain")?;
        if batch.is_empty() {
            break;
        }
        for d in &batch {
            s.settle_delivery(d.event.id, &target, "drain", &Attempt::Delivered(at))
                .await
                .ctx("settle drain")?;
        }
    }
    // One event with a write, one alone.
    let journalled = NewEvent::new("role.changed", format!("{t}-role"), "actor").detail("d");
    s.create_user(
        &new_user(&format!("{t}-u")),
        &Journal::default().event(journalled.clone()),
    )
    .await
    .ctx("create user with an event")?;
    let alone = NewEvent::new("login.failed", format!("{t}-x"), "").from_ip("192.0.2.7");
    s.append_events(std::slice::from_ref(&alone))
        .await
        .ctx("append")?;

    // Due from when they were appended: the drain above may have taken past a second of
    // the clock, and an event is not due before it exists.
    let at = now();
    // Claimed in batches until both are found: checks running at the same time may have
    // appended more than a batch of their own events between the drain and this claim
    // (what "one" claims stays leased to it, so each batch moves on).
    let mut first = Vec::new();
    loop {
        let batch = s
            .claim_deliveries(&target, "one", at, at + 60, 500, 5)
            .await
            .ctx("claim")?;
        if batch.is_empty() {
            break;
        }
        first.extend(own(batch, &t));
        if first.len() >= 2 {
            break;
        }
    }
    let ids: Vec<&str> = first.iter().map(|d| d.event.event_id.as_str()).collect();
    ensure_eq!(
        ids,
        vec![journalled.event_id.as_str(), alone.event_id.as_str()]
    );
    ensure_eq!(first[1].event.ip, "192.0.2.7");
    ensure_eq!(first[0].event.kind, "role.changed");
    ensure_eq!(first[0].attempts, 0);
    // Leased: another owner gets nothing, and may not settle them.
    let second = own(
        s.claim_deliveries(&target, "two", at, at + 60, 500, 5)
            .await
            .ctx("claim again")?,
        &t,
    );
    ensure!(second.is_empty(), "claimed twice: {second:?}");
    ensure!(
        !s.settle_delivery(first[0].event.id, &target, "two", &Attempt::Delivered(at))
            .await
            .ctx("settle by another")?,
        "settled by a non-holder"
    );
    // One delivered, one failed until later.
    ensure!(
        s.settle_delivery(first[0].event.id, &target, "one", &Attempt::Delivered(at))
            .await
            .ctx("settle")?,
        "delivered"
    );
    let failed = Attempt::Failed {
        next_at: at + 30,
        error: "HTTP 500".into(),
    };
    ensure!(
        s.settle_delivery(first[1].event.id, &target, "one", &failed)
            .await
            .ctx("settle failed")?,
        "failed"
    );
    let early = own(
        s.claim_deliveries(&target, "two", at + 10, at + 70, 500, 5)
            .await
            .ctx("claim early")?,
        &t,
    );
    ensure!(early.is_empty(), "retried before its time: {early:?}");
    let due = own(
        s.claim_deliveries(&target, "two", at + 31, at + 91, 500, 5)
            .await
            .ctx("claim due")?,
        &t,
    );
    ensure_eq!(due.len(), 1);
    ensure_eq!(due[0].event.event_id, alone.event_id);
    ensure_eq!(due[0].attempts, 1);
    // An expired lease is claimable by another owner; the first may no longer settle.
    let taken = own(
        s.claim_deliveries(&target, "three", at + 92, at + 150, 500, 5)
            .await
            .ctx("claim after the lease")?,
        &t,
    );
    ensure_eq!(taken.len(), 1);
    ensure!(
        !s.settle_delivery(due[0].event.id, &target, "two", &Attempt::Delivered(at))
            .await
            .ctx("stale settle")?,
        "a stale lease settled"
    );
    // Another target has its own deliveries of the same events.
    let other = format!("{target}/other");
    let mine = s
        .claim_deliveries(&other, "one", at, at + 60, 1000, 5)
        .await
        .ctx("other target")?;
    ensure!(
        mine.iter().any(|d| d.event.event_id == journalled.event_id),
        "each target gets every event"
    );
    let status = s.deliveries(1000).await.ctx("deliveries")?;
    let row = status
        .iter()
        .find(|d| d.event_id == alone.event_id && d.target == target)
        .ctx("the failed delivery's status")?;
    ensure_eq!(row.attempts, 1);
    ensure_eq!(row.last_error, "HTTP 500");
    ensure_eq!(row.delivered_at, None);
    let done = status
        .iter()
        .find(|d| d.event_id == journalled.event_id && d.target == target)
        .ctx("the delivered one's status")?;
    ensure_eq!(done.delivered_at, Some(at));
    // The newest events, newest first, as many as asked.
    let recent = s.recent_events(1000).await.ctx("recent events")?;
    for e in [&alone, &journalled] {
        ensure!(
            recent.iter().any(|r| r.event_id == e.event_id),
            "recent events list {}",
            e.kind
        );
    }
    ensure!(recent.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    ensure_eq!(s.recent_events(1).await.ctx("one event")?.len(), 1);
    // Retention: old events go with their deliveries, a batch at a time.
    ensure_eq!(s.prune_events(0, 1000).await.ctx("prune nothing")?, 0);
    let mut pruned = 0;
    loop {
        let n = s.prune_events(at + 1, 1).await.ctx("prune")?;
        if n == 0 {
            break;
        }
        ensure_eq!(n, 1);
        pruned += n;
    }
    ensure!(pruned >= 2, "pruned {pruned}");
    ensure!(
        s.deliveries(1000).await.ctx("deliveries")?.is_empty(),
        "deliveries pruned"
    );
    Ok(())
}
