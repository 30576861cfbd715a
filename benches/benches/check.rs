//! `Authorizer::check` on a cache hit, at three policy sizes.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

fn check(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("check");
    for (privileges, roles) in [(12usize, 10usize), (1_000, 1_000), (1_000, 10_000)] {
        let (authorizer, principals) = rt.block_on(benches::policy(privileges, roles));
        let principal = &principals[roles / 2];
        let wanted = benches::privilege(&authorizer, privileges / 2);
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{privileges}p_{roles}r")),
            &(),
            |b, _| b.iter(|| black_box(authorizer.check(black_box(principal), black_box(wanted)))),
        );
    }
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
