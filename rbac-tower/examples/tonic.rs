//! `RbacLayer` in front of a tonic gRPC service, with a privilege per RPC method:
//! `ListUsers` needs `UserAccess`, `DeleteUser` needs `UserDelete`. Each method is its own
//! route in tonic's router, so each gets its own layer; refusals are gRPC statuses
//! (`UNAUTHENTICATED`, `PERMISSION_DENIED`), not HTTP errors.
//!
//! The messages are derived with prost by hand (no `.proto` file, no protoc), as
//! `rbac.example.Directory`:
//!
//! ```proto
//! service Directory {
//!   rpc ListUsers(ListUsersRequest) returns (ListUsersReply);   // UserAccess
//!   rpc DeleteUser(DeleteUserRequest) returns (DeleteUserReply); // UserDelete
//! }
//! ```
//!
//! `cargo run -p rbac-tower --example tonic`, then call it with the metadata
//! `authorization: Bearer <token it prints>`.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use rbac_core::service::LoginInput;
use rbac_core::{
    JwtCodec, JwtKey, MemoryStore, Principal, PrivilegeRegistry, Rbac, RbacConfig, UserQuery,
};
use rbac_tower::{RbacLayer, Rejection, RenderRejection};
use tonic::body::Body;
use tonic::Status;
use tower::Layer;

/// The messages of `rbac.example.Directory`.
pub mod proto {
    /// Lists every user.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ListUsersRequest {}

    /// The users' names.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ListUsersReply {
        /// One per user.
        #[prost(string, repeated, tag = "1")]
        pub names: Vec<String>,
    }

    /// Deletes one user.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct DeleteUserRequest {
        /// The user's name.
        #[prost(string, tag = "1")]
        pub name: String,
    }

    /// How many users went.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct DeleteUserReply {
        /// 1, or 0 when there was no such user.
        #[prost(uint64, tag = "1")]
        pub deleted: u64,
    }
}

use proto::{DeleteUserReply, DeleteUserRequest, ListUsersReply, ListUsersRequest};

/// The gRPC path of `ListUsers`.
pub const LIST_USERS: &str = "/rbac.example.Directory/ListUsers";
/// The gRPC path of `DeleteUser`.
pub const DELETE_USER: &str = "/rbac.example.Directory/DeleteUser";

/// Renders the layer's refusals as gRPC statuses (HTTP 200 with `grpc-status`).
#[derive(Debug, Clone, Copy)]
pub struct GrpcRejection;

impl RenderRejection<Body> for GrpcRejection {
    fn render(&self, rejection: &Rejection) -> http::Response<Body> {
        let status = match rejection {
            Rejection::Unauthenticated(why) => Status::unauthenticated(why.to_string()),
            Rejection::Forbidden { missing } => {
                Status::permission_denied(format!("missing privilege {missing}"))
            }
            Rejection::LimitReached { limit, .. } => {
                Status::resource_exhausted(format!("over the limit of {limit} requests"))
            }
            Rejection::Unavailable => Status::unavailable("authorization unavailable"),
            // A second factor missing, stale or not yet enrolled.
            other => Status::permission_denied(other.to_error().to_string()),
        };
        status.into_http()
    }
}

/// A use-case error as a gRPC status.
fn status(e: rbac_core::Error) -> Status {
    match e {
        rbac_core::Error::Forbidden { missing } => {
            Status::permission_denied(format!("missing privilege {missing}"))
        }
        rbac_core::Error::Internal(_) => Status::internal("internal error"),
        other => Status::failed_precondition(other.to_string()),
    }
}

/// The caller the layer authenticated (the layer is on every route, so it is there).
fn caller<M>(req: &tonic::Request<M>) -> Result<Principal, Status> {
    req.extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| Status::internal("RbacLayer is not in front of this method"))
}

/// One unary gRPC method as an HTTP service: decodes `In`, runs `handler`, encodes `Out`.
fn unary<In, Out, F, Fut>(
    handler: F,
) -> impl tower::Service<
    http::Request<axum::body::Body>,
    Response = http::Response<Body>,
    Error = Infallible,
    Future: Send,
> + Clone
       + Send
       + Sync
       + 'static
where
    In: prost::Message + Default + Send + Sync + 'static,
    Out: prost::Message + Send + Sync + 'static,
    F: Fn(tonic::Request<In>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<tonic::Response<Out>, Status>> + Send + 'static,
{
    tower::service_fn(move |req: http::Request<axum::body::Body>| {
        let handler = handler.clone();
        async move {
            let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::<Out, In>::default());
            Ok::<_, Infallible>(grpc.unary(tower::service_fn(handler), req).await)
        }
    })
}

/// `rbac.example.Directory`, each method behind its own privilege.
pub fn directory(rbac: &Rbac) -> tonic::service::Routes {
    let layer = RbacLayer::new(rbac.authorizer().clone()).renderer(GrpcRejection);
    let list = {
        let rbac = rbac.clone();
        move |req: tonic::Request<ListUsersRequest>| {
            let rbac = rbac.clone();
            async move {
                let listing = rbac
                    .users()
                    .list(&caller(&req)?, &UserQuery::default())
                    .await
                    .map_err(status)?;
                let names = listing.rows.into_iter().map(|v| v.user.name).collect();
                Ok(tonic::Response::new(ListUsersReply { names }))
            }
        }
    };
    let delete = {
        let rbac = rbac.clone();
        move |req: tonic::Request<DeleteUserRequest>| {
            let rbac = rbac.clone();
            async move {
                let actor = caller(&req)?;
                let deleted = rbac
                    .users()
                    .delete_many(&actor, &[req.into_inner().name])
                    .await
                    .map_err(status)?;
                Ok(tonic::Response::new(DeleteUserReply { deleted }))
            }
        }
    };
    let router = axum::Router::new()
        .route_service(
            LIST_USERS,
            layer.clone().require_code("UserAccess").layer(unary(list)),
        )
        .route_service(
            DELETE_USER,
            layer.require_code("UserDelete").layer(unary(delete)),
        );
    tonic::service::Routes::from(router)
}

/// Serves [`directory`] over HTTP/2 on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    rbac: &Rbac,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_routes(directory(rbac))
        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
        .await
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:50051").await?;
    println!("gRPC on 127.0.0.1:50051; metadata `authorization: Bearer {token}`");
    serve(listener, &rbac).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rbac_core::service::UserInput;
    use tonic::transport::Channel;

    /// Calls `path` with `message`, as `token` when given.
    async fn call<In, Out>(
        channel: &Channel,
        path: &'static str,
        message: In,
        token: Option<&str>,
    ) -> Result<Out, Status>
    where
        In: prost::Message + Send + Sync + 'static,
        Out: prost::Message + Default + Send + Sync + 'static,
    {
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let mut req = tonic::Request::new(message);
        if let Some(t) = token {
            let value = format!("Bearer {t}")
                .parse()
                .map_err(|_| Status::internal("token is not ASCII"))?;
            req.metadata_mut().insert("authorization", value);
        }
        let path = http::uri::PathAndQuery::from_static(path);
        let codec = tonic_prost::ProstCodec::<In, Out>::default();
        grpc.unary(req, path, codec).await.map(|r| r.into_inner())
    }

    /// A user holding a role with exactly `privileges`, logged in.
    async fn user_with(rbac: &Rbac, admin: &str, name: &str, privileges: &[&str]) -> String {
        let actor = rbac.sessions().authenticate(admin).await.expect("admin");
        let role = format!("{name}-role");
        rbac.roles().create(&actor, &role, "").await.expect("role");
        let codes: Vec<String> = privileges.iter().map(|p| p.to_string()).collect();
        rbac.roles()
            .grant(&actor, &role, &codes)
            .await
            .expect("grant");
        let input = UserInput {
            name: name.into(),
            password: "Password-123".into(),
            roles: vec![role],
            ..UserInput::default()
        };
        rbac.users()
            .create(Some(&actor), input)
            .await
            .expect("user");
        rbac.sessions()
            .login(&LoginInput::new(name, "Password-123", "127.0.0.1"))
            .await
            .and_then(rbac_core::service::LoginStep::signed_in)
            .expect("login")
            .token
            .token
    }

    #[tokio::test]
    async fn each_method_requires_its_own_privilege() {
        let (rbac, admin) = deployment().await.expect("deployment");
        let viewer = user_with(&rbac, &admin, "viewer", &["UserAccess"]).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let server = tokio::spawn({
            let rbac = rbac.clone();
            async move { serve(listener, &rbac).await }
        });
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");

        // No token: UNAUTHENTICATED.
        let none: Result<ListUsersReply, _> =
            call(&channel, LIST_USERS, ListUsersRequest {}, None).await;
        assert_eq!(
            none.expect_err("refused").code(),
            tonic::Code::Unauthenticated
        );

        // The viewer may list (UserAccess) but not delete (UserDelete).
        let listed: ListUsersReply = call(&channel, LIST_USERS, ListUsersRequest {}, Some(&viewer))
            .await
            .expect("viewer lists");
        assert!(listed.names.contains(&"admin".to_string()), "{listed:?}");
        let refused: Result<DeleteUserReply, _> = call(
            &channel,
            DELETE_USER,
            DeleteUserRequest {
                name: "viewer".into(),
            },
            Some(&viewer),
        )
        .await;
        let refused = refused.expect_err("viewer may not delete");
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        assert!(refused.message().contains("UserDelete"), "{refused:?}");

        // The admin holds both.
        let deleted: DeleteUserReply = call(
            &channel,
            DELETE_USER,
            DeleteUserRequest {
                name: "viewer".into(),
            },
            Some(&admin),
        )
        .await
        .expect("admin deletes");
        assert_eq!(deleted.deleted, 1);
        // The deleted viewer's token stops working.
        let gone: Result<ListUsersReply, _> =
            call(&channel, LIST_USERS, ListUsersRequest {}, Some(&viewer)).await;
        assert_eq!(
            gone.expect_err("refused").code(),
            tonic::Code::Unauthenticated
        );
        server.abort();
    }
}
