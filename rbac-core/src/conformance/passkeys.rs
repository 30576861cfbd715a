//! Passkeys and their WebAuthn ceremonies.

use super::*;
use crate::factors::passkeys::{Ceremony, CeremonyPurpose, PasskeyRecord};

fn record(user: UserId, credential_id: &str, name: &str) -> PasskeyRecord {
    PasskeyRecord {
        id: 0,
        user_id: user,
        credential_id: credential_id.to_string(),
        user_handle: "aGFuZGxl".to_string(),
        name: name.to_string(),
        credential: "{\"cred\":{}}".to_string(),
        counter: 3,
        backup_eligible: true,
        backup_state: false,
        created_at: 1_700_000_000,
        last_used_at: 0,
    }
}

fn ceremony(id: &str, user: Option<UserId>, expires_at: Timestamp) -> Ceremony {
    Ceremony {
        id: id.to_string(),
        user_id: user,
        purpose: CeremonyPurpose::Assert,
        state: "{\"ast\":{}}".to_string(),
        expires_at,
    }
}

pub(super) async fn passkeys_and_ceremonies<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("pk");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let other = s
        .create_user(&new_user(&format!("{t}-o")), &Journal::default())
        .await
        .ctx("create other")?;
    ensure_eq!(s.passkeys(u.id).await.ctx("passkeys")?, vec![]);
    ensure_err!(
        s.add_passkey(
            &record(i64::MAX - 30, &format!("{t}-x"), "x"),
            None,
            &Journal::default()
        )
        .await,
        StoreError::NotFound(Entity::User)
    );

    // Added with the journal; credential ids are unique across users and compared exactly
    // (base64url is case-sensitive).
    let first = record(u.id, &format!("{t}-Cred"), "laptop");
    let id = s
        .add_passkey(&first, None, &p.journal("add passkey", &[]))
        .await
        .ctx("add")?;
    p.written(s, "add passkey", &[]).await?;
    ensure_err!(
        s.add_passkey(
            &record(other.id, &first.credential_id, "copy"),
            None,
            &Journal::default()
        )
        .await,
        StoreError::Conflict(_)
    );
    let lower = record(other.id, &format!("{t}-cred"), "phone");
    let other_id = s
        .add_passkey(&lower, None, &Journal::default())
        .await
        .ctx("add differing only in case")?;
    let stored = PasskeyRecord {
        id,
        ..first.clone()
    };
    ensure_eq!(
        s.passkeys(u.id).await.ctx("passkeys")?,
        vec![stored.clone()]
    );
    ensure_eq!(s.count_passkeys(u.id).await.ctx("count")?, 1);
    ensure_eq!(s.count_passkeys(i64::MAX - 31).await.ctx("count none")?, 0);
    ensure_eq!(
        s.passkey_by_credential(&first.credential_id)
            .await
            .ctx("by credential")?,
        Some(stored.clone())
    );
    ensure_eq!(
        s.passkey_by_credential(&format!("{t}-nope"))
            .await
            .ctx("by credential")?,
        None
    );

    // A use records once per counter seen: the racer that saw the old counter loses.
    let used = PasskeyRecord {
        credential: "{\"cred\":{\"counter\":4}}".to_string(),
        counter: 4,
        backup_state: true,
        last_used_at: 1_700_000_100,
        ..stored.clone()
    };
    ensure!(
        s.record_passkey_use(&used, 3).await.ctx("use")?,
        "a use at the stored counter records"
    );
    ensure!(
        !s.record_passkey_use(&used, 3).await.ctx("use again")?,
        "a use that saw an overtaken counter does not"
    );
    ensure!(
        !s.record_passkey_use(
            &PasskeyRecord {
                user_id: other.id,
                ..used.clone()
            },
            4
        )
        .await
        .ctx("use by another user")?,
        "a passkey records uses only for its owner"
    );
    ensure_eq!(s.passkeys(u.id).await.ctx("passkeys")?, vec![used.clone()]);

    // Removal is by owner: another user's id removes nothing and writes no journal.
    ensure!(
        !s.remove_passkey(u.id, other_id, &p.journal("steal", &[]))
            .await
            .ctx("remove another's")?,
        "a user removes only their own passkeys"
    );
    p.nothing(s, "remove another's passkey").await?;
    ensure!(
        s.remove_passkey(other.id, other_id, &p.journal("remove passkey", &[]))
            .await
            .ctx("remove")?,
        "the owner removes it"
    );
    p.written(s, "remove passkey", &[]).await?;
    ensure_eq!(s.passkeys(other.id).await.ctx("passkeys")?, vec![]);

    // Every second factor goes at once; with none, nothing is written.
    s.put_pending_totp(
        &TotpFactor {
            user_id: u.id,
            sealed: "v1.x".into(),
            confirmed: false,
            last_step: 0,
            created_at: 1,
        },
        &Journal::default(),
    )
    .await
    .ctx("put totp")?;
    ensure!(
        s.remove_second_factors(u.id, &p.journal("reset factors", &[]))
            .await
            .ctx("reset")?,
        "a user with factors loses them"
    );
    p.written(s, "reset factors", &[]).await?;
    ensure_eq!(s.passkeys(u.id).await.ctx("passkeys")?, vec![]);
    ensure_eq!(s.totp(u.id).await.ctx("totp")?, None);
    ensure!(
        !s.remove_second_factors(u.id, &p.journal("reset none", &[]))
            .await
            .ctx("reset none")?,
        "nothing to reset"
    );
    p.nothing(s, "reset without factors").await?;

    // A deleted user's passkeys go with them.
    s.add_passkey(
        &record(other.id, &format!("{t}-gone"), "x"),
        None,
        &Journal::default(),
    )
    .await
    .ctx("add")?;
    s.delete_user(other.id, &Journal::default())
        .await
        .ctx("delete user")?;
    ensure_eq!(
        s.passkey_by_credential(&format!("{t}-gone"))
            .await
            .ctx("by credential")?,
        None
    );

    // Ceremonies are taken once; expired ones are purged, live ones kept.
    let live = ceremony(&format!("{t}-live"), Some(u.id), now() + 300);
    s.put_ceremony(&live).await.ctx("put ceremony")?;
    s.put_ceremony(&ceremony(&format!("{t}-old"), None, now() - 10))
        .await
        .ctx("put expired")?;
    let purged = s.purge_ceremonies(now()).await.ctx("purge")?;
    ensure!(
        purged >= 1,
        "the expired ceremony is purged (purged {purged})"
    );
    ensure_eq!(
        s.take_ceremony(&format!("{t}-old"))
            .await
            .ctx("take expired")?,
        None
    );
    ensure_eq!(
        s.take_ceremony(&live.id).await.ctx("take")?,
        Some(live.clone())
    );
    ensure_eq!(s.take_ceremony(&live.id).await.ctx("take twice")?, None);
    let discover = Ceremony {
        purpose: CeremonyPurpose::Discover,
        ..ceremony(&format!("{t}-discover"), None, now() + 300)
    };
    s.put_ceremony(&discover).await.ctx("put discover")?;
    ensure_eq!(
        s.take_ceremony(&discover.id).await.ctx("take discover")?,
        Some(discover)
    );
    Ok(())
}

/// Whether each session is still live (not revoked), in order.
async fn live<S: Store + ?Sized>(s: &S, ids: &[&str]) -> Result<Vec<bool>, String> {
    let mut out = Vec::new();
    for id in ids {
        let session = s.session(id).await.ctx("session")?.ctx("stored session")?;
        out.push(!session.revoked);
    }
    Ok(out)
}

/// A first second factor (a confirmed TOTP or a passkey) ends the user's other sessions in
/// the same transaction as the factor: a refused write revokes nothing.
pub(super) async fn first_factor_ends_other_sessions<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("ff");
    let mut users = Vec::new();
    for who in ["totp", "passkey", "bystander"] {
        let u = s
            .create_user(&new_user(&format!("{t}-{who}")), &Journal::default())
            .await
            .ctx("create user")?;
        let mut ids = Vec::new();
        for n in 0..3 {
            let id = format!("{t}-{who}-{n}");
            s.create_session(&new_session(&id, u.id, now() + 600), &Journal::default())
                .await
                .ctx("create session")?;
            ids.push(id);
        }
        users.push((u, ids));
    }
    let [(totp, a), (holder, b), (_, c)] = &users[..] else {
        return Err("three users".into());
    };
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    let c: Vec<&str> = c.iter().map(String::as_str).collect();

    // TOTP: nothing pending, nothing revoked; confirmed, every session but the kept one ends.
    ensure!(
        !s.confirm_totp(totp.id, 7, &[], Some(a[0]), &Journal::default())
            .await
            .ctx("confirm nothing")?,
        "nothing pending"
    );
    ensure_eq!(live(s, &a).await?, vec![true, true, true]);
    s.put_pending_totp(
        &TotpFactor {
            user_id: totp.id,
            sealed: "v1.x".into(),
            confirmed: false,
            last_step: 0,
            created_at: now(),
        },
        &Journal::default(),
    )
    .await
    .ctx("put pending")?;
    ensure!(
        s.confirm_totp(totp.id, 8, &[], Some(a[1]), &Journal::default())
            .await
            .ctx("confirm")?,
        "confirm pending"
    );
    ensure_eq!(live(s, &a).await?, vec![false, true, false]);

    // Passkeys: a refused (duplicate) credential revokes nothing; without `end_sessions_but`
    // nothing ends; a first passkey ends every session but the kept one.
    s.add_passkey(
        &record(holder.id, &format!("{t}-taken"), "one"),
        None,
        &Journal::default(),
    )
    .await
    .ctx("add without ending sessions")?;
    ensure_eq!(live(s, &b).await?, vec![true, true, true]);
    ensure_err!(
        s.add_passkey(
            &record(holder.id, &format!("{t}-taken"), "again"),
            Some(b[0]),
            &Journal::default()
        )
        .await,
        StoreError::Conflict(_)
    );
    ensure_eq!(live(s, &b).await?, vec![true, true, true]);
    s.add_passkey(
        &record(holder.id, &format!("{t}-new"), "two"),
        Some(b[2]),
        &Journal::default(),
    )
    .await
    .ctx("add ending sessions")?;
    ensure_eq!(live(s, &b).await?, vec![false, false, true]);
    ensure_eq!(live(s, &c).await?, vec![true, true, true]);
    Ok(())
}
