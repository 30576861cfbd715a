//! The request path: credential → principal → requirement → inner service.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use rbac_core::{AuthFailure, RequestContext};
use tower::{Layer, Service};

use crate::credential::first_credential;
use crate::layer::RbacLayer;
use crate::reject::{Rejection, RenderRejection};
use crate::scope::{CheckedScope, RequestHead};

/// The refusal of a request whose scope cannot be read: the requirement's first code is
/// missing (`scope`, when only authentication is required).
fn unreadable<R>(layer: &RbacLayer<R>) -> rbac_core::Error {
    let registry = layer.check.registry();
    let first = match &layer.need {
        rbac_core::Requirement::Authenticated => None,
        rbac_core::Requirement::One(id) => Some(*id),
        rbac_core::Requirement::AnyOf(ids) | rbac_core::Requirement::AllOf(ids) => {
            ids.first().copied()
        }
    };
    rbac_core::Error::Forbidden {
        missing: first
            .and_then(|id| registry.code(id))
            .unwrap_or("scope")
            .to_string(),
    }
}

/// The client's address, as the application resolved it (after its trusted proxies): put
/// it in the request extensions before the layer, and password credentials are throttled
/// per address as well as per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);

/// The service [`RbacLayer`] wraps around an inner service.
#[derive(Clone)]
pub struct RbacService<S, R> {
    pub(crate) inner: S,
    /// Shared, so a request clones one `Arc` rather than the layer's parts.
    pub(crate) layer: std::sync::Arc<RbacLayer<R>>,
}

impl<S, R> std::fmt::Debug for RbacService<S, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RbacService")
            .field("layer", &self.layer)
            .finish_non_exhaustive()
    }
}

/// The response future of [`RbacService`].
pub type ResponseFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for RbacService<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    R: RenderRejection<ResBody>,
    ReqBody: Send + 'static,
    ResBody: 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The clone that was driven to readiness serves this request (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let refuse = |rejection: Rejection| Ok(layer.renderer.render(&rejection));
            let Some(credential) = first_credential(&layer.sources, &req) else {
                layer.decisions.unauthenticated.increment(1);
                return refuse(Rejection::Unauthenticated(AuthFailure::Missing));
            };
            let context = RequestContext {
                address: req.extensions().get::<ClientAddress>().map(|a| a.0),
                path: req.uri().path(),
            };
            let principal = match layer.auth.authenticate(&credential, &context).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::debug!(error = %e, path = %req.uri().path(), "authentication refused");
                    let rejection = Rejection::from_error(&e);
                    if matches!(rejection, Rejection::Unauthenticated(_)) {
                        layer.decisions.unauthenticated.increment(1);
                    }
                    return refuse(rejection);
                }
            };
            if let Some(e) = layer.factors.enrolment_refusal(&principal) {
                layer.decisions.denied.increment(1);
                tracing::info!(user = %principal.user_name, path = %req.uri().path(), "refused: second factor not enrolled");
                return refuse(Rejection::from_error(&e));
            }
            let (outcome, checked) = match &layer.scope {
                None => (layer.check.require(&principal, &layer.need), None),
                Some(crate::scope::ScopeSource::Anywhere) => {
                    (layer.check.require_anywhere(&principal, &layer.need), None)
                }
                Some(source) => {
                    let head = RequestHead {
                        method: req.method(),
                        uri: req.uri(),
                        headers: req.headers(),
                        extensions: req.extensions(),
                    };
                    match source.read(&head) {
                        Some(scope) => (
                            layer.check.require_in(&principal, &layer.need, &scope),
                            Some(scope),
                        ),
                        // Unreadable: refused as the privilege missing there.
                        None => (Err(unreadable(&layer)), None),
                    }
                }
            };
            if let Err(e) = outcome {
                layer.decisions.denied.increment(1);
                let rejection = Rejection::from_error(&e);
                if let Rejection::Forbidden { missing } = &rejection {
                    tracing::info!(
                        user = %principal.user_name,
                        privilege = %missing,
                        path = %req.uri().path(),
                        "access denied: missing privilege"
                    );
                    layer
                        .check
                        .record_denial(&principal, missing, req.uri().path());
                }
                return refuse(rejection);
            }
            if let Some(e) = layer.factors.step_up_refusal(&principal) {
                layer.decisions.denied.increment(1);
                tracing::info!(user = %principal.user_name, path = %req.uri().path(), refusal = %e, "refused: second factor");
                return refuse(Rejection::from_error(&e));
            }
            layer.decisions.allowed.increment(1);
            if let Some(scope) = checked {
                req.extensions_mut().insert(CheckedScope(scope));
            }
            req.extensions_mut().insert(principal);
            inner.call(req).await
        })
    }
}

impl<S, R: Clone> Layer<S> for RbacLayer<R> {
    type Service = RbacService<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        RbacService {
            inner,
            layer: std::sync::Arc::new(self.clone()),
        }
    }
}
