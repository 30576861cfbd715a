//! Settings.

use super::*;

pub(super) async fn settings<S: Store + ?Sized>(s: &S) -> Outcome {
    let k = uniq("setting");
    ensure_eq!(s.setting(&k).await.ctx("setting")?, None);
    let v = "secret 'value' \\ ünï";
    ensure_eq!(
        s.setting_or_insert(&k, v).await.ctx("setting_or_insert")?,
        v
    );
    ensure_eq!(
        s.setting_or_insert(&k, "second")
            .await
            .ctx("setting_or_insert")?,
        v
    );
    ensure_eq!(s.setting(&k).await.ctx("setting")?, Some(v.to_string()));
    ensure_eq!(s.setting(&k.to_uppercase()).await.ctx("setting")?, None);
    let k2 = uniq("setting");
    ensure_eq!(
        s.setting_or_insert(&k2, "")
            .await
            .ctx("setting_or_insert empty")?,
        ""
    );
    ensure_eq!(s.setting(&k2).await.ctx("setting")?, Some(String::new()));
    Ok(())
}

pub(super) async fn settings_race<S: Store + ?Sized>(s: &S) -> Outcome {
    for _ in 0..5 {
        let k = uniq("race");
        let (a, b) = tokio::join!(s.setting_or_insert(&k, "a"), s.setting_or_insert(&k, "b"));
        let (a, b) = (a.ctx("setting_or_insert a")?, b.ctx("setting_or_insert b")?);
        ensure!(a == b, "concurrent setting_or_insert returned {a} and {b}");
        ensure_eq!(s.setting(&k).await.ctx("setting")?, Some(a));
    }
    Ok(())
}
