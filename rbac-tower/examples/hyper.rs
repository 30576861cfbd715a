//! `RbacLayer` around a bare hyper service (no framework): tower's `ServiceBuilder` puts the
//! layer in front of a `service_fn`, and hyper-util adapts the result to hyper.
//!
//! `cargo run -p rbac-tower --example hyper`, then
//! `curl localhost:3001/ -H 'Authorization: Bearer <token it prints>'`.

use std::convert::Infallible;
use std::sync::Arc;

use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Bytes;
use rbac_core::service::LoginInput;
use rbac_core::{JwtCodec, JwtKey, MemoryStore, Principal, PrivilegeRegistry, Rbac, RbacConfig};
use rbac_tower::RbacLayer;
use tower::{Service, ServiceBuilder};

/// The protected service: needs UserAccess, answers who called.
fn service<B: Send + 'static>(
    rbac: &Rbac,
) -> impl Service<Request<B>, Response = Response<Full<Bytes>>, Error = Infallible, Future: Send>
       + Clone
       + Send
       + 'static {
    ServiceBuilder::new()
        .layer(RbacLayer::new(rbac.authorizer().clone()).require_code("UserAccess"))
        .service_fn(|req: Request<B>| async move {
            let who = req
                .extensions()
                .get::<Principal>()
                .map_or_else(|| "nobody".to_string(), |p| p.user_name.to_string());
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!(
                "hello {who}\n"
            )))))
        })
}

async fn deployment() -> Result<(Rbac, String), rbac_core::Error> {
    let jwt = JwtCodec::new(JwtKey::from_secret("example-secret-example-secret-32"), []);
    let rbac = Rbac::new(
        Arc::new(MemoryStore::new()),
        Arc::new(PrivilegeRegistry::new(
            rbac_core::AdminPrivileges::default().codes(),
        )),
        jwt,
        RbacConfig::default(),
    )
    .await?;
    rbac.bootstrap(Some("admin-password")).await?;
    let token = rbac
        .sessions()
        .login(&LoginInput::new("admin", "admin-password", "127.0.0.1"))
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)?
        .token
        .token;
    Ok((rbac, token))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (rbac, token) = deployment().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    println!("curl localhost:3001/ -H 'Authorization: Bearer {token}'");
    loop {
        let (stream, _) = listener.accept().await?;
        let svc = hyper_util::service::TowerToHyperService::new(service(&rbac));
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await
            {
                eprintln!("connection: {e}");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_missing_privilege_is_refused() {
        let (rbac, admin) = deployment().await.expect("deployment");
        let svc = service::<String>(&rbac);
        let call = |token: Option<String>| {
            let svc = svc.clone();
            async move {
                let mut req = Request::get("/");
                if let Some(t) = token {
                    req = req.header("authorization", format!("Bearer {t}"));
                }
                svc.oneshot(req.body(String::new()).expect("request"))
                    .await
                    .expect("infallible")
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(call(Some(admin)).await, 200);
        assert_eq!(call(None).await, 401);
        // A user whose role lacks UserAccess.
        let store = rbac.store().clone();
        let user = rbac_core::User::blank(
            "plain",
            rbac.users().hasher().hash("pw").await.expect("hash"),
        );
        rbac_core::store::UserStore::create_user(
            store.as_ref(),
            &user,
            &rbac_core::Journal::default(),
        )
        .await
        .expect("user");
        let token = rbac
            .sessions()
            .login(&LoginInput::new("plain", "pw", "127.0.0.1"))
            .await
            .and_then(rbac_core::service::LoginStep::signed_in)
            .expect("login")
            .token
            .token;
        assert_eq!(call(Some(token)).await, 403);
    }
}
