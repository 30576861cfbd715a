//! A tower layer that authenticates requests and checks privilege codes.
//!
//! [`RbacLayer`] wraps any `Service<http::Request<B>>` (axum, tonic, bare hyper). Per
//! request it reads a credential from the sources the surface declares, verifies the JWT
//! and its server-side session (cached), checks the route's privilege requirement against
//! the role snapshot (a bit test, no lock), inserts the [`Principal`] into the request
//! extensions, and otherwise answers with the surface's [`RenderRejection`].
//!
//! ```
//! use std::sync::Arc;
//! use axum::{body::Body, routing::get, Router};
//! use http::{Request, StatusCode};
//! use rbac_core::{Authorizer, AuthorizerConfig, JwtCodec, JwtKey, MemoryStore, PrivilegeRegistry};
//! use rbac_tower::{CredentialSource, RbacLayer};
//! use tower::ServiceExt;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store = Arc::new(MemoryStore::new());
//! let jwt = Arc::new(JwtCodec::new(JwtKey::from_secret("a secret of at least 32 bytes!!!"), []));
//! let authorizer = Arc::new(Authorizer::new(
//!     store,
//!     Arc::new(PrivilegeRegistry::new(rbac_core::AdminPrivileges::default().codes())),
//!     jwt,
//!     &AuthorizerConfig::default(),
//! ));
//! let rbac = RbacLayer::new(authorizer).sources([CredentialSource::Bearer]);
//! let app: Router = Router::new()
//!     .route("/users", get(|| async { "every user" }))
//!     .layer(rbac.require_code("UserAccess"));
//!
//! let response = app
//!     .oneshot(Request::get("/users").body(Body::empty()).unwrap())
//!     .await
//!     .unwrap();
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! # });
//! ```
#![deny(missing_docs)]
#![deny(unreachable_pub)]

pub mod credential;
#[cfg(feature = "axum")]
pub mod extract;
pub mod layer;
pub mod reject;
pub mod scope;
pub mod service;

pub use credential::{cookie, first_credential, CredentialSource};
pub use layer::{IntoAuthenticate, IntoRequirement, RbacLayer, UnknownPrivilege};
pub use rbac_core::{Principal, Requirement};
pub use reject::{PlainRejection, Rejection, RenderRejection};
pub use scope::{CheckedScope, RequestHead, ScopeSource};
pub use service::{ClientAddress, RbacService, ResponseFuture};

/// The README's code samples, compiled as doctests so they cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
