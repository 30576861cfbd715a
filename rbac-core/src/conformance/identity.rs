//! Identity keys: names unique under case fold and skeleton, e-mail under case fold, and
//! unverified contact claims yielding to verified registrations.

use super::*;

/// User names are unique under their NFKC case fold and their confusable skeleton, and
/// found under any of their forms; e-mail addresses likewise under their case fold. Role
/// names stay exact.
pub(super) async fn user_names_fold_case_and_lookalikes<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let j = Journal::default();
    let mut lower = new_user(&format!("{t}-casey"));
    lower.email = Some(format!("{t}-casey@example.com"));
    let lower = s.create_user(&lower, &j).await.ctx("create lower")?;
    let taken = |name: String, email: Option<String>| async move {
        let mut u = new_user(&name);
        u.email = email;
        s.create_user(&u, &Journal::default()).await
    };
    for name in [
        format!("{t}-CASEY"),
        format!("{t}-Casey"),
        format!("{t}-\u{ff43}\u{ff41}\u{ff53}\u{ff45}\u{ff59}"), // full-width
        format!("{t}-\u{441}asey"),                              // Cyrillic с
        format!("{t}-case\u{443}"),                              // Cyrillic у
    ] {
        ensure_err!(
            taken(name.clone(), None).await,
            StoreError::Conflict(Field::UserName)
        );
    }
    ensure_err!(
        taken(format!("{t}-other"), Some(format!("{t}-CASEY@Example.COM"))).await,
        StoreError::Conflict(Field::Email)
    );
    // Positive controls: another name, and another address, are free.
    let spaced = taken(
        format!("{t}-casey "),
        Some(format!("{t}-casey@example.org")),
    )
    .await
    .ctx("a name with a trailing space is another name")?;
    let other = taken(format!("{t}-caser"), None)
        .await
        .ctx("a different name")?;
    ensure!(
        lower.id != spaced.id && spaced.id != other.id,
        "distinct ids"
    );

    let by = |n: String| async move { s.user_by_name(&n).await.ctx("user_by_name") };
    for form in [
        format!("{t}-casey"),
        format!("{t}-CASEY"),
        format!("{t}-\u{ff43}\u{ff41}\u{ff53}\u{ff45}\u{ff59}"),
    ] {
        ensure_eq!(by(form).await?.map(|u| u.id), Some(lower.id));
    }
    ensure_eq!(
        by(format!("{t}-casey ")).await?.map(|u| u.id),
        Some(spaced.id)
    );
    ensure_eq!(by(format!("{t}-case")).await?.map(|u| u.id), None);
    let mail = |m: String| async move { s.user_by_email(&m).await.ctx("user_by_email") };
    ensure_eq!(
        mail(format!("{t}-Casey@EXAMPLE.com")).await?.map(|u| u.id),
        Some(lower.id)
    );
    ensure_eq!(
        mail(format!("{t}-casey@example.org")).await?.map(|u| u.id),
        Some(spaced.id)
    );
    ensure_eq!(mail(format!("{t}-casey@example.net")).await?, None);

    // Renaming into another user's name (in any form) is refused; a user may change the
    // case of its own name.
    let mut renamed = other.clone();
    renamed.name = format!("{t}-Casey");
    ensure_err!(
        s.update_user(&renamed, None, Revoke::Nothing, &j).await,
        StoreError::Conflict(Field::UserName)
    );
    let mut recased = lower.clone();
    recased.name = format!("{t}-Casey");
    recased.email = Some(format!("{t}-CASEY@example.com"));
    s.update_user(&recased, None, Revoke::Nothing, &j)
        .await
        .ctx("recasing one's own name and address")?;
    ensure_eq!(
        by(format!("{t}-casey")).await?.map(|u| u.name),
        Some(format!("{t}-Casey"))
    );
    // The old forms are free again once a user is renamed away or deleted.
    s.delete_user(lower.id, &j).await.ctx("delete")?;
    taken(format!("{t}-CASEY"), Some(format!("{t}-casey@example.com")))
        .await
        .ctx("the name and address after the delete")?;
    Ok(())
}

/// A user created with a verified e-mail address or phone number clears other users'
/// unverified claims to them in the same write, and names whose claims it cleared; a
/// verified holder keeps its address (Conflict) and nothing changes.
pub(super) async fn user_claims_yield_to_verified<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("claim");
    let j = Journal::default();
    let email = format!("{t}@example.com");
    let phone = format!("+{}", &t[1..9]);
    let mut squatter = new_user(&format!("{t}-squatter"));
    squatter.email = Some(email.to_uppercase());
    squatter.phone = phone.clone();
    let squatter = s.create_user(&squatter, &j).await.ctx("squatter")?;
    let mut bystander = new_user(&format!("{t}-bystander"));
    bystander.phone = format!("{phone}9");
    let bystander = s.create_user(&bystander, &j).await.ctx("bystander")?;

    // An unverified claim does not clear another: the address is simply taken.
    let mut second = new_user(&format!("{t}-second"));
    second.email = Some(email.clone());
    ensure_err!(
        s.create_user_claiming(&second, &j).await,
        StoreError::Conflict(Field::Email)
    );
    // A verified registration takes both the address and the number.
    let mut owner = new_user(&format!("{t}-owner"));
    owner.email = Some(email.clone());
    owner.email_verified = true;
    owner.phone = phone.clone();
    owner.phone_verified = true;
    let (owner, cleared) = s
        .create_user_claiming(&owner, &j)
        .await
        .ctx("verified registration")?;
    ensure_eq!(cleared, vec![squatter.id]);
    let after = s
        .user(squatter.id)
        .await
        .ctx("squatter after")?
        .ctx("squatter")?;
    ensure_eq!(after.email, None);
    ensure_eq!(after.phone, String::new());
    ensure_eq!(
        s.user_by_email(&email).await.ctx("by email")?.map(|u| u.id),
        Some(owner.id)
    );
    let stored = s.user(owner.id).await.ctx("owner")?.ctx("owner present")?;
    ensure!(
        stored.email_verified && stored.phone_verified,
        "flags stored"
    );
    let other = s
        .user(bystander.id)
        .await
        .ctx("bystander")?
        .ctx("present")?;
    ensure_eq!(other.phone, format!("{phone}9"));
    // A verified holder keeps its address against another verified registration, and the
    // refused write changes nothing.
    let mut thief = new_user(&format!("{t}-thief"));
    thief.email = Some(email.clone());
    thief.email_verified = true;
    ensure_err!(
        s.create_user_claiming(&thief, &j).await,
        StoreError::Conflict(Field::Email)
    );
    let stored = s.user(owner.id).await.ctx("owner")?.ctx("owner present")?;
    ensure_eq!(stored.email, Some(email.clone()));
    // A failed registration (its name taken) leaves the unverified claim in place.
    let mut claim = new_user(&format!("{t}-claim"));
    claim.email = Some(format!("{t}-2@example.com"));
    let claim = s.create_user(&claim, &j).await.ctx("claim")?;
    let mut taken_name = new_user(&format!("{t}-OWNER"));
    taken_name.email = Some(format!("{t}-2@example.com"));
    taken_name.email_verified = true;
    ensure_err!(
        s.create_user_claiming(&taken_name, &j).await,
        StoreError::Conflict(Field::UserName)
    );
    let kept = s.user(claim.id).await.ctx("claim")?.ctx("claim present")?;
    ensure_eq!(kept.email, Some(format!("{t}-2@example.com")));
    Ok(())
}
