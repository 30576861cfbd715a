//! `Authorizer::check` on a cache hit, at three policy sizes (the largest with 1,000,000
//! users in the in-memory store), with a counting allocator proving the check allocates
//! nothing; then the same policies as a casbin RBAC model, through `Enforcer::enforce` and
//! casbin's `CachedEnforcer`, in the same run; then the ratios of criterion's medians.
use std::time::Duration;

use casbin::prelude::*;
use criterion::{black_box, BenchmarkId, Criterion};

#[global_allocator]
static GLOBAL: benches::Counting = benches::Counting;

/// The policy sizes: (privileges, roles, users in the store).
const SIZES: [(usize, usize, usize); 3] = [
    (12, 10, 10),
    (1_000, 1_000, 1_000),
    (1_000, 10_000, 1_000_000),
];

fn check(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("check");
    for (privileges, roles, users) in SIZES {
        let (authorizer, principals) = rt.block_on(benches::policy(privileges, roles, users));
        let principal = &principals[roles / 2];
        let wanted = benches::privilege(&authorizer, privileges / 2);

        // Zero allocations on the hot path, measured over a million checks.
        let before = benches::allocations();
        for _ in 0..1_000_000 {
            black_box(authorizer.check(black_box(principal), black_box(wanted)));
        }
        let allocated = benches::allocations() - before;
        println!(
            "check {privileges}p_{roles}r_{users}u: {allocated} allocations in 1,000,000 checks"
        );
        assert_eq!(allocated, 0, "Authorizer::check allocated");

        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{privileges}p_{roles}r_{users}u")),
            &(),
            |b, _| b.iter(|| black_box(authorizer.check(black_box(principal), black_box(wanted)))),
        );
    }
    // A privilege reached through five inclusions: settled once per change, so the check
    // is the same lookup and bit test.
    let (authorizer, principal) = rt.block_on(benches::inclusion_chain(5));
    let wanted = benches::privilege(&authorizer, 0);
    assert!(authorizer.check(&principal, wanted), "P0 through the chain");
    let before = benches::allocations();
    for _ in 0..1_000_000 {
        black_box(authorizer.check(black_box(&principal), black_box(wanted)));
    }
    let allocated = benches::allocations() - before;
    println!("check inclusion_chain_5: {allocated} allocations in 1,000,000 checks");
    assert_eq!(allocated, 0, "Authorizer::check allocated");
    group.bench_function("inclusion_chain_5", |b| {
        b.iter(|| black_box(authorizer.check(black_box(&principal), black_box(wanted))))
    });
    group.finish();
}

/// casbin's basic RBAC model: privileges are objects, `use` the only action.
const CASBIN_MODEL: &str = r#"
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
"#;

/// The same policy as [`benches::policy`]: role `r` holds every `P{p}` with
/// `(p + r) % 7 == 0`; user `member{u}` is in role `u % roles`.
fn casbin_rules(
    privileges: usize,
    roles: usize,
    users: usize,
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut p = Vec::new();
    for r in 0..roles {
        for q in (0..privileges).filter(|q| (q + r) % 7 == 0) {
            p.push(vec![format!("role{r}"), format!("P{q}"), "use".to_string()]);
        }
    }
    let g = (0..users.max(roles))
        .map(|u| vec![format!("member{u}"), format!("role{}", u % roles)])
        .collect();
    (p, g)
}

async fn load<E: MgmtApi>(e: &mut E, p: Vec<Vec<String>>, g: Vec<Vec<String>>) {
    e.add_policies(p).await.expect("casbin policies");
    e.add_grouping_policies(g)
        .await
        .expect("casbin grouping policies");
}

fn casbin(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("casbin");
    for (privileges, roles, users) in SIZES {
        let id = format!("{privileges}p_{roles}r_{users}u");
        // The member of role `roles / 2` asking for a privilege that role holds.
        let r = roles / 2;
        let user = format!("member{r}");
        let wanted = format!(
            "P{}",
            (0..privileges).find(|q| (q + r) % 7 == 0).unwrap_or(0)
        );
        let (p, g) = casbin_rules(privileges, roles, users);
        let started = std::time::Instant::now();
        let (plain, cached) = rt.block_on(async {
            let mut plain = Enforcer::new(
                DefaultModel::from_str(CASBIN_MODEL).await.expect("model"),
                MemoryAdapter::default(),
            )
            .await
            .expect("enforcer");
            load(&mut plain, p.clone(), g.clone()).await;
            let mut cached = CachedEnforcer::new(
                DefaultModel::from_str(CASBIN_MODEL).await.expect("model"),
                MemoryAdapter::default(),
            )
            .await
            .expect("cached enforcer");
            load(&mut cached, p, g).await;
            (plain, cached)
        });
        println!("casbin {id}: policies loaded in {:?}", started.elapsed());
        let request = (user.as_str(), wanted.as_str(), "use");
        assert!(
            plain.enforce(request).expect("enforce"),
            "casbin denies {request:?}"
        );
        assert!(
            cached.enforce(request).expect("enforce"),
            "cached casbin denies {request:?}"
        );

        if privileges * roles > 100_000 {
            // A linear scan over hundreds of thousands of rules per call: few samples.
            group.sample_size(10);
            group.warm_up_time(Duration::from_millis(100));
        } else {
            group.sample_size(100);
            group.warm_up_time(Duration::from_secs(3));
        }
        group.bench_function(BenchmarkId::new("enforce", &id), |b| {
            b.iter(|| black_box(plain.enforce(black_box(request)).expect("enforce")))
        });
        group.sample_size(100);
        group.warm_up_time(Duration::from_secs(3));
        group.bench_function(BenchmarkId::new("cached_enforce", &id), |b| {
            b.iter(|| black_box(cached.enforce(black_box(request)).expect("enforce")))
        });
    }
    group.finish();
}

fn print_ratios() {
    println!(
        "\n{:<28} {:>12} {:>14} {:>16} {:>10} {:>10}",
        "policy", "check (ns)", "enforce (ns)", "cached (ns)", "enforce/x", "cached/x"
    );
    for (privileges, roles, users) in SIZES {
        let id = format!("{privileges}p_{roles}r_{users}u");
        let ours = benches::median_ns(&format!("check/{id}"));
        let plain = benches::median_ns(&format!("casbin/enforce/{id}"));
        let cached = benches::median_ns(&format!("casbin/cached_enforce/{id}"));
        if let (Some(o), Some(p), Some(c)) = (ours, plain, cached) {
            println!(
                "{id:<28} {o:>12.1} {p:>14.1} {c:>16.1} {:>9.0}x {:>9.1}x",
                p / o,
                c / o
            );
        } else {
            println!("{id:<28} (run the whole bench to compare)");
        }
    }
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&benches::criterion_dir())
        .configure_from_args();
    check(&mut c);
    casbin(&mut c);
    c.final_summary();
    print_ratios();
}
