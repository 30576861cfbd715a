//! Listing and counting users: filters, order, paging.

use super::*;

pub(super) async fn user_count_with_role<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let r = s
        .create_role(&Role::new(format!("{t}-r"), "", ""), &Journal::default())
        .await
        .ctx("create role")?;
    ensure_eq!(s.count_users_with_role(r.id).await.ctx("count")?, 0);
    for i in 0..3 {
        let mut u = new_user(&format!("{t}-{i}"));
        u.roles = vec![Assignment::global(r.id)];
        s.create_user(&u, &Journal::default()).await.ctx("create")?;
    }
    s.create_user(&new_user(&format!("{t}-none")), &Journal::default())
        .await
        .ctx("create")?;
    ensure_eq!(s.count_users_with_role(r.id).await.ctx("count")?, 3);
    ensure_eq!(
        s.count_users_with_role(i64::MAX - 1)
            .await
            .ctx("count missing")?,
        0
    );
    Ok(())
}

pub(super) async fn user_list_substring_literal<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let names = [
        format!("{t}-x%_'\\y"),   // 0: the literal target
        format!("{t}-xAB'\\y"),   // 1: would match a LIKE pattern
        format!("{t}-X%_'\\Z"),   // 2: upper case (and another name)
        format!("{t}-x%_'\\\\y"), // 3: an extra backslash
        format!("{t}-ünï-名前"),  // 4: non-ASCII
    ];
    let mut made = Vec::new();
    for n in &names {
        made.push(
            s.create_user(&new_user(n), &Journal::default())
                .await
                .ctx("create")?
                .id,
        );
    }
    let list = |needle: String| async move {
        let q = UserQuery {
            name_contains: Some(needle),
            page: Page::ALL,
            ..UserQuery::default()
        };
        s.list_users(&q).await.ctx("list_users")
    };
    let got = list(format!("{t}-x%_'\\y")).await?;
    ensure_eq!(ids(&got.rows), vec![made[0]]);
    ensure_eq!(got.total, 1);
    ensure_eq!(
        ids(&list("%_'\\y".to_string()).await?.rows).contains(&made[1]),
        false
    );
    ensure_eq!(ids(&list(format!("{t}-X%")).await?.rows), vec![made[2]]);
    ensure_eq!(
        ids(&list(format!("{t}-x%_'\\\\")).await?.rows),
        vec![made[3]]
    );
    ensure_eq!(ids(&list("ünï-名".to_string()).await?.rows), vec![made[4]]);
    ensure_eq!(
        ids(&list(format!("{t}-ÜNÏ")).await?.rows),
        Vec::<UserId>::new()
    );
    ensure_eq!(ids(&list(t.clone()).await?.rows), made.clone());
    ensure_eq!(
        ids(&list(t.to_uppercase()).await?.rows),
        Vec::<UserId>::new()
    );
    ensure_eq!(
        ids(&list(format!("{t}-_")).await?.rows),
        Vec::<UserId>::new()
    );
    ensure_eq!(
        ids(&list(format!("{t}-%")).await?.rows),
        Vec::<UserId>::new()
    );
    ensure_eq!(
        ids(&list(format!("{t}-x'")).await?.rows),
        Vec::<UserId>::new()
    );
    let everyone = s.list_users(&UserQuery::default()).await.ctx("list all")?;
    let empty = list(String::new()).await?;
    ensure_eq!(empty.total, everyone.total);
    Ok(())
}

pub(super) async fn user_list_parent_order_paging<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let parent = s
        .create_user(&new_user(&format!("{t}-parent")), &Journal::default())
        .await
        .ctx("create parent")?;
    let mut kids = Vec::new();
    for i in 0..5 {
        let mut u = new_user(&format!("{t}-kid{i}"));
        u.member_of = Some(parent.id);
        kids.push(
            s.create_user(&u, &Journal::default())
                .await
                .ctx("create kid")?
                .id,
        );
    }
    // A member of another account, with a similar name.
    let mut stray = new_user(&format!("{t}-kid9"));
    stray.member_of = Some(i64::MAX - 2);
    s.create_user(&stray, &Journal::default())
        .await
        .ctx("create stray")?;

    let q = |order: Order, page: Page, name: Option<String>| UserQuery {
        name_contains: name,
        member_of: Some(parent.id),
        order,
        page,
    };
    let all = s
        .list_users(&q(Order::OldestFirst, Page::ALL, None))
        .await
        .ctx("list")?;
    ensure_eq!(ids(&all.rows), kids.clone());
    ensure_eq!(all.total, 5);
    let mut rev = kids.clone();
    rev.reverse();
    let newest = s
        .list_users(&q(Order::NewestFirst, Page::ALL, None))
        .await
        .ctx("list")?;
    ensure_eq!(ids(&newest.rows), rev.clone());
    ensure_eq!(newest.total, 5);
    let page = Page {
        offset: 1,
        limit: Some(2),
    };
    let p1 = s
        .list_users(&q(Order::OldestFirst, page, None))
        .await
        .ctx("list")?;
    ensure_eq!(ids(&p1.rows), kids[1..3].to_vec());
    ensure_eq!(p1.total, 5);
    let p2 = s
        .list_users(&q(Order::NewestFirst, page, None))
        .await
        .ctx("list")?;
    ensure_eq!(ids(&p2.rows), rev[1..3].to_vec());
    ensure_eq!(p2.total, 5);
    let numbered = s
        .list_users(&q(Order::OldestFirst, Page::nth(2, 2), None))
        .await
        .ctx("list")?;
    ensure_eq!(ids(&numbered.rows), kids[4..].to_vec());
    ensure_eq!(numbered.total, 5);
    let beyond = s
        .list_users(&q(
            Order::OldestFirst,
            Page {
                offset: 10,
                limit: Some(5),
            },
            None,
        ))
        .await
        .ctx("list")?;
    ensure!(
        beyond.rows.is_empty(),
        "rows past the end: {:?}",
        beyond.rows
    );
    ensure_eq!(beyond.total, 5);
    let zero = s
        .list_users(&q(
            Order::OldestFirst,
            Page {
                offset: 0,
                limit: Some(0),
            },
            None,
        ))
        .await
        .ctx("list")?;
    ensure!(zero.rows.is_empty(), "limit 0 returned rows");
    ensure_eq!(zero.total, 5);
    let huge = s
        .list_users(&q(
            Order::OldestFirst,
            Page {
                offset: 2,
                limit: Some(u64::MAX),
            },
            None,
        ))
        .await
        .ctx("list with a huge limit")?;
    ensure_eq!(ids(&huge.rows), kids[2..].to_vec());
    let both = s
        .list_users(&q(Order::OldestFirst, Page::ALL, Some(format!("{t}-kid3"))))
        .await
        .ctx("list")?;
    ensure_eq!(ids(&both.rows), vec![kids[3]]);
    ensure_eq!(both.total, 1);

    // Without a parent filter, the full count covers everyone.
    let everyone = s.list_users(&UserQuery::default()).await.ctx("list all")?;
    ensure_eq!(everyone.total, everyone.rows.len() as u64);
    for w in everyone.rows.windows(2) {
        ensure!(w[0].id < w[1].id, "list_users not in id order");
    }
    let first = s
        .list_users(&UserQuery {
            page: Page {
                offset: 0,
                limit: Some(1),
            },
            ..UserQuery::default()
        })
        .await
        .ctx("list first")?;
    ensure_eq!(first.total, everyone.total);
    ensure_eq!(first.rows.len(), 1);
    Ok(())
}

pub(super) async fn users_total_and_keyset<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("k");
    let all = UserQuery {
        page: Page::ALL,
        ..UserQuery::default()
    };
    let all = &all;
    let before = s.count_users(all).await.ctx("count")?;
    let stored = || async move { s.user_rows(all, None).await.ctx("rows").map(|r| r.len()) };
    ensure_eq!(before, stored().await? as u64);
    // The total follows creation one at a time, imports in bulk, and deletion.
    let mut made = Vec::new();
    for i in 0..6 {
        let u = s
            .create_user(&new_user(&format!("{t}-{i}")), &Journal::default())
            .await
            .ctx("create")?;
        made.push(u.id);
    }
    let batch: Vec<User> = (5..10).map(|i| new_user(&format!("{t}-{i}"))).collect();
    let report = s
        .import_users(&batch, &Journal::default())
        .await
        .ctx("import")?;
    ensure_eq!((report.inserted, report.present), (4, 1));
    for i in 6..10 {
        let u = s.user_by_name(&format!("{t}-{i}")).await.ctx("by name")?;
        made.push(u.ok_or("an imported user is missing")?.id);
    }
    ensure_eq!(s.count_users(all).await.ctx("count")?, before + 10);
    ensure_eq!(stored().await? as u64, before + 10);
    for id in [made[1], made[7]] {
        ensure!(
            s.delete_user(id, &Journal::default()).await.ctx("delete")?,
            "user {id} was not deleted"
        );
    }
    ensure!(
        !s.delete_user(made[1], &Journal::default())
            .await
            .ctx("delete again")?,
        "a deleted user was deleted again"
    );
    let gone = [made[1], made[7]];
    made.retain(|id| !gone.contains(id));
    ensure_eq!(s.count_users(all).await.ctx("count")?, before + 8);
    ensure_eq!(stored().await? as u64, before + 8);
    // A filtered count counts the filter.
    let mine = |order, page| UserQuery {
        name_contains: Some(t.clone()),
        order,
        page,
        ..UserQuery::default()
    };
    ensure_eq!(
        s.count_users(&mine(Order::OldestFirst, Page::ALL))
            .await
            .ctx("count mine")?,
        8
    );
    // Walking in chunks past the last id gives the whole list, in either order.
    for order in [Order::OldestFirst, Order::NewestFirst] {
        let whole = ids(&s
            .user_rows(&mine(order, Page::ALL), None)
            .await
            .ctx("whole")?);
        let mut expected = made.clone();
        if order == Order::NewestFirst {
            expected.reverse();
        }
        ensure_eq!(whole, expected);
        let chunk = mine(order, Page::nth(0, 3));
        let (mut walked, mut after) = (Vec::new(), None);
        loop {
            let rows = s.user_rows(&chunk, after).await.ctx("chunk")?;
            walked.extend(ids(&rows));
            after = rows.last().map(|u| u.id);
            if rows.len() < 3 {
                break;
            }
        }
        ensure_eq!(walked, expected);
        // The offset counts from `after`.
        let skipped = s
            .user_rows(
                &mine(
                    order,
                    Page {
                        offset: 1,
                        limit: Some(2),
                    },
                ),
                Some(expected[2]),
            )
            .await
            .ctx("offset after")?;
        ensure_eq!(ids(&skipped), expected[4..6].to_vec());
    }
    Ok(())
}

pub(super) async fn users_deep_pages<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("d");
    let mine: Vec<User> = (0..2_600).map(|i| new_user(&format!("{t}-{i}"))).collect();
    for batch in mine.chunks(500) {
        s.import_users(batch, &Journal::default())
            .await
            .ctx("import")?;
    }
    // Every user, walked by keyset: what any page must be a slice of.
    let walk = || async {
        let chunk = UserQuery {
            page: Page::nth(0, 500),
            ..UserQuery::default()
        };
        let (mut all, mut after) = (Vec::new(), None);
        loop {
            let rows = s.user_rows(&chunk, after).await.ctx("walk")?;
            all.extend(ids(&rows));
            after = rows.last().map(|u| u.id);
            if rows.len() < 500 {
                return Ok::<_, String>(all);
            }
        }
    };
    let pages_match = |all: Vec<UserId>| async move {
        let n = all.len() as u64;
        for order in [Order::OldestFirst, Order::NewestFirst] {
            let mut expected = all.clone();
            if order == Order::NewestFirst {
                expected.reverse();
            }
            for offset in [
                0,
                1_999,
                2_000,
                2_013,
                2_990,
                3_500,
                n - 20,
                n - 7,
                n,
                n + 5,
            ] {
                let q = UserQuery {
                    order,
                    page: Page {
                        offset,
                        limit: Some(20),
                    },
                    ..UserQuery::default()
                };
                let got = ids(&s.user_rows(&q, None).await.ctx("page")?);
                let from = (offset as usize).min(expected.len());
                let to = (from + 20).min(expected.len());
                ensure_eq!(got, expected[from..to].to_vec());
            }
        }
        Ok::<_, String>(())
    };
    pages_match(walk().await?).await?;
    // More users land after every row listed so far (pages past them included).
    let more: Vec<User> = (0..1_500)
        .map(|i| new_user(&format!("{t}-more-{i}")))
        .collect();
    for batch in more.chunks(500) {
        s.import_users(batch, &Journal::default())
            .await
            .ctx("import more")?;
    }
    pages_match(walk().await?).await?;
    // A deletion moves every row after it; an insertion lands at the end.
    let gone = s
        .user_by_name(&format!("{t}-100"))
        .await
        .ctx("by name")?
        .ok_or("an imported user is missing")?;
    ensure!(
        s.delete_user(gone.id, &Journal::default())
            .await
            .ctx("delete")?,
        "not deleted"
    );
    s.create_user(&new_user(&format!("{t}-late")), &Journal::default())
        .await
        .ctx("create")?;
    let all = walk().await?;
    ensure!(!all.contains(&gone.id), "a deleted user is listed");
    pages_match(all).await?;
    Ok(())
}
