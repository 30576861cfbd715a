//! What an adopter's axum service pays for the layer: one `Router` driven with `oneshot`,
//! the same handler on the same route with and without `RbacLayer` (HS256 JWT, a
//! requirement checked within the desk the path names, `desk:sports`), and one HS256
//! verification for scale. The layer's cost is the difference; it is printed as a share of
//! one verification.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use criterion::{black_box, Criterion};
use http::{Request, StatusCode};
use rbac_core::service::{LoginInput, LoginStep, UserInput};
use rbac_core::{HasherConfig, MemoryStore, Rbac, RbacConfig, Scope};
use rbac_tower::{RbacLayer, ScopeSource};
use tower::ServiceExt;

const PASSWORD: &str = "bench-reporter-password";

/// The newsroom: a reporter who publishes within `desk:sports`; its token.
async fn newsroom() -> (Rbac, String) {
    let rbac = Rbac::builder(MemoryStore::new())
        .secret("the newsroom's own signing secret, 32+ bytes")
        .privileges(["ArticleRead", "ArticlePublish"])
        .scope_kinds(["desk"])
        .config(RbacConfig {
            hasher: HasherConfig {
                memory_kib: 256,
                iterations: 1,
                ..HasherConfig::default()
            },
            ..RbacConfig::default()
        })
        .role("reporter", ["ArticlePublish"])
        .build()
        .await
        .expect("rbac");
    let system = rbac.system().await.expect("system");
    let reporter = UserInput {
        name: "reporter".into(),
        password: PASSWORD.into(),
        ..UserInput::default()
    };
    rbac.users()
        .create(Some(&system), reporter)
        .await
        .expect("user");
    let sports = Scope::new("desk", "sports").expect("scope");
    rbac.assignments()
        .assign(&system, "reporter", "reporter", Some(sports))
        .await
        .expect("assign");
    let token = rbac
        .sessions()
        .login(&LoginInput::new("reporter", PASSWORD, "127.0.0.1"))
        .await
        .and_then(LoginStep::signed_in)
        .expect("login")
        .token
        .token;
    (rbac, token)
}

async fn publish() -> &'static str {
    "published"
}

/// The route without the layer, and with it.
fn routers(rbac: &Rbac) -> (Router, Router) {
    let route = "/desks/{desk}/articles";
    let bare = Router::new().route(route, post(publish));
    let layer = RbacLayer::new(rbac)
        .require("ArticlePublish")
        .in_scope(ScopeSource::path_segment("desk", 1));
    let checked = Router::new().route(route, post(publish).layer(layer));
    (bare, checked)
}

fn request(token: &str) -> Request<Body> {
    Request::post("/desks/sports/articles")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request")
}

/// Runs `iters` requests through `router` with `oneshot`; the time they took (building the
/// requests is outside it).
fn drive(rt: &tokio::runtime::Runtime, router: &Router, token: &str, iters: u64) -> Duration {
    let reqs: Vec<Request<Body>> = (0..iters).map(|_| request(token)).collect();
    rt.block_on(async {
        let start = Instant::now();
        for req in reqs {
            let resp = router.clone().oneshot(req).await.expect("infallible");
            debug_assert_eq!(resp.status(), StatusCode::OK);
            black_box(resp);
        }
        start.elapsed()
    })
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (rbac, token) = rt.block_on(newsroom());
    let (bare, checked) = routers(&rbac);
    // The layer admits the reporter in its desk and refuses it in another: the bench
    // measures a real check.
    rt.block_on(async {
        let ok = checked.clone().oneshot(request(&token)).await.expect("ok");
        assert_eq!(ok.status(), StatusCode::OK);
        let other = Request::post("/desks/politics/articles")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        let refused = checked.clone().oneshot(other).await.expect("refused");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    });
    let mut c = Criterion::default()
        .output_directory(&benches::criterion_dir())
        .configure_from_args();
    let mut group = c.benchmark_group("router");
    group.bench_function("without_layer", |b| {
        b.iter_custom(|iters| drive(&rt, &bare, &token, iters))
    });
    group.bench_function("with_layer_jwt_scoped", |b| {
        b.iter_custom(|iters| drive(&rt, &checked, &token, iters))
    });
    let jwt = rbac.authorizer().jwt();
    group.bench_function("jwt_verify_only", |b| {
        b.iter(|| black_box(jwt.verify(black_box(&token)).expect("valid")))
    });
    group.finish();
    c.final_summary();
    let median = |name: &str| benches::median_ns(&format!("router/{name}"));
    if let (Some(bare), Some(checked), Some(verify)) = (
        median("without_layer"),
        median("with_layer_jwt_scoped"),
        median("jwt_verify_only"),
    ) {
        let added = checked - bare;
        println!(
            "router: {bare:.0} ns without the layer, {checked:.0} ns with it: the layer adds \
             {added:.0} ns, {:.2}x one HS256 verification ({verify:.0} ns)",
            added / verify
        );
    }
}
