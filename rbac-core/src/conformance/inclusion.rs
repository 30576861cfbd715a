//! Role inclusion: replacing what a role includes, unknown roles, cycles at any depth,
//! deletion, and two changes that would close a cycle together.

use super::*;

async fn role<S: Store + ?Sized>(s: &S, name: String) -> Result<Role, String> {
    s.create_role(&Role::new(name, "", ""), &Journal::default())
        .await
        .ctx("create role")
}

/// Setting, replacing and clearing what a role includes; unknown roles and cycles are
/// refused and write nothing; deleting an included role drops it from its includers.
pub(super) async fn role_includes<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("i");
    let mut p = Probe::new(s, "actor").await?;
    let a = role(s, format!("{t}-a")).await?;
    let b = role(s, format!("{t}-b")).await?;
    let c = role(s, format!("{t}-c")).await?;
    ensure_eq!(a.includes, Vec::<RoleId>::new());

    s.set_role_includes(
        a.id,
        &[c.id, b.id, c.id],
        &p.journal("include", &[Change::Role(a.id)]),
    )
    .await
    .ctx("set_role_includes")?;
    p.written(s, "include", &[Change::Role(a.id)]).await?;
    let mut both = vec![b.id, c.id];
    both.sort_unstable();
    ensure_eq!(
        s.role(a.id).await.ctx("role")?.map(|r| r.includes),
        Some(both.clone())
    );
    ensure_eq!(
        s.role_by_name(&a.name)
            .await
            .ctx("by name")?
            .map(|r| r.includes),
        Some(both.clone())
    );
    let listed = s.list_roles(Page::ALL).await.ctx("list")?;
    ensure_eq!(
        listed
            .rows
            .iter()
            .find(|r| r.id == a.id)
            .map(|r| r.includes.clone()),
        Some(both)
    );
    ensure_eq!(
        s.role(b.id).await.ctx("role")?.map(|r| r.includes),
        Some(Vec::new())
    );

    // b includes c: a diamond-free chain a -> b -> c is fine.
    s.set_role_includes(b.id, &[c.id], &Journal::default())
        .await
        .ctx("chain")?;
    // A cycle through itself, three deep and two deep.
    for (from, to, what) in [
        (a.id, vec![a.id], "itself"),
        (c.id, vec![a.id], "three deep"),
        (b.id, vec![c.id, a.id], "two deep"),
    ] {
        ensure_err!(
            s.set_role_includes(from, &to, &p.journal("cycle", &[Change::Role(from)]))
                .await,
            StoreError::Violation(_)
        );
        let _ = what;
        p.nothing(s, "a refused cycle").await?;
    }
    ensure_eq!(
        s.role(c.id).await.ctx("role")?.map(|r| r.includes),
        Some(Vec::new())
    );
    ensure_err!(
        s.set_role_includes(a.id, &[b.id, RoleId::MAX], &Journal::default())
            .await,
        StoreError::NotFound(Entity::Role)
    );
    ensure_err!(
        s.set_role_includes(RoleId::MAX, &[b.id], &Journal::default())
            .await,
        StoreError::NotFound(Entity::Role)
    );
    // A refused change keeps what was there.
    ensure_eq!(
        s.role(a.id).await.ctx("role")?.map(|r| r.includes.len()),
        Some(2)
    );

    s.delete_role(c.id, &Journal::default())
        .await
        .ctx("delete an included role")?;
    ensure_eq!(
        s.role(a.id).await.ctx("role")?.map(|r| r.includes),
        Some(vec![b.id])
    );
    ensure_eq!(
        s.role(b.id).await.ctx("role")?.map(|r| r.includes),
        Some(Vec::new())
    );

    s.set_role_includes(a.id, &[], &Journal::default())
        .await
        .ctx("clear")?;
    ensure_eq!(
        s.role(a.id).await.ctx("role")?.map(|r| r.includes),
        Some(Vec::new())
    );
    Ok(())
}

/// Two concurrent changes that would together close a cycle: at most one succeeds.
pub(super) async fn role_includes_race<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("i");
    for round in 0..5 {
        let a = role(s, format!("{t}-a{round}")).await?;
        let b = role(s, format!("{t}-b{round}")).await?;
        let (ja, jb) = (Journal::default(), Journal::default());
        let (to_b, to_a) = ([b.id], [a.id]);
        let (ra, rb) = tokio::join!(
            s.set_role_includes(a.id, &to_b, &ja),
            s.set_role_includes(b.id, &to_a, &jb)
        );
        for r in [&ra, &rb] {
            if let Err(e) = r {
                ensure!(
                    matches!(e, StoreError::Violation(_)),
                    "round {round}: a losing change is a cycle refusal, not {e:?}"
                );
            }
        }
        ensure!(
            ra.is_err() || rb.is_err(),
            "round {round}: both halves of a cycle were stored"
        );
        let a_in = s.role(a.id).await.ctx("role")?.map(|r| r.includes);
        let b_in = s.role(b.id).await.ctx("role")?.map(|r| r.includes);
        ensure_eq!(
            (
                a_in.is_some_and(|v| !v.is_empty()),
                b_in.is_some_and(|v| !v.is_empty())
            ),
            (ra.is_ok(), rb.is_ok())
        );
    }
    Ok(())
}
