//! The request path: credential → principal → requirement → inner service.

use std::future::{Future, Ready};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::Either;
use http::{Request, Response};
use rbac_core::{AuthFailure, Principal, RequestContext};
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

/// The response future of [`RbacService`]: the inner service's own future when the
/// credential was settled from the caches (nothing allocated for the check), else a
/// refusal ready at once or the whole check, boxed, when authentication has to wait.
pub type ResponseFuture<F, T, E> =
    Either<F, Either<Ready<Result<T, E>>, Pin<Box<dyn Future<Output = Result<T, E>> + Send>>>>;

/// A refusal, ready at once.
fn refused<F, T, E>(response: T) -> ResponseFuture<F, T, E> {
    Either::Right(Either::Left(std::future::ready(Ok(response))))
}

impl<R> RbacLayer<R> {
    /// The refusal of a credential that did not authenticate.
    fn refuse_credential<B, ResBody>(
        &self,
        e: &rbac_core::Error,
        req: &Request<B>,
    ) -> Response<ResBody>
    where
        R: RenderRejection<ResBody>,
    {
        tracing::debug!(error = %e, path = %req.uri().path(), "authentication refused");
        let rejection = Rejection::from_error(e);
        if matches!(rejection, Rejection::Unauthenticated(_)) {
            self.decisions.unauthenticated.increment(1);
        }
        self.renderer.render(&rejection)
    }

    /// Decides a request once its credential is settled: `Ok` passes it on, `Err` is the
    /// refusal.
    fn decide<B, ResBody>(
        &self,
        authenticated: rbac_core::Result<Principal>,
        req: &mut Request<B>,
    ) -> Result<(), Response<ResBody>>
    where
        R: RenderRejection<ResBody>,
    {
        match authenticated {
            Ok(principal) => self.admit(principal, req),
            Err(e) => Err(self.refuse_credential(&e, req)),
        }
    }

    /// Decides an authenticated request: `Ok` passes it on, with the principal (and the
    /// scope checked) in its extensions; `Err` is the refusal.
    fn admit<B, ResBody>(
        &self,
        principal: Principal,
        req: &mut Request<B>,
    ) -> Result<(), Response<ResBody>>
    where
        R: RenderRejection<ResBody>,
    {
        let refuse = |rejection: Rejection| Err(self.renderer.render(&rejection));
        if let Some(e) = self.factors.enrolment_refusal(&principal) {
            self.decisions.denied.increment(1);
            tracing::info!(user = %principal.user_name, path = %req.uri().path(), "refused: second factor not enrolled");
            return refuse(Rejection::from_error(&e));
        }
        let (outcome, checked) = match &self.scope {
            None => (self.check.require(&principal, &self.need), None),
            Some(crate::scope::ScopeSource::Anywhere) => {
                (self.check.require_anywhere(&principal, &self.need), None)
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
                        self.check.require_in(&principal, &self.need, &scope),
                        Some(scope),
                    ),
                    // Unreadable: refused as the privilege missing there.
                    None => (Err(unreadable(self)), None),
                }
            }
        };
        if let Err(e) = outcome {
            self.decisions.denied.increment(1);
            let rejection = Rejection::from_error(&e);
            if let Rejection::Forbidden { missing } = &rejection {
                tracing::info!(
                    user = %principal.user_name,
                    privilege = %missing,
                    path = %req.uri().path(),
                    "access denied: missing privilege"
                );
                self.check
                    .record_denial(&principal, missing, req.uri().path());
            }
            return refuse(rejection);
        }
        if let Some(e) = self.factors.step_up_refusal(&principal) {
            self.decisions.denied.increment(1);
            tracing::info!(user = %principal.user_name, path = %req.uri().path(), refusal = %e, "refused: second factor");
            return refuse(Rejection::from_error(&e));
        }
        self.decisions.allowed.increment(1);
        if let Some(scope) = checked {
            req.extensions_mut().insert(CheckedScope(scope));
        }
        req.extensions_mut().insert(principal);
        Ok(())
    }
}

/// The request's context for authentication.
fn context_of<B>(req: &Request<B>) -> RequestContext<'_> {
    RequestContext {
        address: req.extensions().get::<ClientAddress>().map(|a| a.0),
        path: req.uri().path(),
    }
}

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
    type Future = ResponseFuture<S::Future, Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let layer = &self.layer;
        let Some(credential) = first_credential(&layer.sources, &req) else {
            layer.decisions.unauthenticated.increment(1);
            let rejection = Rejection::Unauthenticated(AuthFailure::Missing);
            return refused(layer.renderer.render(&rejection));
        };
        // A credential the caches settle is decided here, with nothing allocated for it.
        if let Some(outcome) = layer.auth.authenticate_now(&credential, &context_of(&req)) {
            return match layer.decide(outcome, &mut req) {
                Ok(()) => Either::Left(self.inner.call(req)),
                Err(response) => refused(response),
            };
        }
        // The clone that was driven to readiness serves this request (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        let future = Box::pin(async move {
            let authenticated = layer
                .auth
                .authenticate(&credential, &context_of(&req))
                .await;
            if let Err(response) = layer.decide(authenticated, &mut req) {
                return Ok(response);
            }
            inner.call(req).await
        });
        Either::Right(Either::Right(future))
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
