//! The storage conformance suite against the in-memory store: the whole suite on one
//! store (as a backend runs it), and one test per check on a store of its own, so that a
//! check runs by name (`cargo test -p rbac-core --features conformance -- user_delete`).

use rbac_core::{conformance, MemoryStore};

#[tokio::test]
async fn memory_store_conforms() {
    let store = MemoryStore::new();
    let report = conformance::run_all(&store).await;
    println!("{} checks passed", report.passed.len());
    report.assert_passed();
    assert_eq!(report.passed.len(), conformance::CHECKS.len());
}

#[tokio::test]
async fn memory_store_survives_the_cancellation_sweep() {
    let store = MemoryStore::new();
    let report = conformance::cancellation_sweep(&store).await;
    report.assert_passed();
    assert_eq!(report.passed.len(), conformance::PORT_METHODS.len());
}

/// One `#[tokio::test]` per conformance check, each on a fresh store.
macro_rules! one_test_per_check {
    ($($check:ident),* $(,)?) => {
        mod each_check {
            use super::*;
            $(
                #[tokio::test]
                async fn $check() {
                    let store = MemoryStore::new();
                    conformance::run_some(&store, &[stringify!($check)])
                        .await
                        .assert_passed();
                }
            )*
        }
    };
}

rbac_core::for_each_conformance_check!(one_test_per_check);
