//! The operation log and the journal.

use super::*;

pub(super) async fn audit_append_and_list<S: Store + ?Sized>(s: &S) -> Outcome {
    let actor = uniq("auditor");
    let cursor = s.change_cursor().await.ctx("cursor")?;
    let t0 = now();
    let e = NewAudit {
        user_id: None,
        user_name: actor.clone(),
        category: AuditCategory::Home,
        content: "login failed: wrong password for 'x' 100% \\ ünï".into(),
        success: false,
    };
    s.append_audit(&e).await.ctx("append_audit")?;
    let t1 = now();
    let got = s
        .list_audit(&AuditQuery {
            user_name: Some(actor.clone()),
            ..AuditQuery::default()
        })
        .await
        .ctx("list_audit")?;
    ensure_eq!(got.total, 1);
    let row = got.rows.first().ctx("row")?;
    ensure_eq!(
        (
            row.user_id,
            &row.user_name,
            row.category,
            &row.content,
            row.success
        ),
        (None, &actor, 1, &e.content, false)
    );
    ensure!(
        row.time >= t0 && row.time <= t1,
        "audit time {} not in [{t0}, {t1}]",
        row.time
    );
    ensure!(row.id > 0, "audit id {}", row.id);
    ensure!(
        s.changes_since(cursor, 10).await.ctx("changes")?.is_empty(),
        "append_audit wrote a change"
    );
    let mut e2 = e.clone();
    e2.user_id = Some(17);
    e2.success = true;
    s.append_audit(&e2).await.ctx("append_audit")?;
    let got = s
        .list_audit(&AuditQuery {
            user_name: Some(actor.clone()),
            ..AuditQuery::default()
        })
        .await
        .ctx("list_audit")?;
    ensure_eq!(got.total, 2);
    ensure!(got.rows[0].id > got.rows[1].id, "audit not newest first");
    ensure_eq!((got.rows[0].user_id, got.rows[0].success), (Some(17), true));
    ensure!(
        s.list_audit(&AuditQuery {
            user_name: Some(actor.to_uppercase()),
            ..AuditQuery::default()
        })
        .await
        .ctx("list_audit")?
        .rows
        .is_empty(),
        "audit user_name filter is not exact"
    );
    Ok(())
}

pub(super) async fn audit_filters_and_paging<S: Store + ?Sized>(s: &S) -> Outcome {
    let actor = uniq("auditor");
    let t0 = now();
    let mut ids_made = Vec::new();
    for (i, cat) in [
        AuditCategory::Home,
        AuditCategory::System,
        AuditCategory::System,
        AuditCategory::Alert,
    ]
    .iter()
    .enumerate()
    {
        s.append_audit(&NewAudit {
            user_id: Some(1),
            user_name: actor.clone(),
            category: *cat,
            content: format!("entry {i}"),
            success: true,
        })
        .await
        .ctx("append_audit")?;
        ids_made.push(i);
    }
    let t1 = now();
    let q = |category: Option<i32>, from: Option<i64>, to: Option<i64>, page: Page| AuditQuery {
        user_name: Some(actor.clone()),
        category,
        from,
        to,
        page,
        outranking: None,
    };
    let contents =
        |l: &Listing<AuditEntry>| l.rows.iter().map(|e| e.content.clone()).collect::<Vec<_>>();
    let all = s
        .list_audit(&q(None, None, None, Page::ALL))
        .await
        .ctx("list")?;
    ensure_eq!(
        contents(&all),
        vec!["entry 3", "entry 2", "entry 1", "entry 0"]
    );
    ensure_eq!(all.total, 4);
    let sys = s
        .list_audit(&q(Some(2), None, None, Page::ALL))
        .await
        .ctx("list")?;
    ensure_eq!(contents(&sys), vec!["entry 2", "entry 1"]);
    ensure_eq!(sys.total, 2);
    let none = s
        .list_audit(&q(Some(3), None, None, Page::ALL))
        .await
        .ctx("list")?;
    ensure_eq!(none.total, 0);
    let window = s
        .list_audit(&q(None, Some(t0), Some(t1), Page::ALL))
        .await
        .ctx("list")?;
    ensure_eq!(window.total, 4);
    let future = s
        .list_audit(&q(None, Some(t1 + 1000), None, Page::ALL))
        .await
        .ctx("list")?;
    ensure_eq!(future.total, 0);
    let past = s
        .list_audit(&q(None, None, Some(t0 - 1000), Page::ALL))
        .await
        .ctx("list")?;
    ensure_eq!(past.total, 0);
    let page = s
        .list_audit(&q(
            None,
            None,
            None,
            Page {
                offset: 1,
                limit: Some(2),
            },
        ))
        .await
        .ctx("list")?;
    ensure_eq!(contents(&page), vec!["entry 2", "entry 1"]);
    ensure_eq!(page.total, 4);
    let page = s
        .list_audit(&q(Some(2), None, None, Page::nth(1, 1)))
        .await
        .ctx("list")?;
    ensure_eq!(contents(&page), vec!["entry 1"]);
    ensure_eq!(page.total, 2);

    // Across every user: newest first, and the full count.
    let everyone = s.list_audit(&AuditQuery::default()).await.ctx("list all")?;
    ensure_eq!(everyone.total, everyone.rows.len() as u64);
    for w in everyone.rows.windows(2) {
        ensure!(w[0].id > w[1].id, "list_audit not newest first");
    }
    let first = s
        .list_audit(&AuditQuery {
            page: Page {
                offset: 0,
                limit: Some(1),
            },
            ..AuditQuery::default()
        })
        .await
        .ctx("list first")?;
    ensure_eq!(first.total, everyone.total);
    ensure_eq!(
        first.rows.first().map(|e| e.id),
        everyone.rows.first().map(|e| e.id)
    );
    Ok(())
}

pub(super) async fn journal_without_audit<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("j");
    let everyone_before = s
        .list_audit(&AuditQuery::default())
        .await
        .ctx("list_audit")?
        .total;
    let cursor = s.change_cursor().await.ctx("cursor")?;
    let j = Journal::default()
        .with(Change::User(5))
        .with(Change::Role(6));
    s.create_user(&new_user(&format!("{t}-u")), &j)
        .await
        .ctx("create")?;
    let changes = s.changes_since(cursor, 10).await.ctx("changes")?;
    let kinds: Vec<Change> = changes.into_iter().map(|(_, c)| c).collect();
    ensure_eq!(kinds, vec![Change::User(5), Change::Role(6)]);
    let everyone_after = s
        .list_audit(&AuditQuery::default())
        .await
        .ctx("list_audit")?
        .total;
    ensure_eq!(everyone_after, everyone_before);
    Ok(())
}

/// The unfiltered total of the log.
async fn total<S: Store + ?Sized>(s: &S) -> StoreResult<u64> {
    s.list_audit(&AuditQuery::default()).await.map(|l| l.total)
}

/// How many entries the log lists.
async fn rows<S: Store + ?Sized>(s: &S) -> StoreResult<u64> {
    s.list_audit(&AuditQuery {
        page: Page::ALL,
        ..AuditQuery::default()
    })
    .await
    .map(|l| l.rows.len() as u64)
}

/// The unfiltered total is maintained (it follows appends, journalled writes and pruning
/// exactly); pruning deletes the oldest entries before a time, at most `limit` per call.
/// Runs last: it prunes the whole log.
pub(super) async fn audit_total_and_prune<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("p");
    let before = total(s).await.ctx("total")?;
    ensure_eq!(before, rows(s).await.ctx("rows")?);
    for i in 0..5 {
        s.append_audit(&NewAudit {
            user_id: None,
            user_name: format!("{t}-{i}"),
            category: AuditCategory::Home,
            content: "counted".into(),
            success: true,
        })
        .await
        .ctx("append")?;
    }
    s.create_user(
        &new_user(&format!("{t}-u")),
        &Journal::audit(NewAudit {
            user_id: None,
            user_name: t.clone(),
            category: AuditCategory::System,
            content: "journalled".into(),
            success: true,
        }),
    )
    .await
    .ctx("create")?;
    ensure_eq!(total(s).await.ctx("total")?, before + 6);
    ensure_eq!(rows(s).await.ctx("rows")?, before + 6);
    // Nothing is older than an hour ago: nothing pruned.
    ensure_eq!(s.prune_audit(now() - 3600, 100).await.ctx("prune")?, 0);
    // Everything is older than a minute from now: pruned in bounded batches.
    let all = before + 6;
    let first = s.prune_audit(now() + 60, 4).await.ctx("prune 4")?;
    ensure_eq!(first, all.min(4));
    ensure_eq!(total(s).await.ctx("total")?, all - first);
    ensure_eq!(rows(s).await.ctx("rows")?, all - first);
    let mut left = all - first;
    while left > 0 {
        let n = s.prune_audit(now() + 60, 1_000).await.ctx("prune")?;
        ensure!(n > 0, "{left} entries left but none pruned");
        left -= n;
    }
    ensure_eq!(total(s).await.ctx("total")?, 0);
    ensure_eq!(rows(s).await.ctx("rows")?, 0);
    // The newest entries go last: an entry appended now survives a cut-off in the past.
    s.append_audit(&NewAudit {
        user_id: None,
        user_name: t.clone(),
        category: AuditCategory::Home,
        content: "after".into(),
        success: true,
    })
    .await
    .ctx("append")?;
    ensure_eq!(s.prune_audit(now() - 60, 1_000).await.ctx("prune")?, 0);
    ensure_eq!(total(s).await.ctx("total")?, 1);
    Ok(())
}
