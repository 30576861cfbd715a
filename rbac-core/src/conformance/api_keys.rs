//! API keys: creation, listing, revocation, request counts and the shared daily limit.

use super::*;

pub(super) async fn api_keys_create_list_revoke<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("proj");
    let j = Journal::default();
    let a = s
        .create_user(&new_user(&format!("{t}-a")), &j)
        .await
        .ctx("user a")?;
    let b = s
        .create_user(&new_user(&format!("{t}-b")), &j)
        .await
        .ctx("user b")?;
    let p1 = s
        .create_api_key(&new_api_key(a.id, &format!("{t}k1")), &j)
        .await
        .ctx("create p1")?;
    let p2 = s
        .create_api_key(&new_api_key(a.id, &format!("{t}k2")), &j)
        .await
        .ctx("create p2")?;
    let p3 = s
        .create_api_key(&new_api_key(b.id, &format!("{t}k3")), &j)
        .await
        .ctx("create p3")?;
    ensure!(p1.id > 0 && p2.id > p1.id && p3.id > p2.id, "ids grow");
    let mut want = new_api_key(a.id, &format!("{t}k1"));
    want.id = p1.id;
    ensure_eq!(s.api_key(p1.id).await.ctx("key")?, Some(want.clone()));
    ensure_eq!(
        s.find_api_key(&format!("{t}k1")).await.ctx("by key")?,
        Some(want)
    );
    ensure_eq!(s.find_api_key(&format!("{t}K1")).await.ctx("by key")?, None);
    // Keys are unique; the owner must exist.
    ensure!(
        matches!(
            s.create_api_key(&new_api_key(b.id, &format!("{t}k1")), &j)
                .await,
            Err(StoreError::Conflict(_))
        ),
        "duplicate key refused"
    );
    ensure!(
        matches!(
            s.create_api_key(&new_api_key(i64::MAX - 7, &format!("{t}k9")), &j)
                .await,
            Err(StoreError::NotFound(Entity::User))
        ),
        "missing owner refused"
    );
    // Each owner lists its own, in id order, paged.
    let la = s.list_api_keys(a.id, Page::ALL).await.ctx("list a")?;
    ensure_eq!(la.total, 2);
    ensure_eq!(
        la.rows.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![p1.id, p2.id]
    );
    let page = s
        .list_api_keys(
            a.id,
            Page {
                offset: 1,
                limit: Some(1),
            },
        )
        .await
        .ctx("page")?;
    ensure_eq!(page.total, 2);
    ensure_eq!(
        page.rows.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![p2.id]
    );
    // Continuing past an id (keyset): the rows after it, the offset counted from there.
    let after = |after, offset| async move {
        let page = Page {
            offset,
            limit: Some(5),
        };
        let rows = s.api_key_rows(a.id, page, after).await.ctx("rows after")?;
        Ok::<_, String>(rows.iter().map(|p| p.id).collect::<Vec<_>>())
    };
    ensure_eq!(after(Some(p1.id), 0).await?, vec![p2.id]);
    ensure_eq!(after(Some(p2.id), 0).await?, Vec::<i64>::new());
    ensure_eq!(after(None, 1).await?, vec![p2.id]);
    ensure_eq!(after(Some(p1.id - 1), 1).await?, vec![p2.id]);
    ensure_eq!(s.count_api_keys(b.id).await.ctx("count b")?, 1);
    // Revoking hides it from the list, keeps it readable as revoked, and happens once.
    ensure!(s.revoke_api_key(p1.id, &j).await.ctx("delete")?, "deleted");
    ensure!(
        !s.revoke_api_key(p1.id, &j).await.ctx("delete again")?,
        "second revocation is a no-op"
    );
    ensure!(
        s.api_key(p1.id)
            .await
            .ctx("read")?
            .is_some_and(|p| p.revoked),
        "revoked flag"
    );
    let la = s.list_api_keys(a.id, Page::ALL).await.ctx("list a")?;
    ensure_eq!(la.total, 1);
    // Deleting the owner deletes the keys.
    s.delete_user(b.id, &j).await.ctx("delete user b")?;
    ensure_eq!(s.api_key(p3.id).await.ctx("p3 after owner")?, None);
    Ok(())
}

pub(super) async fn api_keys_count_requests<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("count");
    let j = Journal::default();
    let a = s
        .create_user(&new_user(&format!("{t}-a")), &j)
        .await
        .ctx("user")?;
    let p = s
        .create_api_key(&new_api_key(a.id, &format!("{t}k")), &j)
        .await
        .ctx("create")?;
    let q = s
        .create_api_key(&new_api_key(a.id, &format!("{t}q")), &j)
        .await
        .ctx("create")?;
    let count = |day, requests| RequestCount {
        key: p.id,
        day,
        requests,
    };
    let read = || async {
        let p = s.api_key(p.id).await.ctx("read")?.ctx("present")?;
        Ok::<_, String>((p.request_total, p.request_today, p.request_day))
    };
    s.add_key_requests(&[count(100, 3), count(100, 2)])
        .await
        .ctx("add")?;
    ensure_eq!(read().await?, (5, 5, 100));
    // A later day restarts today's count; an earlier (late-flushed) day adds to the total only.
    s.add_key_requests(&[
        count(101, 4),
        count(100, 6),
        RequestCount {
            key: q.id,
            day: 101,
            requests: 1,
        },
    ])
    .await
    .ctx("add")?;
    ensure_eq!(read().await?, (15, 4, 101));
    s.add_key_requests(&[]).await.ctx("empty batch")?;
    ensure_eq!(read().await?, (15, 4, 101));
    let q = s.api_key(q.id).await.ctx("read q")?.ctx("q")?;
    ensure_eq!((q.request_total, q.request_today), (1, 1));
    Ok(())
}

/// Quota reservations: a quarter of what is left at a time, never past the quota, per
/// day; released slices can be reserved again; absent keys, keys without a limit and past days get nothing.
pub(super) async fn api_key_quota<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("quota");
    let j = Journal::default();
    let a = s
        .create_user(&new_user(&format!("{t}-a")), &j)
        .await
        .ctx("user")?;
    let p = s
        .create_api_key(&new_api_key(a.id, &format!("{t}k")), &j)
        .await
        .ctx("create")?;
    let reserve = |day, want| s.reserve_key_quota(p.id, day, want);
    // 30 left: 8 (a quarter, rounded up), then 6 of 22, then what is asked when smaller.
    ensure_eq!(reserve(200, 64).await.ctx("reserve")?, 8);
    ensure_eq!(reserve(200, 64).await.ctx("reserve")?, 6);
    ensure_eq!(reserve(200, 2).await.ctx("reserve")?, 2);
    let mut total = 16;
    loop {
        let got = reserve(200, 64).await.ctx("reserve")?;
        if got == 0 {
            break;
        }
        ensure!(got >= 1, "granted {got}");
        total += got;
        ensure!(total <= 30, "reserved {total} of a quota of 30");
    }
    ensure_eq!(total, 30);
    // Given back, reservable again; more than was reserved gives back no more than that.
    s.release_key_quota(p.id, 200, 3).await.ctx("release")?;
    ensure_eq!(reserve(200, 64).await.ctx("after release")?, 1);
    ensure_eq!(reserve(200, 1).await.ctx("after release")?, 1);
    ensure_eq!(reserve(200, 5).await.ctx("after release")?, 1);
    ensure_eq!(reserve(200, 5).await.ctx("used up")?, 0);
    // Releasing for another day changes nothing.
    s.release_key_quota(p.id, 199, 10)
        .await
        .ctx("release old day")?;
    ensure_eq!(reserve(200, 5).await.ctx("used up")?, 0);
    // A new day starts from nothing; the day before is then closed.
    ensure_eq!(reserve(201, 64).await.ctx("next day")?, 8);
    ensure_eq!(reserve(200, 64).await.ctx("past day")?, 0);
    s.release_key_quota(p.id, 201, 1000)
        .await
        .ctx("release all")?;
    ensure_eq!(reserve(201, 64).await.ctx("after releasing all")?, 8);
    // No key, or a key without a limit, nothing.
    let mut unlimited = new_api_key(a.id, &format!("{t}u"));
    unlimited.daily_limit = None;
    let u = s
        .create_api_key(&unlimited, &j)
        .await
        .ctx("create unlimited")?;
    ensure_eq!(
        s.api_key(u.id)
            .await
            .ctx("read")?
            .ctx("present")?
            .daily_limit,
        None
    );
    ensure_eq!(s.reserve_key_quota(u.id, 200, 5).await.ctx("unlimited")?, 0);
    ensure_eq!(
        s.reserve_key_quota(i64::MAX - 3, 200, 5)
            .await
            .ctx("absent")?,
        0
    );
    Ok(())
}

/// Concurrent reservations, as from many instances: together never more than the quota,
/// and all of it.
pub(super) async fn api_key_quota_race<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("quota-race");
    let j = Journal::default();
    let a = s
        .create_user(&new_user(&format!("{t}-a")), &j)
        .await
        .ctx("user")?;
    let p = s
        .create_api_key(&new_api_key(a.id, &format!("{t}k")), &j)
        .await
        .ctx("create")?;
    let mut total = 0;
    for _ in 0..8 {
        let f = || s.reserve_key_quota(p.id, 500, 3);
        let (r1, r2, r3, r4, r5, r6, r7, r8) = tokio::join!(f(), f(), f(), f(), f(), f(), f(), f());
        for r in [r1, r2, r3, r4, r5, r6, r7, r8] {
            total += r.ctx("reserve")?;
        }
        ensure!(total <= 30, "reserved {total} of a quota of 30");
    }
    ensure_eq!(total, 30);
    Ok(())
}
