//! Roles: creation, listing, updates, privileges, deletion, system keys and names.

use super::*;

/// Role names are exact: a case difference is another role.
pub(super) async fn role_names_exact<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let role_a = s
        .create_role(&Role::new(format!("{t}-Role"), "", ""), &Journal::default())
        .await
        .ctx("create Role")?;
    let role_b = s
        .create_role(&Role::new(format!("{t}-role"), "", ""), &Journal::default())
        .await
        .ctx("a role name differing only in case is another name")?;
    ensure_eq!(
        s.role_by_name(&format!("{t}-role"))
            .await
            .ctx("role_by_name")?
            .map(|r| r.id),
        Some(role_b.id)
    );
    ensure_eq!(
        s.role_by_name(&format!("{t}-Role"))
            .await
            .ctx("role_by_name")?
            .map(|r| r.id),
        Some(role_a.id)
    );
    ensure_eq!(
        s.role_by_name(&format!("{t}-ROLE"))
            .await
            .ctx("role_by_name")?
            .map(|r| r.id),
        None
    );
    Ok(())
}

pub(super) async fn role_create_and_read<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("r");
    let mut p = Probe::new(s, "actor").await?;
    let mut r = Role::new(format!("{t}-ops"), "runs things 'n' stuff", "admin");
    r.id = 999_999;
    r.builtin = true;
    r.enabled = false;
    r.privileges = vec![
        "UserAdd".into(),
        "Null".into(),
        "AuditQuery".into(),
        "UserAdd".into(),
        "a".into(),
        "B".into(),
    ];
    r.created_at = 1_500_000_000;
    r.updated_at = 1_500_000_001;
    let created = s
        .create_role(&r, &p.journal("create role", &[Change::Role(7)]))
        .await
        .ctx("create_role")?;
    p.written(s, "create role", &[Change::Role(7)]).await?;
    ensure!(
        created.id > 0 && created.id != r.id,
        "store must assign the id, got {}",
        created.id
    );
    let mut want = r.clone();
    want.id = created.id;
    want.privileges = vec![
        "AuditQuery".into(),
        "B".into(),
        "Null".into(),
        "UserAdd".into(),
        "a".into(),
    ];
    ensure_eq!(created, want);
    ensure_eq!(s.role(created.id).await.ctx("role")?, Some(want.clone()));
    ensure_eq!(
        s.role_by_name(&r.name).await.ctx("role_by_name")?,
        Some(want.clone())
    );
    ensure_eq!(s.role(i64::MAX - 4).await.ctx("role")?, None);
    ensure_eq!(
        s.role_by_name(&format!("{t}-none"))
            .await
            .ctx("role_by_name")?,
        None
    );

    let dup = Role::new(r.name.clone(), "", "");
    ensure_err!(
        s.create_role(&dup, &p.journal("dup", &[Change::Role(8)]))
            .await,
        StoreError::Conflict(Field::RoleName)
    );
    p.nothing(s, "a create with a taken role name").await?;
    ensure_eq!(s.role(created.id).await.ctx("role")?, Some(want));

    let empty = s
        .create_role(
            &Role::new(format!("{t}-empty"), "", ""),
            &Journal::default(),
        )
        .await
        .ctx("create empty")?;
    ensure!(empty.id > created.id, "role ids must grow");
    ensure!(empty.privileges.is_empty(), "privileges appeared");
    ensure_eq!(
        s.role(empty.id).await.ctx("role")?.map(|r| r.privileges),
        Some(Vec::new())
    );
    Ok(())
}

pub(super) async fn role_list<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("r");
    let mut made = Vec::new();
    for i in 0..4 {
        let mut r = Role::new(format!("{t}-{i}"), "", "");
        r.privileges = vec![format!("P{i}"), "Common".into()];
        made.push(s.create_role(&r, &Journal::default()).await.ctx("create")?);
    }
    let all = s.list_roles(Page::ALL).await.ctx("list_roles")?;
    ensure_eq!(all.total, all.rows.len() as u64);
    for w in all.rows.windows(2) {
        ensure!(w[0].id < w[1].id, "list_roles not in id order");
    }
    let mine: Vec<Role> = all
        .rows
        .iter()
        .filter(|r| r.name.starts_with(&t))
        .cloned()
        .collect();
    ensure_eq!(mine, made);
    let at = all
        .rows
        .iter()
        .position(|r| r.id == made[0].id)
        .ctx("own role listed")?;
    let page = s
        .list_roles(Page {
            offset: at as u64 + 1,
            limit: Some(2),
        })
        .await
        .ctx("list_roles page")?;
    ensure_eq!(page.total, all.total);
    ensure_eq!(page.rows, made[1..3].to_vec());
    // Continuing past an id (keyset), with privileges, the offset counted from there.
    let after = s
        .role_rows(
            Page {
                offset: 1,
                limit: Some(2),
            },
            Some(made[0].id),
        )
        .await
        .ctx("role_rows after")?;
    ensure_eq!(after, made[2..4].to_vec());
    ensure_eq!(s.count_roles().await.ctx("count_roles")?, all.total);
    let beyond = s
        .list_roles(Page {
            offset: all.total + 5,
            limit: None,
        })
        .await
        .ctx("list_roles beyond")?;
    ensure!(beyond.rows.is_empty(), "rows past the end");
    ensure_eq!(beyond.total, all.total);
    Ok(())
}

pub(super) async fn role_update<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("r");
    let mut p = Probe::new(s, "actor").await?;
    let mut r = Role::new(format!("{t}-a"), "old", "creator");
    r.privileges = vec!["X".into(), "Y".into()];
    r.created_at = 1_000;
    r.updated_at = 1_000;
    let r = s.create_role(&r, &Journal::default()).await.ctx("create")?;
    let other = s
        .create_role(&Role::new(format!("{t}-b"), "", ""), &Journal::default())
        .await
        .ctx("create other")?;

    let mut next = r.clone();
    next.name = format!("{t}-renamed");
    next.remark = "new".into();
    next.enabled = false;
    next.privileges = vec!["Z".into()]; // not replaced by update_role
    next.creator = "ignored".into();
    next.builtin = true;
    next.created_at = 5;
    s.update_role(&next, &p.journal("update role", &[Change::Role(r.id)]))
        .await
        .ctx("update_role")?;
    p.written(s, "update role", &[Change::Role(r.id)]).await?;
    let got = s.role(r.id).await.ctx("role")?.ctx("role")?;
    ensure_eq!(got.name, next.name);
    ensure_eq!(got.remark, "new");
    ensure!(!got.enabled, "enabled flag not replaced");
    ensure_eq!(got.privileges, r.privileges);
    ensure_eq!(got.creator, r.creator);
    ensure_eq!(got.builtin, r.builtin);
    ensure_eq!(got.created_at, r.created_at);
    ensure!(
        s.role_by_name(&r.name).await.ctx("by old name")?.is_none(),
        "old name still resolves"
    );

    let mut clash = got.clone();
    clash.name = other.name.clone();
    clash.remark = "clash".into();
    ensure_err!(
        s.update_role(&clash, &p.journal("clash", &[Change::Role(r.id)]))
            .await,
        StoreError::Conflict(Field::RoleName)
    );
    p.nothing(s, "an update to a taken role name").await?;
    ensure_eq!(
        s.role(r.id).await.ctx("role")?.map(|x| x.remark),
        Some("new".to_string())
    );

    let mut gone = got.clone();
    gone.id = i64::MAX - 6;
    gone.name = format!("{t}-gone");
    ensure_err!(
        s.update_role(&gone, &p.journal("gone", &[Change::Role(gone.id)]))
            .await,
        StoreError::NotFound(Entity::Role)
    );
    p.nothing(s, "an update of a missing role").await?;

    // Keeping its own name is no conflict.
    let mut same = got.clone();
    same.remark = "same name".into();
    s.update_role(&same, &p.journal("same", &[]))
        .await
        .ctx("update keeping the name")?;
    p.written(s, "same", &[]).await?;
    Ok(())
}

pub(super) async fn role_set_privileges<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("r");
    let mut p = Probe::new(s, "actor").await?;
    let mut r = Role::new(format!("{t}-grants"), "", "");
    r.privileges = vec!["A".into(), "B".into()];
    let r = s.create_role(&r, &Journal::default()).await.ctx("create")?;
    let mut o = Role::new(format!("{t}-other"), "", "");
    o.privileges = vec!["A".into()];
    let o = s
        .create_role(&o, &Journal::default())
        .await
        .ctx("create other")?;

    let codes: Vec<String> = ["UserDel", "B", "UserDel", "C", "b"]
        .iter()
        .map(|c| c.to_string())
        .collect();
    s.set_role_privileges(r.id, &codes, &p.journal("grant", &[Change::Role(r.id)]))
        .await
        .ctx("set_role_privileges")?;
    p.written(s, "grant", &[Change::Role(r.id)]).await?;
    let got = s.role(r.id).await.ctx("role")?.ctx("role")?;
    ensure_eq!(
        got.privileges,
        vec!["B".to_string(), "C".into(), "UserDel".into(), "b".into()]
    );
    ensure_eq!(got.name, r.name);
    ensure_eq!(
        s.role(o.id).await.ctx("role")?.map(|x| x.privileges),
        Some(vec!["A".to_string()])
    );

    s.set_role_privileges(r.id, &[], &p.journal("revoke all", &[Change::Role(r.id)]))
        .await
        .ctx("set_role_privileges empty")?;
    p.written(s, "revoke all", &[Change::Role(r.id)]).await?;
    ensure_eq!(
        s.role(r.id).await.ctx("role")?.map(|x| x.privileges),
        Some(Vec::new())
    );

    ensure_err!(
        s.set_role_privileges(
            i64::MAX - 8,
            &codes,
            &p.journal("missing", &[Change::Role(0)])
        )
        .await,
        StoreError::NotFound(Entity::Role)
    );
    p.nothing(s, "set_role_privileges of a missing role")
        .await?;
    Ok(())
}

pub(super) async fn role_delete<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("r");
    let mut p = Probe::new(s, "actor").await?;
    let mut r = Role::new(format!("{t}-doomed"), "", "");
    r.privileges = vec!["A".into(), "B".into()];
    let r = s.create_role(&r, &Journal::default()).await.ctx("create")?;
    let mut holder = new_user(&format!("{t}-holder"));
    holder.roles = vec![Assignment::global(r.id)];
    let holder = s
        .create_user(&holder, &Journal::default())
        .await
        .ctx("create holder")?;

    ensure_err!(
        s.delete_role(r.id, &p.journal("in use", &[Change::Role(r.id)]))
            .await,
        StoreError::Violation(_)
    );
    p.nothing(s, "deleting a role in use").await?;
    ensure_eq!(
        s.role(r.id).await.ctx("role")?.map(|x| x.privileges),
        Some(r.privileges.clone())
    );

    let mut moved = holder.clone();
    moved.roles = Vec::new();
    s.update_user_roles(&moved, None, 32, Revoke::Nothing, &Journal::default())
        .await
        .ctx("move holder off the role")?;
    s.delete_role(r.id, &p.journal("delete role", &[Change::Role(r.id)]))
        .await
        .ctx("delete_role")?;
    p.written(s, "delete role", &[Change::Role(r.id)]).await?;
    ensure_eq!(s.role(r.id).await.ctx("role")?, None);
    ensure_eq!(s.role_by_name(&r.name).await.ctx("role_by_name")?, None);
    ensure_err!(
        s.set_role_privileges(r.id, &["A".to_string()], &Journal::default())
            .await,
        StoreError::NotFound(Entity::Role)
    );
    ensure_err!(
        s.delete_role(r.id, &p.journal("again", &[Change::Role(r.id)]))
            .await,
        StoreError::NotFound(Entity::Role)
    );
    p.nothing(s, "deleting a missing role").await?;

    // The name is free again, with no grants left over, and a new id.
    let again = s
        .create_role(&Role::new(r.name.clone(), "", ""), &Journal::default())
        .await
        .ctx("recreate")?;
    ensure!(again.id != r.id, "a deleted role's id was reused");
    ensure_eq!(
        s.role(again.id).await.ctx("role")?.map(|x| x.privileges),
        Some(Vec::new())
    );
    let mut back = moved.clone();
    back.roles = vec![Assignment::global(r.id)];
    ensure_err!(
        s.update_user_roles(&back, None, 32, Revoke::Nothing, &Journal::default())
            .await,
        StoreError::NotFound(Entity::Role)
    );
    Ok(())
}

/// System keys: stored and read back, found by `role_by_key` whatever the name, unique
/// (on create and on update), kept across a rename, and absent for ordinary roles.
pub(super) async fn role_system_key<S: Store + ?Sized>(s: &S) -> Outcome {
    let (t, key) = (uniq("sk"), uniq("key"));
    let mut keyed = Role::new(format!("{t}-sys"), "", "admin");
    keyed.system_key = Some(key.clone());
    let keyed = s
        .create_role(&keyed, &Journal::default())
        .await
        .ctx("create keyed")?;
    let got = s.role_by_key(&key).await.ctx("by key")?.ctx("by key")?;
    ensure_eq!(got.id, keyed.id);
    ensure_eq!(got.system_key.as_deref(), Some(key.as_str()));
    let plain = s
        .create_role(
            &Role::new(format!("{t}-plain"), "", ""),
            &Journal::default(),
        )
        .await
        .ctx("create plain")?;
    ensure_eq!(
        s.role(plain.id)
            .await
            .ctx("plain")?
            .ctx("plain")?
            .system_key,
        None
    );
    let mut twin = Role::new(format!("{t}-twin"), "", "");
    twin.system_key = Some(key.clone());
    ensure_err!(
        s.create_role(&twin, &Journal::default()).await,
        StoreError::Conflict(_)
    );
    let mut renamed = got.clone();
    renamed.name = format!("{t}-renamed");
    s.update_role(&renamed, &Journal::default())
        .await
        .ctx("rename keyed")?;
    let got = s.role_by_key(&key).await.ctx("by key")?.ctx("by key")?;
    ensure_eq!(got.name, renamed.name);
    let mut stolen = s.role(plain.id).await.ctx("plain")?.ctx("plain")?;
    stolen.system_key = Some(key.clone());
    ensure_err!(
        s.update_role(&stolen, &Journal::default()).await,
        StoreError::Conflict(_)
    );
    ensure_eq!(
        s.role_by_key(&key).await.ctx("by key")?.map(|r| r.id),
        Some(keyed.id)
    );
    ensure!(
        s.role_by_key(&uniq("none")).await.ctx("none")?.is_none(),
        "an unknown key finds a role"
    );
    let mut adopted = s.role(plain.id).await.ctx("plain")?.ctx("plain")?;
    let other = uniq("key2");
    adopted.system_key = Some(other.clone());
    s.update_role(&adopted, &Journal::default())
        .await
        .ctx("key an existing role")?;
    ensure_eq!(
        s.role_by_key(&other).await.ctx("adopted")?.map(|r| r.id),
        Some(plain.id)
    );
    Ok(())
}
