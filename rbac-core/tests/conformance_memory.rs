//! The storage conformance suite against the in-memory store.

use rbac_core::{conformance, MemoryStore};

#[tokio::test]
async fn memory_store_conforms() {
    let store = MemoryStore::new();
    let report = conformance::run_all(&store).await;
    println!("{} checks passed", report.passed.len());
    report.assert_passed();
}
