//! `RbacLayer`: configuration and `Layer::layer`.

use std::sync::Arc;

use rbac_core::{Authenticate, Authorize, Requirement};

use crate::credential::CredentialSource;
use crate::reject::PlainRejection;

/// A route named a privilege code the registry does not know (a misspelling, or a code
/// the application never declared): an error when the layer is built, never a silent
/// deny at request time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPrivilege {
    /// The code as the route named it (empty: no code was named).
    pub code: String,
}

impl std::fmt::Display for UnknownPrivilege {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.code.is_empty() {
            f.write_str("RbacLayer: a route requires any or all of no privilege codes")
        } else {
            write!(
                f,
                "RbacLayer: a route requires the unknown privilege code `{}` \
                 (declare it in the privilege registry, or fix its spelling)",
                self.code
            )
        }
    }
}

impl std::error::Error for UnknownPrivilege {}

/// What [`RbacLayer::new`] authenticates and checks through: `&Rbac` (tokens, passwords and
/// API keys), or an `Arc<Authorizer>` (tokens and API keys). An application's own
/// verifier (OIDC, mTLS, …) replaces the first with
/// [`authenticate_with`](RbacLayer::authenticate_with), or both come apart through
/// [`RbacLayer::from_parts`].
pub trait IntoAuthenticate {
    /// The authenticator and the privilege checker, shared by every clone of the layer.
    fn into_parts(self) -> (Arc<dyn Authenticate>, Arc<dyn Authorize>);
}

impl IntoAuthenticate for Arc<rbac_core::Authorizer> {
    fn into_parts(self) -> (Arc<dyn Authenticate>, Arc<dyn Authorize>) {
        (self.clone(), self)
    }
}

impl IntoAuthenticate for &rbac_core::Rbac {
    fn into_parts(self) -> (Arc<dyn Authenticate>, Arc<dyn Authorize>) {
        (Arc::new(self.clone()), self.authorizer().clone())
    }
}

/// What a route requires: a [`Requirement`], or one privilege code by name, resolved
/// against the registry when the layer is built.
pub trait IntoRequirement {
    /// The requirement, or the code the registry does not know.
    fn into_requirement(
        self,
        registry: &rbac_core::PrivilegeRegistry,
    ) -> Result<Requirement, UnknownPrivilege>;
}

impl IntoRequirement for Requirement {
    fn into_requirement(
        self,
        _registry: &rbac_core::PrivilegeRegistry,
    ) -> Result<Requirement, UnknownPrivilege> {
        Ok(self)
    }
}

impl IntoRequirement for &str {
    fn into_requirement(
        self,
        registry: &rbac_core::PrivilegeRegistry,
    ) -> Result<Requirement, UnknownPrivilege> {
        registry
            .id(self)
            .map(Requirement::One)
            .ok_or_else(|| UnknownPrivilege {
                code: self.to_string(),
            })
    }
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
    fn for_need(need: &Requirement, registry: &rbac_core::PrivilegeRegistry) -> Self {
        let codes = |ids: &[rbac_core::PrivilegeId], sep: &str| {
            ids.iter()
                .map(|id| registry.code(*id).unwrap_or("?"))
                .collect::<Vec<_>>()
                .join(sep)
        };
        let privilege = match need {
            Requirement::Authenticated => "authenticated".to_string(),
            Requirement::One(id) => codes(&[*id], ""),
            Requirement::AnyOf(ids) => codes(ids, "|"),
            Requirement::AllOf(ids) => codes(ids, "+"),
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
    pub(crate) check: Arc<dyn Authorize>,
    pub(crate) sources: Arc<[CredentialSource]>,
    pub(crate) need: Requirement,
    /// Where the requirement holds: everywhere (`None`), or the scope read from the request.
    pub(crate) scope: Option<crate::scope::ScopeSource>,
    pub(crate) decisions: Decisions,
    pub(crate) factors: FactorRule,
    pub(crate) renderer: R,
}

/// What a route asks of the factors behind a credential.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FactorRule {
    /// The session proved a second factor.
    pub(crate) second_factor: bool,
    /// Its factors were proven within this many seconds.
    pub(crate) fresh_within: Option<i64>,
    /// The two above apply only to users with a second factor enrolled.
    pub(crate) when_enrolled: bool,
    /// Reachable by users whose role requires a second factor they have not enrolled.
    pub(crate) enrolment: bool,
}

impl FactorRule {
    /// Why `principal` may not reach this route before enrolling a second factor its role
    /// requires, if it may not (checked before privileges: enrolling is what it must do).
    pub(crate) fn enrolment_refusal(
        &self,
        principal: &rbac_core::Principal,
    ) -> Option<rbac_core::Error> {
        (principal.enrolment_required && !self.enrolment)
            .then_some(rbac_core::Error::EnrolmentRequired)
    }

    /// Why `principal`'s factors do not do for this route, if they do not (checked after
    /// privileges: a caller without the privilege is not asked to prove more).
    pub(crate) fn step_up_refusal(
        &self,
        principal: &rbac_core::Principal,
    ) -> Option<rbac_core::Error> {
        if self.when_enrolled && !principal.second_factor_enrolled {
            return None;
        }
        let within = self.fresh_within;
        if self.second_factor && !principal.factors.has_second_factor() {
            return Some(rbac_core::Error::StepUpRequired { within });
        }
        if let Some(secs) = within {
            if rbac_core::now().saturating_sub(principal.verified_at) > secs {
                return Some(rbac_core::Error::StepUpRequired { within });
            }
        }
        None
    }
}

impl<R> std::fmt::Debug for RbacLayer<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RbacLayer")
            .field("sources", &self.sources)
            .field("need", &self.need)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl RbacLayer<PlainRejection> {
    /// A layer authenticating through `auth` (an `Authorizer` for tokens, an `Rbac` for
    /// tokens and passwords), reading `Authorization: Bearer`, requiring authentication
    /// only, rendering refusals as plain 401/403.
    pub fn new(auth: impl IntoAuthenticate) -> Self {
        let (auth, check) = auth.into_parts();
        Self::from_parts(auth, check)
    }

    /// A layer authenticating through `auth` and checking privileges through `check`
    /// (otherwise as [`new`](Self::new)).
    pub fn from_parts(auth: Arc<dyn Authenticate>, check: Arc<dyn Authorize>) -> Self {
        let need = Requirement::Authenticated;
        let decisions = Decisions::for_need(&need, check.registry());
        RbacLayer {
            auth,
            check,
            sources: Arc::from(vec![CredentialSource::Bearer]),
            need,
            scope: None,
            decisions,
            factors: FactorRule::default(),
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

    /// Authenticates through an application's own verifier (OIDC, mTLS, …); privileges
    /// are still checked by the checker the layer was made with.
    pub fn authenticate_with(mut self, verifier: impl Authenticate + 'static) -> Self {
        self.auth = Arc::new(verifier);
        self
    }

    /// Renders refusals with a surface's renderer.
    pub fn renderer<R2>(self, renderer: R2) -> RbacLayer<R2> {
        RbacLayer {
            auth: self.auth,
            check: self.check,
            sources: self.sources,
            need: self.need,
            scope: self.scope,
            decisions: self.decisions,
            factors: self.factors,
            renderer,
        }
    }

    /// Requires a privilege code (`layer.require("ArticleRead")`) or any [`Requirement`].
    ///
    /// # Panics
    /// When the registry does not know the code, naming it (see
    /// [`try_require_code`](Self::try_require_code) for the fallible form).
    pub fn require(self, need: impl IntoRequirement) -> Self {
        let requirement = need
            .into_requirement(self.check.registry())
            .unwrap_or_else(|e| panic!("{e}"));
        self.with_need(requirement)
    }

    fn with_need(mut self, need: Requirement) -> Self {
        self.decisions = Decisions::for_need(&need, self.check.registry());
        self.need = need;
        self
    }

    /// Checks the requirement within the scope the request acts in, read from `source` (a
    /// path segment, a header, or a function of the request head): the principal's global
    /// roles count, and those assigned in that scope or one of its ancestors. A request
    /// whose scope cannot be read is refused as missing the privilege (fail closed). The
    /// scope checked goes in the request extensions as [`CheckedScope`](crate::CheckedScope).
    pub fn in_scope(mut self, source: crate::scope::ScopeSource) -> Self {
        self.scope = Some(source);
        self
    }

    /// Requires a session whose login proved a second factor (a TOTP code, a recovery code
    /// or a passkey); others are refused as [`Rejection::StepUpRequired`](crate::Rejection).
    pub fn second_factor(mut self) -> Self {
        self.factors.second_factor = true;
        self
    }

    /// Requires the session's factors to have been proven within `within` (for resetting
    /// another user's password, changing grants, deleting users); others are refused as
    /// [`Rejection::StepUpRequired`](crate::Rejection) naming the window.
    pub fn fresh_within(mut self, within: std::time::Duration) -> Self {
        self.factors.fresh_within = Some(i64::try_from(within.as_secs()).unwrap_or(i64::MAX));
        self
    }

    /// Applies [`second_factor`](Self::second_factor) and
    /// [`fresh_within`](Self::fresh_within) only to users who have a second factor
    /// enrolled: those without one pass as before.
    pub fn when_enrolled(mut self) -> Self {
        self.factors.when_enrolled = true;
        self
    }

    /// Marks an enrolment route (and logout): reachable by users whose role requires a
    /// second factor they have not enrolled yet. Every other route refuses them as
    /// [`Rejection::EnrolmentRequired`](crate::Rejection).
    pub fn enrolment(mut self) -> Self {
        self.factors.enrolment = true;
        self
    }

    /// Requires authentication only.
    pub fn authenticated(self) -> Self {
        self.require(Requirement::Authenticated)
    }

    /// Requires one privilege code ([`authenticated`](Self::authenticated) requires none).
    ///
    /// # Panics
    /// When the registry does not know the code (a misspelling): the panic names it, as
    /// axum's router does for conflicting routes. [`try_require_code`](Self::try_require_code)
    /// returns the error instead.
    pub fn require_code(self, code: &str) -> Self {
        self.try_require_code(code)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`require_code`](Self::require_code), returning an unknown code as an error.
    pub fn try_require_code(self, code: &str) -> Result<Self, UnknownPrivilege> {
        self.codes(&[code], |ids| Requirement::One(ids[0]))
    }

    /// Requires at least one of these codes (panics on an unknown code, as
    /// [`require_code`](Self::require_code)).
    pub fn any_of(self, codes: &[&str]) -> Self {
        self.codes(codes, Requirement::AnyOf)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Requires every one of these codes (panics on an unknown code, as
    /// [`require_code`](Self::require_code)).
    pub fn all_of(self, codes: &[&str]) -> Self {
        self.codes(codes, Requirement::AllOf)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn codes(
        self,
        codes: &[&str],
        make: impl FnOnce(Vec<rbac_core::PrivilegeId>) -> Requirement,
    ) -> Result<Self, UnknownPrivilege> {
        let registry = self.check.registry();
        let mut ids = Vec::with_capacity(codes.len());
        for code in codes {
            match registry.id(code) {
                Some(id) => ids.push(id),
                None => {
                    return Err(UnknownPrivilege {
                        code: (*code).to_string(),
                    })
                }
            }
        }
        if ids.is_empty() {
            return Err(UnknownPrivilege {
                code: String::new(),
            });
        }
        Ok(self.with_need(make(ids)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rbac_core::{
        Authorizer, AuthorizerConfig, JwtCodec, JwtKey, MemoryStore, PrivilegeRegistry,
    };

    use super::*;

    fn layer() -> RbacLayer {
        let jwt = Arc::new(JwtCodec::new(
            JwtKey::from_secret("a secret of at least 32 bytes!!!"),
            [],
        ));
        RbacLayer::new(Arc::new(Authorizer::new(
            Arc::new(MemoryStore::new()),
            Arc::new(PrivilegeRegistry::new(
                rbac_core::AdminPrivileges::default().codes(),
            )),
            jwt,
            &AuthorizerConfig::default(),
        )))
    }

    #[test]
    fn a_declared_code_builds() {
        let built = layer().try_require_code("UserAccess");
        assert!(built.is_ok());
        let _ = layer().any_of(&["UserAccess", "UserEdit"]);
        let _ = layer().all_of(&["UserAccess", "UserEdit"]);
    }

    #[test]
    fn a_misspelled_code_is_an_error_when_the_layer_is_built() {
        let err = layer()
            .try_require_code("UserAcess")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("`UserAcess`"), "{err}");
    }

    #[test]
    #[should_panic(expected = "unknown privilege code `UserEdt`")]
    fn require_code_panics_naming_the_code() {
        let _ = layer().require_code("UserEdt");
    }

    #[test]
    #[should_panic(expected = "unknown privilege code `Nope`")]
    fn any_of_panics_naming_the_code() {
        let _ = layer().any_of(&["UserAccess", "Nope"]);
    }
}
