//! Passkeys and their WebAuthn ceremonies.

use super::*;
use crate::passkeys::{Ceremony, CeremonyPurpose, PasskeyRecord};

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
            &Journal::default()
        )
        .await,
        StoreError::NotFound(Entity::User)
    );

    // Added with the journal; credential ids are unique across users and compared exactly
    // (base64url is case-sensitive).
    let first = record(u.id, &format!("{t}-Cred"), "laptop");
    let id = s
        .add_passkey(&first, &p.journal("add passkey", &[]))
        .await
        .ctx("add")?;
    p.written(s, "add passkey", &[]).await?;
    ensure_err!(
        s.add_passkey(
            &record(other.id, &first.credential_id, "copy"),
            &Journal::default()
        )
        .await,
        StoreError::Conflict(_)
    );
    let lower = record(other.id, &format!("{t}-cred"), "phone");
    let other_id = s
        .add_passkey(&lower, &Journal::default())
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
