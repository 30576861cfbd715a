//! The change journal.

use super::*;

pub(super) async fn change_log<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("c");
    let c0 = s.change_cursor().await.ctx("change_cursor")?;
    let sid = format!("{t} 'quoted' \"session\" \\ ünï");
    let want = vec![
        Change::Role(5),
        Change::User(i64::MAX),
        Change::Session(sid.clone()),
        Change::Role(-1),
        Change::ApiKey(42),
    ];
    let mut j = Journal::default();
    for c in &want {
        j = j.with(c.clone());
    }
    s.create_user(&new_user(&format!("{t}-u")), &j)
        .await
        .ctx("create")?;
    let got = s.changes_since(c0, 100).await.ctx("changes_since")?;
    let kinds: Vec<Change> = got.iter().map(|(_, c)| c.clone()).collect();
    ensure_eq!(kinds, want);
    for w in got.windows(2) {
        ensure!(w[0].0 < w[1].0, "change ids not increasing: {got:?}");
    }
    let last = got.last().map(|(id, _)| *id).ctx("last change")?;
    ensure!(
        got[0].0 > c0,
        "change id {} not after cursor {c0}",
        got[0].0
    );
    ensure_eq!(s.change_cursor().await.ctx("change_cursor")?, last);
    let two = s.changes_since(c0, 2).await.ctx("changes_since limit")?;
    ensure_eq!(two, got[..2].to_vec());
    let rest = s
        .changes_since(two[1].0, 100)
        .await
        .ctx("changes_since middle")?;
    ensure_eq!(rest, got[2..].to_vec());
    ensure!(
        s.changes_since(last, 100)
            .await
            .ctx("changes_since end")?
            .is_empty(),
        "changes after the last"
    );
    ensure_eq!(
        s.changes_since(c0, 0).await.ctx("changes_since 0")?,
        Vec::new()
    );
    Ok(())
}

pub(super) async fn change_prune_keeps_ids_growing<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("c");
    let c0 = s.change_cursor().await.ctx("change_cursor")?;
    let j = Journal::default().with(Change::Session(format!("{t}-1")));
    s.create_user(&new_user(&format!("{t}-a")), &j)
        .await
        .ctx("create")?;
    let first = s.changes_since(c0, 10).await.ctx("changes")?;
    ensure_eq!(first.len(), 1);
    let n = now();
    ensure_eq!(s.prune_changes(n - 3600).await.ctx("prune old")?, 0);
    ensure_eq!(s.changes_since(c0, 10).await.ctx("changes")?, first);
    let pruned = s.prune_changes(n + 3600).await.ctx("prune all")?;
    ensure!(pruned >= 1, "prune_changes pruned {pruned}");
    ensure!(
        s.changes_since(c0, 10).await.ctx("changes")?.is_empty(),
        "pruned change still listed"
    );
    ensure!(
        s.changes_since(i64::MIN, 10)
            .await
            .ctx("changes")?
            .is_empty(),
        "changes older than the cut survived"
    );
    let j = Journal::default().with(Change::Session(format!("{t}-2")));
    s.create_user(&new_user(&format!("{t}-b")), &j)
        .await
        .ctx("create")?;
    let second = s.changes_since(c0, 10).await.ctx("changes")?;
    ensure_eq!(second.len(), 1);
    ensure!(
        second[0].0 > first[0].0,
        "a change id was reused after pruning: {} after {}",
        second[0].0,
        first[0].0
    );
    ensure!(
        s.change_cursor().await.ctx("cursor")? >= second[0].0,
        "cursor behind the newest change"
    );
    Ok(())
}
