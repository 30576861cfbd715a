//! Many roles per user and scoped checks: `check` with 1, 8 and 32 roles per user, and
//! `check_in` with 100,000 scopes and 1,000,000 assignments (100,000 principals), each for
//! a repeated query and over 10,000 distinct principals visited in random order (by the
//! scope's text, and by the key `scope_key` looks up once, as the layer does), with a
//! counting allocator proving none allocates; beside them casbin's RBAC with domains
//! (`g = _, _, _`) at the same sizes through `enforce` and `CachedEnforcer`; then the ratios.

use std::time::Duration;

use casbin::prelude::*;
use criterion::{black_box, BenchmarkId, Criterion};
use rbac_core::{Authorizer, Principal, PrivilegeId, Scope, ScopeKey};

#[global_allocator]
static GLOBAL: benches::Counting = benches::Counting;

/// Roles per user in the `roles` group.
const HELD: [usize; 3] = [1, 8, 32];
/// Principals in the scoped world (10 assignments each).
const PRINCIPALS: usize = 100_000;
/// Distinct principals visited in random order.
const VISITED: usize = 10_000;

/// A fixed pseudo-random permutation of `0..n` (xorshift), so runs are comparable.
fn shuffled(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    order
}

/// Asserts `f` allocates nothing over a million calls.
fn no_allocations(what: &str, mut f: impl FnMut()) {
    let before = benches::allocations();
    for _ in 0..1_000_000 {
        f();
    }
    let allocated = benches::allocations() - before;
    println!("{what}: {allocated} allocations in 1,000,000 checks");
    assert_eq!(allocated, 0, "{what} allocated");
}

fn ours(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let mut group = c.benchmark_group("roles");
    for held in HELD {
        let (authorizer, principal, wanted) = rt.block_on(benches::many_roles(held));
        assert!(
            authorizer.check(&principal, wanted),
            "the last role's privilege"
        );
        no_allocations(&format!("check with {held} roles"), || {
            black_box(authorizer.check(black_box(&principal), black_box(wanted)));
        });
        group.bench_function(BenchmarkId::new("check", held), |b| {
            b.iter(|| black_box(authorizer.check(black_box(&principal), black_box(wanted))))
        });
    }
    group.finish();

    let started = std::time::Instant::now();
    let world = rt.block_on(benches::scoped_world(PRINCIPALS));
    println!(
        "scoped world: {PRINCIPALS} principals, 1,000,000 assignments, 100,000 scopes, {} bundles, built in {:?}",
        world.authorizer.bundle_count(),
        started.elapsed()
    );
    let check_in = |a: &Authorizer, p: &Principal, (scope, wanted): &(Scope, PrivilegeId)| {
        a.check_in(p, *wanted, scope)
    };
    let (authorizer, principals, asked) = (&world.authorizer, &world.principals, &world.asked);
    for (p, q) in principals.iter().zip(asked).take(VISITED) {
        assert!(
            check_in(authorizer, p, q),
            "held through the team's organisation"
        );
        assert!(!authorizer.check(p, q.1), "not held everywhere");
    }
    let mut group = c.benchmark_group("scopes");
    let (p0, q0) = (&principals[PRINCIPALS / 2], &asked[PRINCIPALS / 2]);
    no_allocations("check_in repeated", || {
        black_box(check_in(authorizer, black_box(p0), black_box(q0)));
    });
    group.bench_function("check_in_repeated", |b| {
        b.iter(|| black_box(check_in(authorizer, black_box(p0), black_box(q0))))
    });
    let order = shuffled(VISITED);
    let mut i = 0;
    no_allocations("check_in over 10,000 principals", || {
        let k = order[i % VISITED];
        i += 1;
        black_box(check_in(authorizer, &principals[k], &asked[k]));
    });
    group.bench_function("check_in_10k_principals_random", |b| {
        let mut i = 0;
        b.iter(|| {
            let k = order[i % VISITED];
            i += 1;
            black_box(check_in(authorizer, &principals[k], &asked[k]))
        })
    });
    // The same checks with the asked scope looked up first, as the layer does once per
    // request: a key per visit (16 bytes where a scope is 96), then numbers compared.
    let keys: Vec<(ScopeKey, PrivilegeId)> = asked
        .iter()
        .take(VISITED)
        .map(|(scope, wanted)| (authorizer.scope_key(scope), *wanted))
        .collect();
    let by_key = |a: &Authorizer, p: &Principal, (key, wanted): &(ScopeKey, PrivilegeId)| {
        a.check_in_key(p, *wanted, *key)
    };
    for (p, q) in principals.iter().zip(&keys) {
        assert!(by_key(authorizer, p, q), "held by key as by scope");
    }
    let k0 = &keys[order[0]];
    let p_k0 = &principals[order[0]];
    no_allocations("check_in_key repeated", || {
        black_box(by_key(authorizer, black_box(p_k0), black_box(k0)));
    });
    group.bench_function("check_in_key_repeated", |b| {
        b.iter(|| black_box(by_key(authorizer, black_box(p_k0), black_box(k0))))
    });
    no_allocations("scope_key over 10,000 scopes", || {
        let k = order[i % VISITED];
        i += 1;
        black_box(authorizer.scope_key(&asked[k].0));
    });
    group.bench_function("scope_key_10k_random", |b| {
        let mut i = 0;
        b.iter(|| {
            let k = order[i % VISITED];
            i += 1;
            black_box(authorizer.scope_key(&asked[k].0))
        })
    });
    group.bench_function("check_in_key_10k_principals_random", |b| {
        let mut i = 0;
        b.iter(|| {
            let k = order[i % VISITED];
            i += 1;
            black_box(by_key(authorizer, &principals[k], &keys[k]))
        })
    });
    group.bench_function("check_10k_principals_random", |b| {
        let mut i = 0;
        b.iter(|| {
            let k = order[i % VISITED];
            i += 1;
            black_box(authorizer.check(&principals[k], asked[k].1))
        })
    });
    group.finish();
}

/// casbin's RBAC with domains: roles are granted in a domain (`g = _, _, _`); role
/// definitions hold in every domain, as ours do.
const CASBIN_DOMAINS: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.obj == p.obj && r.act == p.act
"#;

/// Every role's rules (role `r` holds `P{p}` with `(p + r) % 7 == 0`, 100 privileges).
fn role_rules(roles: usize) -> Vec<Vec<String>> {
    let mut p = Vec::new();
    for r in 0..roles {
        for q in (0..100).filter(|q| (q + r).is_multiple_of(7)) {
            p.push(vec![format!("role{r}"), format!("P{q}"), "use".to_string()]);
        }
    }
    p
}

async fn enforcers(p: Vec<Vec<String>>, g: Vec<Vec<String>>) -> (Enforcer, CachedEnforcer) {
    let mut plain = Enforcer::new(
        DefaultModel::from_str(CASBIN_DOMAINS).await.expect("model"),
        MemoryAdapter::default(),
    )
    .await
    .expect("enforcer");
    plain.add_policies(p.clone()).await.expect("policies");
    plain
        .add_grouping_policies(g.clone())
        .await
        .expect("grouping");
    let mut cached = CachedEnforcer::new(
        DefaultModel::from_str(CASBIN_DOMAINS).await.expect("model"),
        MemoryAdapter::default(),
    )
    .await
    .expect("cached enforcer");
    cached.add_policies(p).await.expect("policies");
    cached.add_grouping_policies(g).await.expect("grouping");
    (plain, cached)
}

fn casbin(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let mut group = c.benchmark_group("casbin_domains");
    for held in HELD {
        // user0 holds roles 0..held in domain org0; the last role's privilege is asked.
        let roles = 64;
        let g: Vec<Vec<String>> = (0..held)
            .map(|r| vec!["user0".into(), format!("role{r}"), "org0".into()])
            .collect();
        let (plain, cached) = rt.block_on(enforcers(role_rules(roles), g));
        let last = held - 1;
        let wanted = (0..100)
            .find(|p| (p + last).is_multiple_of(7) && (0..last).all(|r| !(p + r).is_multiple_of(7)))
            .unwrap_or(0);
        let wanted = format!("P{wanted}");
        let request = ("user0", "org0", wanted.as_str(), "use");
        assert!(
            plain.enforce(request).expect("enforce"),
            "casbin denies {request:?}"
        );
        group.bench_function(BenchmarkId::new("enforce_roles", held), |b| {
            b.iter(|| black_box(plain.enforce(black_box(request)).expect("enforce")))
        });
        group.bench_function(BenchmarkId::new("cached_enforce_roles", held), |b| {
            b.iter(|| black_box(cached.enforce(black_box(request)).expect("enforce")))
        });
    }
    // 100,000 users × 10 grants in 100,000 domains: 1,000,000 `g` rules.
    let started = std::time::Instant::now();
    let mut g = Vec::with_capacity(PRINCIPALS * 10);
    for u in 0..PRINCIPALS {
        for k in 0..10 {
            let domain = format!("org{}", ((u * 10 + k) * 7_919) % 100_000);
            g.push(vec![
                format!("user{u}"),
                format!("role{}", (u + k) % 8),
                domain,
            ]);
        }
    }
    let (plain, cached) = rt.block_on(enforcers(role_rules(8), g));
    println!(
        "casbin domains: 1,000,000 g rules loaded in {:?}",
        started.elapsed()
    );
    // user{u} holds role{(u + k) % 8} in its k-th domain: ask for a privilege of that role.
    let ask = |u: usize| {
        let k = 3;
        let domain = format!("org{}", ((u * 10 + k) * 7_919) % 100_000);
        let role = (u + k) % 8;
        let wanted = (0..100).find(|p| (p + role).is_multiple_of(7)).unwrap_or(0);
        (format!("user{u}"), domain, format!("P{wanted}"))
    };
    let (user, domain, wanted) = ask(PRINCIPALS / 2);
    let request = (user.as_str(), domain.as_str(), wanted.as_str(), "use");
    assert!(
        plain.enforce(request).expect("enforce"),
        "casbin denies {request:?}"
    );
    group.sample_size(20);
    group.bench_function("enforce_100k_domains_repeated", |b| {
        b.iter(|| black_box(plain.enforce(black_box(request)).expect("enforce")))
    });
    group.sample_size(100);
    group.bench_function("cached_enforce_100k_domains_repeated", |b| {
        b.iter(|| black_box(cached.enforce(black_box(request)).expect("enforce")))
    });
    let visits: Vec<(String, String, String)> = shuffled(VISITED).into_iter().map(ask).collect();
    group.bench_function("cached_enforce_100k_domains_10k_users_random", |b| {
        let mut i = 0;
        b.iter(|| {
            let (u, d, w) = &visits[i % VISITED];
            i += 1;
            black_box(
                cached
                    .enforce((u.as_str(), d.as_str(), w.as_str(), "use"))
                    .expect("enforce"),
            )
        })
    });
    group.warm_up_time(Duration::from_secs(3));
    group.finish();
}

fn print_ratios() {
    println!(
        "\n{:<34} {:>10} {:>14} {:>14} {:>10} {:>10}",
        "case", "ours (ns)", "enforce (ns)", "cached (ns)", "enforce/x", "cached/x"
    );
    let rows: Vec<(String, String, String, String)> = HELD
        .iter()
        .map(|h| {
            (
                format!("{h} roles per user"),
                format!("roles/check/{h}"),
                format!("casbin_domains/enforce_roles/{h}"),
                format!("casbin_domains/cached_enforce_roles/{h}"),
            )
        })
        .chain([
            (
                "100k scopes, repeated".to_string(),
                "scopes/check_in_repeated".to_string(),
                "casbin_domains/enforce_100k_domains_repeated".to_string(),
                "casbin_domains/cached_enforce_100k_domains_repeated".to_string(),
            ),
            (
                "100k scopes, 10k principals random".to_string(),
                "scopes/check_in_10k_principals_random".to_string(),
                "casbin_domains/enforce_100k_domains_repeated".to_string(),
                "casbin_domains/cached_enforce_100k_domains_10k_users_random".to_string(),
            ),
            (
                "  by key, repeated".to_string(),
                "scopes/check_in_key_repeated".to_string(),
                "casbin_domains/enforce_100k_domains_repeated".to_string(),
                "casbin_domains/cached_enforce_100k_domains_repeated".to_string(),
            ),
            (
                "  by key, 10k principals random".to_string(),
                "scopes/check_in_key_10k_principals_random".to_string(),
                "casbin_domains/enforce_100k_domains_repeated".to_string(),
                "casbin_domains/cached_enforce_100k_domains_10k_users_random".to_string(),
            ),
        ])
        .collect();
    for (name, o, p, c) in rows {
        match (
            benches::median_ns(&o),
            benches::median_ns(&p),
            benches::median_ns(&c),
        ) {
            (Some(o), Some(p), Some(c)) => println!(
                "{name:<34} {o:>10.1} {p:>14.1} {c:>14.1} {:>9.0}x {:>9.1}x",
                p / o,
                c / o
            ),
            _ => println!("{name:<34} (run the whole bench to compare)"),
        }
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut c = Criterion::default()
        .output_directory(&benches::criterion_dir())
        .configure_from_args();
    ours(&mut c, &rt);
    casbin(&mut c, &rt);
    c.final_summary();
    print_ratios();
}
