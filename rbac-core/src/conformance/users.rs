//! Users: creation, reading, unique names and addresses, updates and their refusals.

use super::*;

/// A NUL character in looked-up text finds nothing or is refused as input
/// ([`StoreError::Unrepresentable`]), never a backend failure (a 5xx).
pub(super) async fn nul_characters_are_refused_or_absent<S: Store + ?Sized>(s: &S) -> Outcome {
    let fine = |what: &str, e: Option<StoreError>| match e {
        None | Some(StoreError::Unrepresentable(_)) => Ok(()),
        Some(other) => Err(format!("{what} with a NUL: {other}")),
    };
    fine("user_by_name", s.user_by_name("a\0b").await.err())?;
    fine("role_by_name", s.role_by_name("a\0b").await.err())?;
    Ok(())
}

pub(super) async fn user_create_and_read<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let mut p = Probe::new(s, "actor").await?;
    let role = s
        .create_role(
            &Role::new(format!("{t}-role"), "", "tester"),
            &Journal::default(),
        )
        .await
        .ctx("create role")?;
    let mut u = new_user(&format!("{t}-full ünï"));
    u.id = 999_999_999;
    u.alias = "Alias ünïcødé 名前".into();
    u.phone = format!("+86 {t}");
    u.email = Some(format!("{t}@example.com"));
    u.remark = "it's \"quoted\" \\ 100% _sure_".into();
    u.roles = vec![Assignment::global(role.id)];
    u.enabled = false;
    u.tenant = Scope::new("org", 77);
    u.member_of = Some(123_456_789);
    u.creator = "admin".into();
    u.attributes = BTreeMap::from([
        ("duty".to_string(), "ops \"night\"".to_string()),
        ("telephone".to_string(), "010-1234".to_string()),
    ]);
    u.login_time = Some(1_700_000_000);
    u.login_ip = "2001:db8::1".into();
    u.created_at = 1_600_000_000;
    u.updated_at = 1_600_000_100;

    let created = s
        .create_user(&u, &p.journal("create user", &[Change::User(1)]))
        .await
        .ctx("create_user")?;
    ensure!(
        created.id > 0 && created.id != u.id,
        "store must assign the id, got {}",
        created.id
    );
    p.written(s, "create user", &[Change::User(1)]).await?;
    let mut want = u.clone();
    want.id = created.id;
    same_user(line!(), &created, &want)?;
    same_user(
        line!(),
        &s.user(created.id).await.ctx("user")?.ctx("user")?,
        &want,
    )?;
    same_user(
        line!(),
        &s.user_by_name(&u.name)
            .await
            .ctx("by name")?
            .ctx("by name")?,
        &want,
    )?;
    let email = u.email.clone().unwrap_or_default();
    same_user(
        line!(),
        &s.user_by_email(&email)
            .await
            .ctx("by email")?
            .ctx("by email")?,
        &want,
    )?;

    let blank = s
        .create_user(&new_user(&format!("{t}-blank")), &Journal::default())
        .await
        .ctx("create blank")?;
    ensure!(
        blank.id > created.id,
        "ids must grow: {} after {}",
        blank.id,
        created.id
    );
    let got = s.user(blank.id).await.ctx("user")?.ctx("blank user")?;
    ensure_eq!(got.email, None);
    ensure_eq!(got.roles, Vec::new());
    ensure_eq!(got.login_time, None);
    ensure!(got.attributes.is_empty(), "attributes {:?}", got.attributes);
    ensure!(got.enabled, "blank user must be enabled");

    ensure!(
        s.user(i64::MAX - 7).await.ctx("user")?.is_none(),
        "missing id found"
    );
    ensure!(
        s.user_by_name(&format!("{t}-none"))
            .await
            .ctx("by name")?
            .is_none(),
        "missing name found"
    );
    ensure!(
        s.user_by_email(&format!("{t}-none@x"))
            .await
            .ctx("by email")?
            .is_none(),
        "missing e-mail found"
    );
    Ok(())
}

pub(super) async fn user_unique_name_and_email<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let mut p = Probe::new(s, "actor").await?;
    let mut a = new_user(&format!("{t}-a"));
    a.email = Some(format!("{t}-a@example.com"));
    let a = s
        .create_user(&a, &p.journal("create a", &[]))
        .await
        .ctx("create a")?;
    p.written(s, "create a", &[]).await?;

    let dup_name = new_user(&a.name);
    ensure_err!(
        s.create_user(&dup_name, &p.journal("dup name", &[Change::User(1)]))
            .await,
        StoreError::Conflict(Field::UserName)
    );
    p.nothing(s, "a create with a taken name").await?;

    let mut dup_email = new_user(&format!("{t}-b"));
    dup_email.email = a.email.clone();
    ensure_err!(
        s.create_user(&dup_email, &p.journal("dup email", &[Change::User(2)]))
            .await,
        StoreError::Conflict(Field::Email)
    );
    p.nothing(s, "a create with a taken e-mail").await?;
    ensure!(
        s.user_by_name(&dup_email.name)
            .await
            .ctx("by name")?
            .is_none(),
        "refused user was stored"
    );

    // Many users may have no e-mail.
    for i in 0..3 {
        s.create_user(&new_user(&format!("{t}-noemail{i}")), &Journal::default())
            .await
            .ctx("create without e-mail")?;
    }
    Ok(())
}

pub(super) async fn user_create_with_missing_role<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let p = Probe::new(s, "actor").await?;
    let mut u = new_user(&format!("{t}-orphan"));
    u.roles = vec![Assignment::global(i64::MAX - 11)];
    ensure_err!(
        s.create_user(&u, &p.journal("create orphan", &[Change::User(3)]))
            .await,
        StoreError::NotFound(Entity::Role)
    );
    p.nothing(s, "a create with a missing role").await?;
    ensure!(
        s.user_by_name(&u.name).await.ctx("by name")?.is_none(),
        "refused user was stored"
    );
    Ok(())
}

pub(super) async fn users_by_phone<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let phone = format!("+1 {t}");
    let mut made = Vec::new();
    for i in 0..3 {
        let mut u = new_user(&format!("{t}-ph{i}"));
        u.phone = phone.clone();
        made.push(
            s.create_user(&u, &Journal::default())
                .await
                .ctx("create")?
                .id,
        );
    }
    let mut other = new_user(&format!("{t}-other"));
    other.phone = format!("{phone}0");
    s.create_user(&other, &Journal::default())
        .await
        .ctx("create other")?;

    let all = s.users_by_phone(&phone, 10).await.ctx("users_by_phone")?;
    ensure_eq!(ids(&all), made);
    let two = s
        .users_by_phone(&phone, 2)
        .await
        .ctx("users_by_phone limit")?;
    ensure_eq!(ids(&two), made[..2].to_vec());
    ensure!(
        s.users_by_phone(&format!("{t}-none"), 10)
            .await
            .ctx("users_by_phone")?
            .is_empty(),
        "unknown phone matched"
    );
    ensure!(
        s.users_by_phone(&phone.to_uppercase(), 10)
            .await
            .ctx("users_by_phone")?
            .is_empty()
            || phone == phone.to_uppercase(),
        "phone must match exactly"
    );
    Ok(())
}

pub(super) async fn user_update_replaces_fields<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let mut p = Probe::new(s, "actor").await?;
    let r1 = s
        .create_role(&Role::new(format!("{t}-r1"), "", ""), &Journal::default())
        .await
        .ctx("create r1")?;
    let r2 = s
        .create_role(&Role::new(format!("{t}-r2"), "", ""), &Journal::default())
        .await
        .ctx("create r2")?;
    let mut u = new_user(&format!("{t}-before"));
    u.alias = "before".into();
    u.email = Some(format!("{t}-before@example.com"));
    u.roles = vec![Assignment::global(r1.id)];
    u.tenant = Scope::new("org", 1);
    u.member_of = Some(2);
    u.attributes = BTreeMap::from([("a".to_string(), "1".to_string())]);
    u.login_time = Some(5);
    u.login_ip = "old".into();
    u.created_at = 1_000;
    u.updated_at = 1_000;
    let u = s.create_user(&u, &Journal::default()).await.ctx("create")?;

    let mut next = u.clone();
    next.name = format!("{t}-after");
    next.alias = "after".into();
    next.phone = "+49 30".into();
    next.email = None;
    next.remark = "after".into();
    next.password_hash = "$2b$12$after".into();
    next.roles = vec![Assignment::global(r2.id)];
    next.enabled = false;
    next.tenant = Scope::new("desk", 2);
    next.member_of = None;
    next.creator = "someone".into();
    next.attributes = BTreeMap::from([
        ("b".to_string(), "2".to_string()),
        ("c".to_string(), String::new()),
    ]);
    next.login_time = None;
    next.login_ip = String::new();
    next.created_at = 99_999; // ignored: created_at is kept
    next.updated_at = 2_000;
    s.update_user(
        &next,
        None,
        Revoke::Nothing,
        &p.journal("update", &[Change::User(u.id)]),
    )
    .await
    .ctx("update_user")?;
    p.written(s, "update", &[Change::User(u.id)]).await?;
    // A profile update leaves the assignments as they are.
    let mut want = next.clone();
    want.created_at = u.created_at;
    want.roles = u.roles.clone();
    same_user(
        line!(),
        &s.user(u.id).await.ctx("user")?.ctx("user")?,
        &want,
    )?;
    s.update_user_roles(
        &next,
        None,
        32,
        Revoke::Nothing,
        &p.journal("update roles", &[Change::User(u.id)]),
    )
    .await
    .ctx("update_user_roles")?;
    p.written(s, "update roles", &[Change::User(u.id)]).await?;
    want.roles = next.roles.clone();
    // Its updated_at (2 000) was not later than the stored one: moved one past it.
    want.updated_at = 2_001;
    same_user(
        line!(),
        &s.user(u.id).await.ctx("user")?.ctx("user")?,
        &want,
    )?;
    ensure!(
        s.user_by_name(&u.name).await.ctx("by name")?.is_none(),
        "old name still resolves"
    );
    ensure!(
        s.user_by_email(&format!("{t}-before@example.com"))
            .await
            .ctx("by email")?
            .is_none(),
        "old e-mail still resolves"
    );
    ensure_eq!(s.count_users_with_role(r1.id).await.ctx("count r1")?, 0);
    ensure_eq!(s.count_users_with_role(r2.id).await.ctx("count r2")?, 1);

    // The freed name and e-mail can be taken by another user.
    let mut other = new_user(&u.name);
    other.email = u.email.clone();
    s.create_user(&other, &Journal::default())
        .await
        .ctx("take the freed name and e-mail")?;

    // An update that changes nothing still succeeds.
    s.update_user(&want, None, Revoke::Nothing, &p.journal("same", &[]))
        .await
        .ctx("update with identical values")?;
    p.written(s, "same", &[]).await?;
    want.updated_at = 2_002;
    same_user(
        line!(),
        &s.user(u.id).await.ctx("user")?.ctx("user")?,
        &want,
    )?;
    Ok(())
}

pub(super) async fn user_update_refusals<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let p = Probe::new(s, "actor").await?;
    let mut a = new_user(&format!("{t}-a"));
    a.email = Some(format!("{t}-a@example.com"));
    let a = s
        .create_user(&a, &Journal::default())
        .await
        .ctx("create a")?;
    let mut b = new_user(&format!("{t}-b"));
    b.email = Some(format!("{t}-b@example.com"));
    let b = s
        .create_user(&b, &Journal::default())
        .await
        .ctx("create b")?;

    let mut gone = b.clone();
    gone.id = i64::MAX - 3;
    gone.name = format!("{t}-gone");
    gone.email = None;
    ensure_err!(
        s.update_user(
            &gone,
            None,
            Revoke::Nothing,
            &p.journal("missing", &[Change::User(gone.id)])
        )
        .await,
        StoreError::NotFound(Entity::User)
    );
    p.nothing(s, "an update of a missing user").await?;

    let mut taken_name = b.clone();
    taken_name.name = a.name.clone();
    taken_name.alias = "changed".into();
    ensure_err!(
        s.update_user(
            &taken_name,
            None,
            Revoke::Nothing,
            &p.journal("taken name", &[Change::User(b.id)])
        )
        .await,
        StoreError::Conflict(Field::UserName)
    );
    p.nothing(s, "an update to a taken name").await?;

    let mut taken_email = b.clone();
    taken_email.email = a.email.clone();
    taken_email.alias = "changed".into();
    ensure_err!(
        s.update_user(
            &taken_email,
            None,
            Revoke::Nothing,
            &p.journal("taken email", &[Change::User(b.id)])
        )
        .await,
        StoreError::Conflict(Field::Email)
    );
    p.nothing(s, "an update to a taken e-mail").await?;

    let mut bad_role = b.clone();
    bad_role.roles = vec![Assignment::global(i64::MAX - 5)];
    bad_role.alias = "changed".into();
    ensure_err!(
        s.update_user_roles(
            &bad_role,
            None,
            32,
            Revoke::Nothing,
            &p.journal("bad role", &[Change::User(b.id)])
        )
        .await,
        StoreError::NotFound(Entity::Role)
    );
    p.nothing(s, "an update to a missing role").await?;

    same_user(line!(), &s.user(b.id).await.ctx("user")?.ctx("b")?, &b)?;
    same_user(line!(), &s.user(a.id).await.ctx("user")?.ctx("a")?, &a)?;
    Ok(())
}

/// A user write guarded on the `updated_at` it read lands only while that is still the
/// stored value: a write that came between (another update, a password, an assignment)
/// moves it forward, and the stale write is refused whole.
pub(super) async fn user_writes_guarded<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("guard");
    let created = s
        .create_user(&new_user(&t), &Journal::default())
        .await
        .ctx("create")?;
    let read = s.user(created.id).await.ctx("read")?.ctx("the user")?;
    let mut first = read.clone();
    first.alias = "first".into();
    s.update_user(
        &first,
        Some(read.updated_at),
        Revoke::Nothing,
        &Journal::default(),
    )
    .await
    .ctx("a write guarded on what it read")?;
    let after_first = s.user(created.id).await.ctx("read")?.ctx("the user")?;
    ensure!(
        after_first.updated_at > read.updated_at,
        "a write moves updated_at forward: {} then {}",
        read.updated_at,
        after_first.updated_at
    );
    // A second write from the same read (the stale copy of a concurrent editor).
    let mut stale = read.clone();
    stale.alias = "stale".into();
    stale.enabled = !read.enabled;
    ensure_err!(
        s.update_user(
            &stale,
            Some(read.updated_at),
            Revoke::Nothing,
            &Journal::default()
        )
        .await,
        StoreError::Violation(USER_CHANGED)
    );
    ensure_err!(
        s.update_user_roles(
            &stale,
            Some(read.updated_at),
            32,
            Revoke::Nothing,
            &Journal::default()
        )
        .await,
        StoreError::Violation(USER_CHANGED)
    );
    let kept = s.user(created.id).await.ctx("read")?.ctx("the user")?;
    ensure_eq!(kept.alias, "first");
    ensure_eq!(kept.enabled, read.enabled);
    // A password and an assignment move it forward too.
    s.set_password(created.id, "new-hash", None, None, &Journal::default())
        .await
        .ctx("set password")?;
    let after_password = s.user(created.id).await.ctx("read")?.ctx("the user")?;
    ensure!(
        after_password.updated_at > after_first.updated_at,
        "a password write moves updated_at forward"
    );
    ensure_err!(
        s.set_password(
            created.id,
            "stale-hash",
            Some(after_first.updated_at),
            None,
            &Journal::default()
        )
        .await,
        StoreError::Violation(USER_CHANGED)
    );
    let mut late = after_first.clone();
    late.alias = "late".into();
    ensure_err!(
        s.update_user(
            &late,
            Some(after_first.updated_at),
            Revoke::Nothing,
            &Journal::default()
        )
        .await,
        StoreError::Violation(USER_CHANGED)
    );
    let role = s
        .create_role(
            &Role::new(format!("{t}-r"), "", "conformance"),
            &Journal::default(),
        )
        .await
        .ctx("create role")?;
    s.assign_role(
        created.id,
        Assignment::global(role.id),
        32,
        &Journal::default(),
    )
    .await
    .ctx("assign")?;
    let after_assign = s.user(created.id).await.ctx("read")?.ctx("the user")?;
    ensure!(
        after_assign.updated_at > after_password.updated_at,
        "an assignment moves updated_at forward"
    );
    // The positive control: guarded on the latest read, the write lands.
    let mut fresh = after_assign.clone();
    fresh.alias = "fresh".into();
    s.update_user(
        &fresh,
        Some(after_assign.updated_at),
        Revoke::Nothing,
        &Journal::default(),
    )
    .await
    .ctx("a write guarded on the latest read")?;
    let last = s.user(created.id).await.ctx("read")?.ctx("the user")?;
    ensure_eq!(last.alias, "fresh");
    ensure_eq!(last.password_hash, "new-hash");
    ensure_eq!(last.roles.len(), 1);
    Ok(())
}
