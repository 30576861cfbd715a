//! Users' accounts over time: passwords, revocation on update, deletion, logins.

use super::*;

pub(super) async fn user_set_password<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-pw")), &Journal::default())
        .await
        .ctx("create")?;
    let other = s
        .create_user(&new_user(&format!("{t}-other")), &Journal::default())
        .await
        .ctx("create other")?;
    let far = now() + 3600;
    let sid: Vec<String> = (0..3).map(|i| format!("{t}-s{i}")).collect();
    for id in &sid {
        s.create_session(&new_session(id, u.id, far), &Journal::default())
            .await
            .ctx("create session")?;
    }
    let foreign = format!("{t}-foreign");
    s.create_session(&new_session(&foreign, other.id, far), &Journal::default())
        .await
        .ctx("create other's session")?;

    let before = now();
    s.set_password(
        u.id,
        "$argon2id$new",
        None,
        Some(&sid[1]),
        &p.journal("pw", &[Change::User(u.id)]),
    )
    .await
    .ctx("set_password")?;
    p.written(s, "pw", &[Change::User(u.id)]).await?;
    let got = s.user(u.id).await.ctx("user")?.ctx("user")?;
    ensure_eq!(got.password_hash, "$argon2id$new");
    ensure!(
        got.updated_at >= before,
        "updated_at not advanced: {}",
        got.updated_at
    );
    let revoked = |id: String| async move {
        s.session(&id)
            .await
            .ctx("session")?
            .ctx("session")
            .map(|x| x.revoked)
    };
    ensure!(revoked(sid[0].clone()).await?, "other session not revoked");
    ensure!(!revoked(sid[1].clone()).await?, "kept session revoked");
    ensure!(revoked(sid[2].clone()).await?, "other session not revoked");
    ensure!(
        !revoked(foreign.clone()).await?,
        "another user's session revoked"
    );

    s.set_password(u.id, "$argon2id$newer", None, None, &p.journal("pw2", &[]))
        .await
        .ctx("set_password without keep")?;
    p.written(s, "pw2", &[]).await?;
    ensure!(
        revoked(sid[1].clone()).await?,
        "session survived a password change without keep"
    );
    ensure!(!revoked(foreign).await?, "another user's session revoked");

    ensure_err!(
        s.set_password(
            i64::MAX - 9,
            "x",
            None,
            None,
            &p.journal("missing", &[Change::User(0)])
        )
        .await,
        StoreError::NotFound(Entity::User)
    );
    p.nothing(s, "set_password of a missing user").await?;
    Ok(())
}

pub(super) async fn user_update_revokes<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-cut")), &Journal::default())
        .await
        .ctx("create")?;
    let other = s
        .create_user(&new_user(&format!("{t}-bystander")), &Journal::default())
        .await
        .ctx("create other")?;
    let far = now() + 3600;
    let sid: Vec<String> = (0..2).map(|i| format!("{t}-s{i}")).collect();
    for id in &sid {
        s.create_session(&new_session(id, u.id, far), &Journal::default())
            .await
            .ctx("create session")?;
    }
    let foreign = format!("{t}-foreign");
    s.create_session(&new_session(&foreign, other.id, far), &Journal::default())
        .await
        .ctx("create other's session")?;
    let revoked = |id: String| async move {
        s.session(&id)
            .await
            .ctx("session")?
            .ctx("session")
            .map(|x| x.revoked)
    };

    let mut next = u.clone();
    next.password_hash = "$argon2id$edited".into();
    s.update_user(
        &next,
        None,
        Revoke::AllBut(&sid[1]),
        &p.journal("edit", &[Change::User(u.id)]),
    )
    .await
    .ctx("update_user keeping one session")?;
    p.written(s, "edit", &[Change::User(u.id)]).await?;
    ensure!(revoked(sid[0].clone()).await?, "session not revoked");
    ensure!(!revoked(sid[1].clone()).await?, "kept session revoked");

    next.enabled = false;
    s.update_user(
        &next,
        None,
        Revoke::All,
        &p.journal("disable", &[Change::User(u.id)]),
    )
    .await
    .ctx("update_user revoking all")?;
    p.written(s, "disable", &[Change::User(u.id)]).await?;
    ensure!(
        revoked(sid[1].clone()).await?,
        "session survived Revoke::All"
    );
    ensure!(
        !revoked(foreign.clone()).await?,
        "another user's session revoked"
    );

    // A refused update revokes nothing.
    s.create_session(
        &new_session(&format!("{t}-s9"), u.id, far),
        &Journal::default(),
    )
    .await
    .ctx("create session")?;
    let mut clash = next.clone();
    clash.name = other.name.clone();
    ensure_err!(
        s.update_user(
            &clash,
            None,
            Revoke::All,
            &p.journal("clash", &[Change::User(u.id)])
        )
        .await,
        StoreError::Conflict(Field::UserName)
    );
    p.nothing(s, "a refused update").await?;
    ensure!(
        !revoked(format!("{t}-s9")).await?,
        "a refused update revoked a session"
    );
    Ok(())
}

pub(super) async fn user_delete<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let mut p = Probe::new(s, "actor").await?;
    let mut u = new_user(&format!("{t}-del"));
    u.email = Some(format!("{t}-del@example.com"));
    let u = s.create_user(&u, &Journal::default()).await.ctx("create")?;
    let other = s
        .create_user(&new_user(&format!("{t}-keep")), &Journal::default())
        .await
        .ctx("create other")?;
    let far = now() + 3600;
    s.create_session(
        &new_session(&format!("{t}-s1"), u.id, far),
        &Journal::default(),
    )
    .await
    .ctx("session")?;
    s.create_session(
        &new_session(&format!("{t}-s2"), u.id, far),
        &Journal::default(),
    )
    .await
    .ctx("session")?;
    s.create_session(
        &new_session(&format!("{t}-s3"), other.id, far),
        &Journal::default(),
    )
    .await
    .ctx("session")?;

    let deleted = s
        .delete_user(u.id, &p.journal("delete", &[Change::User(u.id)]))
        .await
        .ctx("delete_user")?;
    ensure!(deleted, "delete_user returned false for an existing user");
    p.written(s, "delete", &[Change::User(u.id)]).await?;
    ensure!(
        s.user(u.id).await.ctx("user")?.is_none(),
        "deleted user still there"
    );
    ensure!(
        s.user_by_name(&u.name).await.ctx("by name")?.is_none(),
        "deleted user still by name"
    );
    ensure!(
        s.session(&format!("{t}-s1"))
            .await
            .ctx("session")?
            .is_none(),
        "session of deleted user kept"
    );
    ensure!(
        s.session(&format!("{t}-s2"))
            .await
            .ctx("session")?
            .is_none(),
        "session of deleted user kept"
    );
    ensure!(
        s.session(&format!("{t}-s3"))
            .await
            .ctx("session")?
            .is_some(),
        "another user's session deleted"
    );
    ensure!(
        s.user(other.id).await.ctx("user")?.is_some(),
        "another user deleted"
    );

    let again = s
        .delete_user(u.id, &p.journal("again", &[Change::User(u.id)]))
        .await
        .ctx("delete_user again")?;
    ensure!(!again, "delete_user returned true for a missing user");
    p.nothing(s, "deleting a missing user").await?;

    // The name and e-mail are free again, and the new user gets a new id.
    let mut reborn = new_user(&u.name);
    reborn.email = u.email.clone();
    let reborn = s
        .create_user(&reborn, &Journal::default())
        .await
        .ctx("recreate")?;
    ensure!(reborn.id != u.id, "a deleted user's id was reused");
    Ok(())
}

pub(super) async fn user_record_login<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-login")), &Journal::default())
        .await
        .ctx("create")?;
    s.record_login(u.id, 1_700_000_123, "198.51.100.7", None)
        .await
        .ctx("record_login")?;
    let got = s.user(u.id).await.ctx("user")?.ctx("user")?;
    ensure_eq!(got.login_time, Some(1_700_000_123));
    ensure_eq!(got.login_ip, "198.51.100.7");
    ensure_eq!(got.name, u.name);
    ensure_eq!(got.password_hash, u.password_hash);
    s.record_login(
        u.id,
        1_700_000_124,
        "198.51.100.8",
        Some((&u.password_hash, "$argon2id$upgraded")),
    )
    .await
    .ctx("record_login with a rehash")?;
    let got = s.user(u.id).await.ctx("user")?.ctx("user")?;
    ensure_eq!(got.login_time, Some(1_700_000_124));
    ensure_eq!(got.password_hash, "$argon2id$upgraded");
    // A rehash of a hash that is no longer stored (a reset came between) changes nothing
    // but the login's time.
    s.record_login(
        u.id,
        1_700_000_125,
        "198.51.100.9",
        Some((&u.password_hash, "$argon2id$stale-upgrade")),
    )
    .await
    .ctx("record_login with a stale rehash")?;
    let got = s.user(u.id).await.ctx("user")?.ctx("user")?;
    ensure_eq!(got.login_time, Some(1_700_000_125));
    ensure_eq!(got.password_hash, "$argon2id$upgraded");
    ensure_eq!(got.alias, u.alias);
    s.record_login(i64::MAX - 13, 1, "x", None)
        .await
        .ctx("record_login of a missing user")?;
    p.nothing(s, "record_login").await?;
    Ok(())
}
