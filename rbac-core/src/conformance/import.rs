//! Bulk import: a batch inserts what is new, skips names already present (a re-run
//! resumes), and reports e-mail and look-alike collisions apart, inside the batch too.

use super::*;

pub(super) async fn users_import<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("m");
    let mut p = Probe::new(s, "operator").await?;
    let stored = {
        let mut u = new_user(&format!("{t}-stored"));
        u.email = Some(format!("{t}-stored@example.com"));
        s.create_user(&u, &Journal::default()).await.ctx("create")?
    };
    let mut batch = Vec::new();
    for i in 0..600 {
        let mut u = new_user(&format!("{t}-n{i}"));
        u.email = Some(format!("{t}-n{i}@example.com"));
        batch.push(u);
    }
    // Already present (another case of the same name), an e-mail held by a stored user
    // (another case of it), and a duplicate name and e-mail inside the batch.
    batch.push(new_user(&stored.name.to_uppercase()));
    let mut taken = new_user(&format!("{t}-taken"));
    taken.email = Some(format!("{t}-STORED@example.com"));
    batch.push(taken);
    batch.push(new_user(&format!("{t}-n0")));
    let mut twin = new_user(&format!("{t}-twin"));
    twin.email = Some(format!("{t}-n1@example.com"));
    batch.push(twin);

    let report = s
        .import_users(&batch, &p.journal("import", &[]))
        .await
        .ctx("import_users")?;
    // One audit entry for the whole batch.
    p.written(s, "import", &[]).await?;
    ensure_eq!(report.inserted, 600);
    ensure_eq!(report.present, 2);
    let mut email = report.email_taken.clone();
    email.sort();
    ensure_eq!(email, vec![format!("{t}-taken"), format!("{t}-twin")]);
    ensure_eq!(report.look_alike, Vec::<String>::new());
    let got = s
        .user_by_name(&format!("{t}-n599"))
        .await
        .ctx("by name")?
        .ctx("imported user")?;
    ensure_eq!(got.email, Some(format!("{t}-n599@example.com")));
    ensure!(
        s.user_by_name(&format!("{t}-taken"))
            .await
            .ctx("by name")?
            .is_none(),
        "taken not inserted"
    );

    // A re-run resumes: everything present, nothing written but the batch's journal.
    let again = s
        .import_users(&batch[..600], &Journal::default())
        .await
        .ctx("re-run")?;
    ensure_eq!((again.inserted, again.present), (0, 600));
    Ok(())
}
