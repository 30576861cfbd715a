//! Second factors (TOTP and recovery codes) and a user's session list.

use super::*;

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
        !s.confirm_totp(u.id, 5, &[], &Journal::default())
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
        !s.confirm_totp(u.id, 200, &[], &Journal::default())
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
