//! Organisations.

use super::*;

pub(super) async fn organisations<S: Store + ?Sized>(s: &S) -> Outcome {
    let id = i64::from(rand::random::<u32>()) + 1_000_000;
    ensure_eq!(s.organisation(id).await.ctx("organisation")?, None);
    let org = Organisation {
        id,
        name: "算力互联 'x'".into(),
    };
    s.put_organisation(&org).await.ctx("put_organisation")?;
    ensure_eq!(
        s.organisation(id).await.ctx("organisation")?,
        Some(org.clone())
    );
    let renamed = Organisation {
        id,
        name: "汴水超算".into(),
    };
    s.put_organisation(&renamed)
        .await
        .ctx("put_organisation (rename)")?;
    ensure_eq!(
        s.organisation(id).await.ctx("organisation")?,
        Some(renamed.clone())
    );
    let all = s.list_organisations().await.ctx("list_organisations")?;
    ensure!(
        all.iter().filter(|o| o.id == id).count() == 1 && all.contains(&renamed),
        "listed once, renamed: {all:?}"
    );
    ensure!(all.windows(2).all(|w| w[0].id < w[1].id), "in id order");
    Ok(())
}
