//! Assignments (many roles per user, global or scoped) and scope parents.

use super::*;

/// A scope of kind `kind` no other run uses (an id of letters in both cases, digits and
/// punctuation: `St-1a2b3c4d.7`).
fn fresh_scope(kind: &str) -> Scope {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = format!(
        "St-{:08x}.{}",
        rand::random::<u32>(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    Scope::new(kind, id).expect("a valid kind")
}

/// Scope ids are text compared exactly: ids that differ only in case, by a leading zero or
/// by a last character are different scopes, each assigned, listed, revoked and parented
/// on its own; a UUID and an id of the longest length round-trip.
pub(super) async fn scope_ids_are_exact_text<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("sid");
    let mut p = Probe::new(s, "actor").await?;
    let role = Role::new(format!("{t}-r"), "", "");
    let role = s
        .create_role(&role, &Journal::default())
        .await
        .ctx("role")?
        .id;
    let number = rand::random::<u32>();
    let uuid = format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        rand::random::<u32>(),
        rand::random::<u16>(),
        rand::random::<u16>() & 0xfff,
        rand::random::<u16>() & 0xfff,
        rand::random::<u64>() & 0xffff_ffff_ffff
    );
    let longest = format!("{t:z<width$}", width = crate::SCOPE_ID_MAX);
    let ids = [
        t.clone(),
        t.to_uppercase(),
        t[..t.len() - 1].to_string(),
        number.to_string(),
        format!("0{number}"),
        uuid,
        longest,
    ];
    let scopes: Vec<Scope> = ids
        .iter()
        .map(|id| Scope::new("desk", id).ctx("a valid id"))
        .collect::<Result<_, _>>()?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create")?;
    for scope in &scopes {
        ensure!(
            s.assign_role(
                u.id,
                Assignment::within(role, *scope),
                32,
                &Journal::default()
            )
            .await
            .ctx("assign")?,
            "{scope} is a scope of its own"
        );
    }
    let held = |roles: Vec<Assignment>| -> Vec<String> {
        roles
            .iter()
            .filter_map(|a| a.scope.map(|s| s.id().to_string()))
            .collect()
    };
    let got = s.user(u.id).await.ctx("user")?.ctx("user")?;
    ensure_eq!(held(got.roles), ids.to_vec());

    // Revoking the upper-case id leaves the lower-case one; `0N` leaves `N`.
    for gone in [1, 4] {
        ensure!(
            s.revoke_role(
                u.id,
                Assignment::within(role, scopes[gone]),
                &p.journal("revoke", &[Change::User(u.id)])
            )
            .await
            .ctx("revoke")?,
            "held"
        );
        p.written(s, "revoke", &[Change::User(u.id)]).await?;
    }
    let got = s.user(u.id).await.ctx("user")?.ctx("user")?;
    let left: Vec<String> = [0, 2, 3, 5, 6].iter().map(|i| ids[*i].clone()).collect();
    ensure_eq!(held(got.roles), left);
    let by_name = s
        .user_by_name(&u.name)
        .await
        .ctx("by name")?
        .ctx("by name")?;
    ensure_eq!(held(by_name.roles), left);

    // `0N` lies within `N`; `N` has no parent, and the pair lists exactly.
    s.set_scope_parent(scopes[4], Some(scopes[3]), &Journal::default())
        .await
        .ctx("parent")?;
    ensure_eq!(
        s.scope_parent(scopes[4]).await.ctx("parent")?,
        Some(scopes[3])
    );
    ensure_eq!(s.scope_parent(scopes[3]).await.ctx("parent")?, None);
    ensure_eq!(s.scope_parent(scopes[0]).await.ctx("parent")?, None);
    let all = s.scope_parents().await.ctx("all")?;
    ensure!(all.contains(&(scopes[4], scopes[3])), "listed: {all:?}");
    ensure!(!all.iter().any(|(child, _)| *child == scopes[3]), "{all:?}");
    s.set_scope_parent(scopes[4], None, &Journal::default())
        .await
        .ctx("clear")?;
    Ok(())
}

pub(super) async fn assignments_many_and_scoped<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("as");
    let mut p = Probe::new(s, "actor").await?;
    let mut roles = Vec::new();
    for i in 0..4 {
        let r = Role::new(format!("{t}-r{i}"), "", "");
        roles.push(s.create_role(&r, &Journal::default()).await.ctx("role")?.id);
    }
    let org = fresh_scope("org");
    // Created with three global roles, in the order given (not sorted).
    let mut u = new_user(&format!("{t}-u"));
    u.roles = vec![
        Assignment::global(roles[2]),
        Assignment::global(roles[0]),
        Assignment::global(roles[1]),
    ];
    let u = s.create_user(&u, &Journal::default()).await.ctx("create")?;
    let got = s.user(u.id).await.ctx("user")?.ctx("user")?;
    ensure_eq!(got.roles, u.roles);

    // A scoped assignment is added once; the same role globally is another assignment.
    let scoped = Assignment::within(roles[0], org);
    ensure!(
        s.assign_role(
            u.id,
            scoped,
            32,
            &p.journal("assign", &[Change::User(u.id)])
        )
        .await
        .ctx("assign")?,
        "a new assignment is added"
    );
    p.written(s, "assign", &[Change::User(u.id)]).await?;
    ensure!(
        !s.assign_role(u.id, scoped, 32, &p.journal("again", &[Change::User(u.id)]))
            .await
            .ctx("assign again")?,
        "an assignment held already is not added twice"
    );
    p.nothing(s, "assigning a held assignment").await?;
    let got = s.user(u.id).await.ctx("user")?.ctx("user")?;
    ensure_eq!(got.roles.len(), 4);
    ensure_eq!(got.roles[3], scoped);
    ensure_eq!(
        s.user_by_name(&u.name)
            .await
            .ctx("by name")?
            .map(|x| x.roles),
        Some(got.roles.clone())
    );

    // The cap counts global and scoped assignments; a refusal writes nothing.
    ensure_err!(
        s.assign_role(
            u.id,
            Assignment::global(roles[3]),
            4,
            &p.journal("over cap", &[Change::User(u.id)])
        )
        .await,
        StoreError::Violation(_)
    );
    p.nothing(s, "an assignment past the cap").await?;
    ensure_err!(
        s.assign_role(
            u.id,
            Assignment::global(i64::MAX - 7),
            32,
            &Journal::default()
        )
        .await,
        StoreError::NotFound(Entity::Role)
    );
    ensure_err!(
        s.assign_role(
            i64::MAX - 7,
            Assignment::global(roles[3]),
            32,
            &Journal::default()
        )
        .await,
        StoreError::NotFound(Entity::User)
    );

    // A profile update keeps every assignment; replacing the global roles keeps the scoped.
    let mut edited = got.clone();
    edited.alias = "edited".into();
    edited.roles = Vec::new();
    s.update_user(&edited, None, Revoke::Nothing, &Journal::default())
        .await
        .ctx("update")?;
    ensure_eq!(
        s.user(u.id).await.ctx("user")?.ctx("user")?.roles,
        got.roles.clone()
    );
    edited.roles = vec![Assignment::global(roles[3]), Assignment::global(roles[1])];
    s.update_user_roles(
        &edited,
        None,
        32,
        Revoke::Nothing,
        &p.journal("replace", &[Change::User(u.id)]),
    )
    .await
    .ctx("update roles")?;
    p.written(s, "replace", &[Change::User(u.id)]).await?;
    let got = s.user(u.id).await.ctx("user")?.ctx("user")?;
    ensure_eq!(
        got.global_roles().collect::<Vec<_>>(),
        vec![roles[3], roles[1]]
    );
    ensure!(got.roles.contains(&scoped), "the scoped assignment stays");
    ensure_eq!(got.alias, "edited");
    ensure_err!(
        s.update_user_roles(
            &edited,
            None,
            2,
            Revoke::Nothing,
            &p.journal("over cap", &[Change::User(u.id)])
        )
        .await,
        StoreError::Violation(_)
    );
    p.nothing(s, "a replacement past the cap").await?;

    // Holders are distinct users, whatever the scope; a role held only in a scope is held.
    let mut other = new_user(&format!("{t}-other"));
    other.roles = vec![Assignment::within(roles[0], fresh_scope("desk"))];
    let other = s
        .create_user(&other, &Journal::default())
        .await
        .ctx("other")?;
    ensure_eq!(s.count_users_with_role(roles[0]).await.ctx("count")?, 2);
    ensure_eq!(s.count_users_with_role(roles[2]).await.ctx("count")?, 0);
    ensure_err!(
        s.delete_role(
            roles[0],
            &p.journal("delete held", &[Change::Role(roles[0])])
        )
        .await,
        StoreError::Violation(_)
    );
    p.nothing(s, "deleting a role held in a scope").await?;

    // Revoking: once true, then false; a missing user is NotFound.
    ensure!(
        s.revoke_role(u.id, scoped, &p.journal("revoke", &[Change::User(u.id)]))
            .await
            .ctx("revoke")?,
        "a held assignment is revoked"
    );
    p.written(s, "revoke", &[Change::User(u.id)]).await?;
    ensure!(
        !s.revoke_role(u.id, scoped, &p.journal("again", &[Change::User(u.id)]))
            .await
            .ctx("revoke again")?,
        "an assignment not held is not revoked"
    );
    p.nothing(s, "revoking an assignment not held").await?;
    ensure_err!(
        s.revoke_role(i64::MAX - 7, scoped, &Journal::default())
            .await,
        StoreError::NotFound(Entity::User)
    );
    ensure_eq!(s.count_users_with_role(roles[0]).await.ctx("count")?, 1);

    // Deleting the users frees the roles.
    s.delete_user(other.id, &Journal::default())
        .await
        .ctx("delete other")?;
    s.delete_user(u.id, &Journal::default())
        .await
        .ctx("delete u")?;
    s.delete_role(roles[0], &Journal::default())
        .await
        .ctx("delete a role no one holds")?;
    Ok(())
}

pub(super) async fn scope_parents<S: Store + ?Sized>(s: &S) -> Outcome {
    let mut p = Probe::new(s, "actor").await?;
    let (org, team, desk) = (fresh_scope("org"), fresh_scope("team"), fresh_scope("desk"));
    ensure_eq!(s.scope_parent(desk).await.ctx("parent")?, None);
    s.set_scope_parent(
        desk,
        Some(team),
        &p.journal("parent", &[Change::Scope(desk)]),
    )
    .await
    .ctx("set")?;
    p.written(s, "parent", &[Change::Scope(desk)]).await?;
    s.set_scope_parent(team, Some(org), &Journal::default())
        .await
        .ctx("set")?;
    ensure_eq!(s.scope_parent(desk).await.ctx("parent")?, Some(team));
    ensure_eq!(s.scope_parent(team).await.ctx("parent")?, Some(org));
    let all = s.scope_parents().await.ctx("all")?;
    ensure!(all.contains(&(desk, team)), "listed: {all:?}");
    ensure!(all.contains(&(team, org)), "listed: {all:?}");

    // A cycle, direct or through others, is refused and writes nothing.
    for (child, parent) in [(org, desk), (org, team), (team, team)] {
        ensure_err!(
            s.set_scope_parent(
                child,
                Some(parent),
                &p.journal("cycle", &[Change::Scope(child)])
            )
            .await,
            StoreError::Violation(_)
        );
        p.nothing(s, "a cycle of scopes").await?;
    }
    ensure_eq!(s.scope_parent(org).await.ctx("parent")?, None);

    // Nesting deeper than the authorizer follows is refused, from above or below.
    let chain: Vec<Scope> = (0..crate::authz::authorizer::MAX_SCOPE_DEPTH)
        .map(|_| fresh_scope("deep"))
        .collect();
    for pair in chain.windows(2) {
        s.set_scope_parent(pair[1], Some(pair[0]), &Journal::default())
            .await
            .ctx("chain")?;
    }
    let below = fresh_scope("deep");
    ensure_err!(
        s.set_scope_parent(below, Some(chain[chain.len() - 1]), &Journal::default())
            .await,
        StoreError::Violation(_)
    );
    let above = fresh_scope("deep");
    ensure_err!(
        s.set_scope_parent(chain[0], Some(above), &Journal::default())
            .await,
        StoreError::Violation(_)
    );

    // Clearing a parent.
    s.set_scope_parent(desk, None, &Journal::default())
        .await
        .ctx("clear")?;
    ensure_eq!(s.scope_parent(desk).await.ctx("parent")?, None);
    Ok(())
}

/// A role moved into each holder's tenant: a holder with a tenant holds it there instead
/// (the global assignment dropped where it held it there already), one without keeps it,
/// other roles stay; one audit entry and a change per user moved; a second run moves
/// nothing.
pub(super) async fn role_scoped_by_tenant<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("tn");
    let mut p = Probe::new(s, "actor").await?;
    let j = Journal::default();
    let role = s
        .create_role(&Role::new(format!("{t}-r"), "", ""), &j)
        .await
        .ctx("role")?
        .id;
    let other = s
        .create_role(&Role::new(format!("{t}-o"), "", ""), &j)
        .await
        .ctx("other role")?
        .id;
    let (tenant_a, tenant_b) = (fresh_scope("org"), fresh_scope("org"));
    let mut a = new_user(&format!("{t}-a"));
    a.tenant = Some(tenant_a);
    a.roles = vec![Assignment::global(role), Assignment::global(other)];
    let a = s.create_user(&a, &j).await.ctx("a")?;
    let mut b = new_user(&format!("{t}-b"));
    b.tenant = Some(tenant_b);
    b.roles = vec![Assignment::global(role), Assignment::within(role, tenant_b)];
    let b = s.create_user(&b, &j).await.ctx("b")?;
    let mut c = new_user(&format!("{t}-c"));
    c.roles = vec![Assignment::global(role)];
    let c = s.create_user(&c, &j).await.ctx("c")?;

    let moved = s
        .scope_role_by_tenant(role, &p.journal("by tenant", &[]))
        .await
        .ctx("scope")?;
    ensure_eq!(moved, vec![a.id, b.id]);
    p.written(s, "by tenant", &[Change::User(a.id), Change::User(b.id)])
        .await?;
    let roles =
        |id| async move { Ok::<_, String>(s.user(id).await.ctx("read")?.ctx("user")?.roles) };
    ensure_eq!(
        roles(a.id).await?,
        vec![
            Assignment::within(role, tenant_a),
            Assignment::global(other)
        ]
    );
    ensure_eq!(roles(b.id).await?, vec![Assignment::within(role, tenant_b)]);
    ensure_eq!(roles(c.id).await?, vec![Assignment::global(role)]);

    let again = s
        .scope_role_by_tenant(role, &p.journal("again", &[]))
        .await
        .ctx("again")?;
    ensure!(again.is_empty(), "a second run moved {again:?}");
    p.nothing(s, "a second run").await?;
    Ok(())
}
