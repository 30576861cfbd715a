//! One request through `RbacLayer` around a no-op service (real HS256 JWT, warm session
//! and role), the same with an opaque console token (sliding session) and with a project's
//! API key (counted against its quota), the JWT verification alone, the same request from 1, 2 and 8 threads at
//! once, and the cold path: the first authentication after an invalidation, read from
//! SQLite.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use http::{Request, Response};
use rbac_core::service::{LoginInput, NewApiKey};
use rbac_core::store::Store;
use rbac_core::{
    AdminPrivileges, Change, HasherConfig, Journal, JwtCodec, JwtKey, PrivilegeRegistry, Rbac,
    RbacConfig, Revoke,
};
use rbac_tower::RbacLayer;
use tower::{Layer, Service, ServiceExt};

#[global_allocator]
static GLOBAL: benches::Counting = benches::Counting;

const PASSWORD: &str = "bench-admin-password";

/// The most allocations a warm JWT request may make through the layer itself, on average:
/// the token's text read from the header, the request's extensions (a box and its map),
/// the principal in them; and now and then the boxed path, when moka's housekeeping makes
/// a cache read wait.
const WARM_ALLOCATIONS: f64 = 4.5;

/// Cheap hashing: the benches measure the request path, not argon2.
fn config() -> RbacConfig {
    RbacConfig {
        hasher: HasherConfig {
            memory_kib: 256,
            iterations: 1,
            ..HasherConfig::default()
        },
        ..RbacConfig::default()
    }
}

/// A service over `store` with `admin` bootstrapped and logged in: (rbac, token).
async fn logged_in(store: Arc<dyn Store>) -> (Rbac, String) {
    let jwt = JwtCodec::new(JwtKey::from_secret("bench-secret-bench-secret-bench!"), []);
    let rbac = Rbac::new(
        store,
        Arc::new(PrivilegeRegistry::new(AdminPrivileges::default().codes())),
        jwt,
        config(),
    )
    .await
    .expect("rbac");
    rbac.bootstrap(Some(PASSWORD)).await.expect("bootstrap");
    let token = login(&rbac).await;
    (rbac, token)
}

/// A new session of `admin`: its token.
async fn login(rbac: &Rbac) -> String {
    rbac.sessions()
        .login(&LoginInput::new("admin", PASSWORD, "127.0.0.1"))
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)
        .expect("login")
        .token
        .token
}

/// A console session of `admin` (moved into organisation 2): its opaque token.
async fn tenant_login(rbac: &Rbac) -> String {
    let store = rbac.store();
    let mut admin = store
        .user_by_name("admin")
        .await
        .expect("read")
        .expect("admin");
    let tenant = rbac_core::Scope::new("org", 2).expect("scope");
    admin.tenant = Some(tenant);
    store
        .update_user(&admin, None, Revoke::Nothing, &Journal::default())
        .await
        .expect("update");
    let login = LoginInput::new("admin", PASSWORD, "127.0.0.1").tenant(tenant);
    rbac.sessions()
        .login_with(&login, rbac_core::SessionKind::Opaque)
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)
        .expect("tenant login")
        .token
        .token
}

type Svc = tower::util::BoxCloneService<Request<()>, Response<String>, Infallible>;

/// `RbacLayer` requiring UserAccess around a service that answers an empty 200.
fn layered(rbac: &Rbac) -> Svc {
    let layer = RbacLayer::new(rbac.authorizer().clone()).require_code("UserAccess");
    let inner = tower::service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    });
    tower::util::BoxCloneService::new(layer.layer(inner))
}

fn request(token: &str) -> Request<()> {
    Request::builder()
        .uri("/bench")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .expect("request")
}

/// A request carrying a project's key and secret (`key:secret` in `token`).
fn key_request(token: &str) -> Request<()> {
    let (key, secret) = token.split_once(':').expect("key:secret");
    Request::builder()
        .uri("/bench")
        .header("x-project-key", key)
        .header("x-project-secret", secret)
        .body(())
        .expect("request")
}

/// Runs `iters` requests on this thread's runtime and returns the time they took.
fn drive(rt: &tokio::runtime::Runtime, svc: &Svc, token: &str, iters: u64) -> Duration {
    drive_with(rt, svc, token, iters, request)
}

/// [`drive`] with requests built by `make`.
fn drive_with(
    rt: &tokio::runtime::Runtime,
    svc: &Svc,
    token: &str,
    iters: u64,
    make: fn(&str) -> Request<()>,
) -> Duration {
    let reqs: Vec<Request<()>> = (0..iters).map(|_| make(token)).collect();
    let mut svc = svc.clone();
    rt.block_on(async move {
        let start = Instant::now();
        for req in reqs {
            let resp = svc
                .ready()
                .await
                .expect("ready")
                .call(req)
                .await
                .expect("infallible");
            assert_eq!(resp.status(), 200);
        }
        start.elapsed()
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn layer(c: &mut Criterion) {
    let rt = runtime();
    let store: Arc<dyn Store> = Arc::new(rbac_core::MemoryStore::new());
    let (rbac, token) = rt.block_on(logged_in(store));
    let svc = layered(&rbac);
    // Warm the session cache and the role snapshot.
    drive(&rt, &svc, &token, 10);

    warm_allocations(&rt, &rbac, &token);

    let mut group = c.benchmark_group("layer");
    group.bench_function("jwt_verify_only", |b| {
        let jwt = rbac.authorizer().jwt();
        b.iter(|| black_box(jwt.verify(black_box(&token)).expect("valid")))
    });
    group.bench_function("request_through_layer", |b| {
        b.iter_custom(|iters| drive(&rt, &svc, &token, iters))
    });
    // The opaque console token: SHA-256 of the token, then the same session cache; its
    // sliding expiry writes to the store at most once a minute, so not here.
    let opaque = rt.block_on(tenant_login(&rbac));
    drive(&rt, &svc, &opaque, 10);
    group.bench_function("request_through_layer_opaque_token", |b| {
        b.iter_custom(|iters| drive(&rt, &svc, &opaque, iters))
    });
    // A project's API key: the key cache, a constant-time secret comparison, and the
    // project's quota counter (batched to the store elsewhere, so no write here).
    let key_svc = {
        let layer = RbacLayer::new(rbac.authorizer().clone())
            .sources([rbac_tower::CredentialSource::api_key(
                "x-project-key",
                "x-project-secret",
            )])
            .require_code("UserAccess");
        let inner = tower::service_fn(|_req: Request<()>| async {
            Ok::<_, Infallible>(Response::new(String::new()))
        });
        tower::util::BoxCloneService::new(layer.layer(inner))
    };
    let api_key = rt.block_on(async {
        let admin = rbac.sessions().authenticate(&token).await.expect("admin");
        let p = rbac
            .keys()
            // Metered, as a limited key is; the bench makes millions of requests with it.
            .create(&admin, NewApiKey::new("bench").daily_limit(i64::MAX))
            .await
            .expect("key");
        format!("{}:{}", p.key, p.secret)
    });
    drive_with(&rt, &key_svc, &api_key, 10, key_request);
    group.bench_function("request_through_layer_api_key", |b| {
        b.iter_custom(|iters| drive_with(&rt, &key_svc, &api_key, iters, key_request))
    });
    group.finish();

    // Several threads at once, each with its own session of the same user and role: the
    // time per request over all threads.
    let tokens: Vec<String> = (0..8)
        .map(|_| {
            let t = rt.block_on(login(&rbac));
            drive(&rt, &svc, &t, 10);
            t
        })
        .collect();
    let mut group = c.benchmark_group("layer_threads");
    for threads in [1u64, 2, 8] {
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                let per = iters.div_ceil(threads);
                let start = Instant::now();
                std::thread::scope(|s| {
                    for token in tokens.iter().take(threads as usize) {
                        let svc = svc.clone();
                        s.spawn(move || drive(&runtime(), &svc, token, per));
                    }
                });
                // Wall time for all `iters` requests: criterion reports it per request, so
                // the figure falls as threads are added while the path scales (up to the
                // machine's cores) with no shared lock.
                start.elapsed()
            })
        });
    }
    group.finish();
}

/// Counts the allocations of warm JWT requests through the layer around a service that
/// allocates nothing (no boxing service in between), and asserts the bound.
fn warm_allocations(rt: &tokio::runtime::Runtime, rbac: &Rbac, token: &str) {
    let layer = RbacLayer::new(rbac.authorizer().clone()).require_code("UserAccess");
    let mut svc = layer.layer(tower::service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    }));
    const N: u64 = 10_000;
    let reqs: Vec<Request<()>> = (0..N).map(|_| request(token)).collect();
    let allocated = rt.block_on(async {
        let before = benches::allocations();
        for req in reqs {
            let resp = svc
                .ready()
                .await
                .expect("ready")
                .call(req)
                .await
                .expect("infallible");
            assert_eq!(resp.status(), 200);
        }
        benches::allocations() - before
    });
    let per = allocated as f64 / N as f64;
    println!("warm JWT request through the layer: {per:.2} allocations");
    assert!(
        per <= WARM_ALLOCATIONS,
        "{per:.2} allocations per warm request (at most {WARM_ALLOCATIONS})"
    );
}

fn cold(c: &mut Criterion) {
    let rt = runtime();
    let dir = std::env::temp_dir().join(format!("rbac-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/cold.db", dir.display());
    let (rbac, token) = rt.block_on(async {
        let sql = rbac_sqlx::SqlStore::connect(&url).await.expect("sqlite");
        sql.migrate().await.expect("migrate");
        logged_in(Arc::new(sql)).await
    });
    let authorizer = rbac.authorizer().clone();
    let principal = rt
        .block_on(authorizer.authenticate_jwt(&token))
        .expect("authenticated");
    let mut group = c.benchmark_group("cold");
    group.bench_function("authenticate_after_invalidation_sqlite", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    // Drop the user's cached sessions: the next request reads the
                    // session and the user from SQLite (the role stays in the snapshot).
                    authorizer
                        .apply_changes(&[Change::User(principal.user_id)])
                        .await;
                    let start = Instant::now();
                    let p = authorizer.authenticate_jwt(&token).await.expect("valid");
                    black_box(authorizer.require_code(&p, "UserAccess").is_ok());
                    total += start.elapsed();
                }
                total
            })
        })
    });
    // A project's API key on SQLite: the quota shared by every instance on the store is
    // reserved in slices, so one request in a slice runs a store transaction; this is
    // the cost per request with that round trip amortised over the slice.
    let (key, secret) = rt.block_on(async {
        let admin = rbac.sessions().authenticate(&token).await.expect("admin");
        let p = rbac
            .keys()
            // Metered, as a limited key is; the bench makes millions of requests with it.
            .create(&admin, NewApiKey::new("bench").daily_limit(i64::MAX))
            .await
            .expect("key");
        (p.key, p.secret)
    });
    group.bench_function("api_key_quota_sqlite", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let p = authorizer
                        .authenticate_api_key(&key, &secret)
                        .await
                        .expect("within the quota");
                    black_box(p);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, layer, cold);
criterion_main!(benches);
