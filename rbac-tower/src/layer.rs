//! `RbacLayer`: configuration and `Layer::layer`.

use std::sync::Arc;

use rbac_core::{Authenticate, Requirement};
use tower::Layer;

use crate::credential::CredentialSource;
use crate::reject::PlainRejection;
use crate::service::RbacService;

/// What the layer requires: a requirement, or a code the registry does not know, which
/// refuses every request (fail closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Need {
    Met(Requirement),
    UnknownCode(String),
}

/// The `rbac_authorization_decisions_total{outcome, privilege}` counters of one layer,
/// resolved once when its requirement is set, so a request only bumps a handle.
#[derive(Clone)]
pub(crate) struct Decisions {
    pub(crate) allowed: metrics::Counter,
    pub(crate) denied: metrics::Counter,
    pub(crate) unauthenticated: metrics::Counter,
}

impl Decisions {
    fn for_need(need: &Need, registry: &rbac_core::PrivilegeRegistry) -> Self {
        let codes = |ids: &[rbac_core::PrivilegeId], sep: &str| {
            ids.iter()
                .map(|id| registry.code(*id).unwrap_or("?"))
                .collect::<Vec<_>>()
                .join(sep)
        };
        let privilege = match need {
            Need::Met(Requirement::Authenticated) => "authenticated".to_string(),
            Need::Met(Requirement::One(id)) => codes(&[*id], ""),
            Need::Met(Requirement::AnyOf(ids)) => codes(ids, "|"),
            Need::Met(Requirement::AllOf(ids)) => codes(ids, "+"),
            Need::UnknownCode(code) => code.clone(),
        };
        let counter = |outcome: &'static str| {
            metrics::counter!(
                "rbac_authorization_decisions_total",
                "outcome" => outcome,
                "privilege" => privilege.clone()
            )
        };
        Decisions {
            allowed: counter("allowed"),
            denied: counter("denied"),
            unauthenticated: counter("unauthenticated"),
        }
    }
}

/// Authenticates requests, checks a privilege requirement, and puts the
/// [`rbac_core::Principal`] in the request extensions.
///
/// Decisions are counted in `rbac_authorization_decisions_total{outcome, privilege}` by
/// the `metrics` recorder installed when the layer's requirement was set (none: no-op).
#[derive(Clone)]
pub struct RbacLayer<R = PlainRejection> {
    pub(crate) auth: Arc<dyn Authenticate>,
    pub(crate) sources: Arc<[CredentialSource]>,
    pub(crate) need: Need,
    pub(crate) decisions: Decisions,
    pub(crate) renderer: R,
}

impl<R> std::fmt::Debug for RbacLayer<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RbacLayer")
            .field("sources", &self.sources)
            .field("need", &self.need)
            .finish_non_exhaustive()
    }
}

impl RbacLayer<PlainRejection> {
    /// A layer authenticating through `auth` (an `Authorizer` for tokens, an `Rbac` for
    /// tokens and passwords), reading `Authorization: Bearer`, requiring authentication
    /// only, rendering refusals as plain 401/403.
    pub fn new<A: Authenticate + 'static>(auth: Arc<A>) -> Self {
        let need = Need::Met(Requirement::Authenticated);
        let decisions = Decisions::for_need(&need, auth.authorizer().registry());
        RbacLayer {
            auth,
            sources: Arc::from(vec![CredentialSource::Bearer]),
            need,
            decisions,
            renderer: PlainRejection,
        }
    }
}

impl<R> RbacLayer<R> {
    /// Reads credentials from these sources, first match wins.
    pub fn sources(mut self, sources: impl IntoIterator<Item = CredentialSource>) -> Self {
        self.sources = sources.into_iter().collect::<Vec<_>>().into();
        self
    }

    /// Renders refusals with a surface's renderer.
    pub fn renderer<R2>(self, renderer: R2) -> RbacLayer<R2> {
        RbacLayer {
            auth: self.auth,
            sources: self.sources,
            need: self.need,
            decisions: self.decisions,
            renderer,
        }
    }

    /// Requires a requirement.
    pub fn require(self, requirement: Requirement) -> Self {
        self.with_need(Need::Met(requirement))
    }

    fn with_need(mut self, need: Need) -> Self {
        self.decisions = Decisions::for_need(&need, self.auth.authorizer().registry());
        self.need = need;
        self
    }

    /// Requires authentication only.
    pub fn authenticated(self) -> Self {
        self.require(Requirement::Authenticated)
    }

    /// Requires one privilege code (`Null` = authentication only).
    pub fn require_code(self, code: &str) -> Self {
        if code == rbac_core::NULL_PRIVILEGE {
            return self.authenticated();
        }
        self.codes(&[code], |ids| Requirement::One(ids[0]))
    }

    /// Requires at least one of these codes.
    pub fn any_of(self, codes: &[&str]) -> Self {
        self.codes(codes, Requirement::AnyOf)
    }

    /// Requires every one of these codes.
    pub fn all_of(self, codes: &[&str]) -> Self {
        self.codes(codes, Requirement::AllOf)
    }

    fn codes(
        self,
        codes: &[&str],
        make: impl FnOnce(Vec<rbac_core::PrivilegeId>) -> Requirement,
    ) -> Self {
        let registry = self.auth.authorizer().registry().clone();
        let mut ids = Vec::with_capacity(codes.len());
        for code in codes {
            match registry.id(code) {
                Some(id) => ids.push(id),
                None => {
                    tracing::error!(
                        code,
                        "route requires an unknown privilege code; refusing all requests"
                    );
                    return self.with_need(Need::UnknownCode((*code).to_string()));
                }
            }
        }
        let need = if ids.is_empty() {
            Need::UnknownCode(String::new())
        } else {
            Need::Met(make(ids))
        };
        self.with_need(need)
    }
}

impl<S, R: Clone> Layer<S> for RbacLayer<R> {
    type Service = RbacService<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        RbacService {
            inner,
            layer: Arc::new(self.clone()),
        }
    }
}
