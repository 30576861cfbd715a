//! Listings read a chunk at a time: the same rows as the whole listing, in order, for any
//! chunk size, page and order; and an error, not a short listing, when rows vanish.

use std::sync::Arc;

use rbac_core::service::ImportedUser;
use rbac_core::store::UserStore;
use rbac_core::{
    Journal, JwtCodec, JwtKey, MemoryStore, Order, Page, PrivilegeRegistry, Rbac, RbacConfig,
    UserQuery,
};

const HASH: &str = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";

async fn world(users: usize) -> (Rbac, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let rbac = Rbac::new(
        store.clone(),
        Arc::new(PrivilegeRegistry::new(["UserAccess"])),
        JwtCodec::new(JwtKey::from_secret("listing-test-secret-listing-test"), []),
        RbacConfig::default(),
    )
    .await
    .expect("rbac");
    let inputs = (0..users)
        .map(|i| ImportedUser {
            name: format!("reader{i:04}"),
            password_hash: HASH.into(),
            email: String::new(),
            phone: String::new(),
            alias: String::new(),
            role_name: String::new(),
            enabled: true,
        })
        .collect();
    let outcome = rbac.users().import(inputs).await.expect("import");
    assert_eq!(outcome.report.inserted, users, "{:?}", outcome.invalid);
    (rbac, store)
}

fn query(order: Order, page: Page) -> UserQuery {
    UserQuery {
        order,
        page,
        ..UserQuery::default()
    }
}

#[tokio::test]
async fn chunks_give_the_whole_listing_for_any_chunk_page_and_order() {
    let (rbac, _) = world(257).await;
    for order in [Order::OldestFirst, Order::NewestFirst] {
        for page in [
            Page::ALL,
            Page::nth(0, 20),
            Page::nth(3, 50),
            Page::nth(1, 200),
            Page::nth(9, 30),
            Page {
                offset: 13,
                limit: Some(1_000),
            },
        ] {
            let q = query(order, page);
            let whole = rbac.users().list_unchecked(&q).await.expect("whole");
            for chunk in [1, 7, 100, 1_000] {
                let rows = rbac
                    .users()
                    .rows_unchecked(&q)
                    .await
                    .expect("rows")
                    .with_chunk(chunk);
                assert_eq!(rows.total(), whole.total, "{order:?} {page:?}");
                assert_eq!(rows.count(), whole.rows.len() as u64, "{order:?} {page:?}");
                let got = rows.collect().await.expect("collect");
                let got: Vec<i64> = got.iter().map(|v| v.user.id).collect();
                let want: Vec<i64> = whole.rows.iter().map(|v| v.user.id).collect();
                assert_eq!(got, want, "{order:?} {page:?} chunk {chunk}");
            }
        }
    }
}

#[tokio::test]
async fn rows_vanishing_mid_listing_are_an_error_not_a_short_listing() {
    let (rbac, store) = world(120).await;
    let q = query(Order::OldestFirst, Page::ALL);
    let mut rows = rbac
        .users()
        .rows_unchecked(&q)
        .await
        .expect("rows")
        .with_chunk(50);
    let first = rows.next_chunk().await.expect("first").expect("a chunk");
    assert_eq!(first.len(), 50);
    // Positive control: with nothing deleted the next chunk comes whole.
    let second = rows.next_chunk().await.expect("second").expect("a chunk");
    assert_eq!(second.len(), 50);
    let last = second.last().expect("a row").user.id;
    store
        .delete_user(last + 1, &Journal::default())
        .await
        .expect("delete");
    assert!(
        rows.next_chunk().await.is_err(),
        "a short listing was given"
    );
}
