//! The services over one store: [`Rbac`], its settings, and the changes a write applies to
//! this process's caches.

use super::*;
use crate::admin::bootstrap::SystemRoles;
use crate::admin::containment::Containment;
use crate::authn::limits::Limits;
use crate::error::{Entity, Error};
use crate::model::{now, Assignment, Change, Role, Scope, User};

pub use crate::authz::authorizer::ADMIN;

/// A role the application seeds at bootstrap and finds by its stable key, never by its
/// name: a renamed role cannot take a system role's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemRole {
    /// The stable key stored with the role.
    pub key: &'static str,
    /// The name it is created with (reserved: no other role may take it).
    pub name: &'static str,
    /// Its description.
    pub remark: &'static str,
    /// The privileges it is created with.
    pub privileges: &'static [&'static str],
}

/// Setting key of the generated JWT secret.
pub const JWT_SECRET_SETTING: &str = "jwt_secret";

/// Settings of the use-cases.
#[derive(Debug, Clone)]
pub struct RbacConfig {
    /// Lifetime of an issued JWT session.
    pub token_ttl: Duration,
    /// Password hashing.
    pub hasher: HasherConfig,
    /// Caches.
    pub cache: AuthorizerConfig,
    /// The version string login reports.
    pub version: String,
    /// Failed-login throttling per account and per client address.
    pub throttle: LoginThrottle,
    /// Hourly limits on unauthenticated work (sign-ups, codes).
    pub limits: AbuseLimits,
    /// Verification codes.
    #[cfg(feature = "codes")]
    pub codes: CodePolicy,
    /// The roles bootstrap seeds under stable keys, besides `admin` (what registration
    /// paths assign); none by default.
    pub system_roles: Vec<SystemRole>,
    /// The privilege codes the administrative use-cases check.
    pub admin: AdminPrivileges,
    /// The most roles one user may hold (global and scoped assignments together).
    pub assignment_cap: usize,
    /// The scope kinds assignments may name (none by default: roles hold everywhere).
    pub scope_kinds: crate::authz::scope::ScopeKinds,
    /// Where codes and notices are sent (SMS, e-mail); by default, to the log.
    pub senders: Senders,
    /// The key sealing second-factor secrets (none: second factors cannot be enrolled).
    pub secrets_key: Option<crate::secrets::SecretsKey>,
    /// The issuer an authenticator app shows beside TOTP codes.
    pub totp_issuer: String,
    /// How long a login's second-factor challenge stays open.
    pub challenge_ttl: Duration,
    /// How recent a session's login must be to begin enrolling a second factor without
    /// giving the password again.
    pub enrolment_window: Duration,
    /// How recently an actor with a second factor must have proven one to perform a
    /// [`Sensitive`] use-case (actors without one are not asked).
    pub step_up: Duration,
    /// The relying party passkeys are bound to (none: passkeys cannot be registered).
    pub relying_party: Option<crate::factors::passkeys::RelyingParty>,
}

impl Default for RbacConfig {
    fn default() -> Self {
        RbacConfig {
            token_ttl: Duration::from_secs(12 * 3600),
            hasher: HasherConfig::default(),
            cache: AuthorizerConfig::default(),
            version: concat!("v", env!("CARGO_PKG_VERSION")).to_string(),
            throttle: LoginThrottle::default(),
            limits: AbuseLimits::default(),
            #[cfg(feature = "codes")]
            codes: CodePolicy::default(),
            system_roles: Vec::new(),
            admin: AdminPrivileges::default(),
            assignment_cap: 32,
            scope_kinds: crate::authz::scope::ScopeKinds::default(),
            senders: Senders::default(),
            secrets_key: None,
            totp_issuer: "rbac".to_string(),
            challenge_ttl: Duration::from_secs(300),
            enrolment_window: Duration::from_secs(600),
            step_up: Duration::from_secs(900),
            relying_party: None,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) authorizer: Arc<Authorizer>,
    pub(crate) hasher: PasswordHasher,
    pub(crate) config: RbacConfig,
    pub(crate) gate: Arc<crate::authn::throttle::LoginGate>,
    #[cfg(feature = "passkeys")]
    pub(crate) webauthn: Option<webauthn_rs::Webauthn>,
    pub(crate) activity: LoginActivity,
    pub(crate) unknown_names: crate::authn::noise::UnknownNameFailures,
}

/// The use-case services over one store.
#[derive(Clone)]
pub struct Rbac {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Rbac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rbac").finish_non_exhaustive()
    }
}

impl Rbac {
    /// Starts building an [`Rbac`] over `store` for the application's own privileges.
    pub fn builder<S: Store + 'static>(store: S) -> RbacBuilder {
        RbacBuilder::over(Arc::new(store))
    }

    /// Builds the services over `store` and loads the role snapshot (see [`Rbac::builder`]
    /// for the short way).
    pub async fn new(
        store: Arc<dyn Store>,
        registry: Arc<PrivilegeRegistry>,
        jwt: JwtCodec,
        config: RbacConfig,
    ) -> Result<Self> {
        let hasher = PasswordHasher::new(&config.hasher)?;
        #[cfg(feature = "passkeys")]
        let webauthn = match &config.relying_party {
            Some(rp) => Some(rp.verifier().map_err(crate::error::Error::BadRequest)?),
            None => None,
        };
        #[cfg(not(feature = "passkeys"))]
        if config.relying_party.is_some() {
            return Err(crate::error::Error::BadRequest(
                "a relying party is set but passkeys are not compiled in: enable rbac-core's `passkeys` feature".into(),
            ));
        }
        let authorizer = Authorizer::new(store.clone(), registry, Arc::new(jwt), &config.cache);
        #[cfg(feature = "api-keys")]
        let authorizer = authorizer.with_api_keys(store.clone());
        let authorizer = Arc::new(authorizer);
        authorizer.load_roles().await?;
        authorizer.load_scope_parents().await?;
        Ok(Rbac {
            inner: Arc::new(Inner {
                store,
                authorizer,
                hasher,
                config,
                gate: Arc::default(),
                activity: LoginActivity::default(),
                unknown_names: Default::default(),
                #[cfg(feature = "passkeys")]
                webauthn,
            }),
        })
    }

    /// Creates the built-in `admin` role (every privilege), the system roles and, on an
    /// empty store, the `admin` user with `password` (or a generated one, returned so it
    /// can be shown once). Safe to run from several instances at once.
    pub async fn bootstrap(&self, password: Option<&str>) -> Result<Option<String>> {
        self.system_roles().seed(password, true).await
    }

    /// The system itself, for seeding and migrations: it holds the `admin` role everywhere
    /// (every privilege), acts where the built-in admin may, is never asked for a second
    /// factor, and is audited as `system`. Only code holding the [`Rbac`] obtains it; no
    /// credential authenticates as it.
    pub async fn system(&self) -> Result<Principal> {
        self.system_roles().system().await
    }

    /// The authorizer (the hot path the tower layer uses).
    pub fn authorizer(&self) -> &Arc<Authorizer> {
        &self.inner.authorizer
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Logins and failed logins per hour on this instance, the last day (kept as they
    /// happen: reading it reads no log rows).
    pub(crate) fn login_activity(&self) -> Hourly {
        self.inner.activity.last_hours(crate::model::now())
    }

    /// The settings.
    pub fn config(&self) -> &RbacConfig {
        &self.inner.config
    }

    /// Verifies a token (a JWT or an opaque sliding token) and its session.
    pub(crate) async fn authenticate(&self, token: &str) -> Result<Principal> {
        self.inner.authorizer.authenticate_token(token).await
    }

    pub(crate) fn journal(
        &self,
        actor: Option<&Principal>,
        category: AuditCategory,
        content: String,
    ) -> Journal {
        Journal::audit(NewAudit {
            // The system is audited by name alone: no user has its id.
            user_id: actor
                .map(|a| a.user_id)
                .filter(|id| *id != crate::authz::authorizer::SYSTEM_USER_ID),
            user_name: actor.map_or_else(String::new, |a| a.user_name.to_string()),
            category,
            content,
            success: true,
        })
    }

    /// The application of `journal`'s changes to this process's caches after the store
    /// write that journals them ([`Applying::write`]): applied once the write succeeded; if
    /// the caller stops waiting first (a client went away, a timeout fired), applied anyway
    /// once the store has settled the abandoned write.
    pub(crate) fn applying(&self, journal: &Journal) -> Applying {
        Applying {
            armed: Some((
                self.inner.store.clone(),
                self.inner.authorizer.clone(),
                journal.changes.clone(),
            )),
        }
    }

    /// The user `actor` acts as, as stored now (`UserGone` once deleted).
    pub(crate) async fn actor_user(&self, actor: &Principal) -> Result<crate::model::User> {
        self.inner
            .store
            .user(actor.user_id)
            .await?
            .ok_or(crate::error::Error::Unauthenticated(
                crate::error::AuthFailure::UserGone,
            ))
    }

    /// Writes an operation-log entry on its own (a login attempt, which writes nothing else),
    /// and for a failure the security event, never failing the caller for it.
    pub(crate) async fn audit_alone(
        &self,
        user: Option<&User>,
        name: &str,
        content: String,
        success: bool,
        ip: &str,
    ) {
        // A failure of a name nobody holds gets an event once per address and minute (see
        // `noise`): anonymous noise cannot queue ahead of the events that matter.
        let folded = match user {
            Some(_) => Some(0),
            None if success => None,
            None => self.inner.unknown_names.fold(ip, now()),
        };
        if let (false, Some(folded)) = (success, folded) {
            let subject: String =
                user.map_or_else(|| name.chars().take(64).collect(), |u| u.name.clone());
            let detail = if folded > 0 {
                format!(
                    "{content} (and {folded} earlier failures of unknown names from this address)"
                )
            } else {
                content.clone()
            };
            let event =
                crate::events::NewEvent::new(crate::events::kind::LOGIN_FAILED, subject, "")
                    .from_ip(ip)
                    .detail(detail);
            if let Err(e) = self.inner.store.append_events(&[event]).await {
                tracing::warn!(error = %e, "security event append failed");
            }
        }
        let entry = NewAudit {
            user_id: user.map(|u| u.id),
            user_name: user.map_or_else(|| name.chars().take(64).collect(), |u| u.name.clone()),
            category: AuditCategory::Home,
            content,
            success,
        };
        if let Err(e) = self.inner.store.append_audit(&entry).await {
            tracing::warn!(error = %e, "audit append failed");
        }
    }

    /// The secrets key, or `NoSecretsKey`.
    pub(crate) fn secrets_key(&self) -> Result<&crate::secrets::SecretsKey> {
        self.inner
            .config
            .secrets_key
            .as_ref()
            .ok_or(Error::NoSecretsKey)
    }

    /// The role named `name`, `NotFound(Role)` if none.
    pub(crate) async fn role_named(&self, name: &str) -> Result<Role> {
        self.inner
            .store
            .role_by_name(name)
            .await?
            .ok_or(Error::NotFound(Entity::Role))
    }

    /// The user named `name`, `NotFound(User)` if none.
    pub(crate) async fn user_named(&self, name: &str) -> Result<User> {
        self.inner
            .store
            .user_by_name(name)
            .await?
            .ok_or(Error::NotFound(Entity::User))
    }

    /// Users with the names of the roles they hold everywhere.
    pub(crate) async fn views(&self, users: Vec<User>) -> Result<Vec<UserView>> {
        let names = self.role_names().await?;
        Ok(users
            .into_iter()
            .map(|user| UserView {
                role_names: user
                    .global_roles()
                    .filter_map(|r| names.get(&r).cloned())
                    .collect(),
                user,
            })
            .collect())
    }

    /// A user by id.
    pub(crate) async fn user_by_id(&self, id: i64) -> Result<User> {
        self.inner
            .store
            .user(id)
            .await?
            .ok_or(Error::NotFound(Entity::User))
    }

    /// Parses `kind:id` with a kind the application declared; anything else is an invalid
    /// `field`.
    pub(crate) fn parse_scope(&self, field: &'static str, text: &str) -> Result<Scope> {
        let scope =
            Scope::parse(text).ok_or_else(|| Error::invalid(field, "not a scope kind:id"))?;
        self.ensure_declared(field, &scope)?;
        Ok(scope)
    }

    /// Refuses a scope whose kind the application did not declare (`InvalidParam` on
    /// `field`, naming the builder's `.scope_kinds([...])`).
    pub(crate) fn ensure_declared(&self, field: &'static str, scope: &Scope) -> Result<()> {
        let kinds = &self.inner.config.scope_kinds;
        if kinds.declares(scope.kind()) {
            return Ok(());
        }
        let declared: Vec<&str> = kinds.kinds().iter().map(|k| k.as_str()).collect();
        Err(Error::invalid(
            field,
            format!(
                "the scope kind {} is not declared (declared: [{}]): declare it with \
                 .scope_kinds([...]) on the builder",
                scope.kind(),
                declared.join(", ")
            ),
        ))
    }

    /// Makes user `owner` the owner of scope `child`: it holds the system role `role_key`
    /// within its own scope `owner_scope` (one assignment however many scopes it owns), and
    /// `child` lies within `owner_scope`. A system action (no actor: the application grants
    /// ownership of what a user creates); idempotent.
    pub(crate) async fn own_scope(
        &self,
        owner: crate::model::UserId,
        role_key: &str,
        owner_scope: Scope,
        child: Scope,
    ) -> Result<()> {
        self.ensure_declared("scope", &owner_scope)?;
        self.ensure_declared("scope", &child)?;
        let role = self.system_roles().by_key(role_key).await?;
        let journal = crate::model::Journal::audit(crate::model::NewAudit {
            user_id: Some(owner),
            user_name: String::new(),
            category: AuditCategory::System,
            content: format!("user {owner} holds role {} within {owner_scope}", role.name),
            success: true,
        })
        .with(Change::User(owner));
        let assignment = Assignment::within(role.id, owner_scope);
        self.applying(&journal)
            .write(
                self.inner
                    .store
                    .assign_role(owner, assignment, self.assignment_cap(), &journal),
            )
            .await?;
        if self.inner.store.scope_parent(child).await? != Some(owner_scope) {
            self.assignments()
                .set_scope_parent(child, Some(owner_scope))
                .await?;
        }
        Ok(())
    }

    /// Checks one privilege code within a scope.
    pub(crate) fn require_in(&self, actor: &Principal, code: &str, scope: &Scope) -> Result<()> {
        let authorizer = &self.inner.authorizer;
        match authorizer.registry().id(code) {
            Some(id) if authorizer.check_in(actor, id, scope) => Ok(()),
            _ => Err(Error::Forbidden {
                missing: code.to_string(),
            }),
        }
    }

    pub(crate) fn require(&self, actor: &Principal, code: &str) -> Result<()> {
        self.inner.authorizer.require_code(actor, code)
    }

    /// The declared administrative privilege codes.
    pub(crate) fn admin(&self) -> &AdminPrivileges {
        &self.inner.config.admin
    }

    /// The most roles one user may hold.
    pub(crate) fn assignment_cap(&self) -> usize {
        self.inner.config.assignment_cap
    }

    /// Whether no role but a system role (or `admin`) may carry `name`.
    pub(crate) fn is_reserved_role_name(&self, name: &str) -> bool {
        name == ADMIN
            || self
                .inner
                .config
                .system_roles
                .iter()
                .any(|r| r.name == name)
    }

    pub(crate) fn holds(&self, actor: &Principal, code: &str) -> bool {
        self.require(actor, code).is_ok()
    }

    /// Every role, for rendering names (small; roles are few).
    pub(crate) async fn role_names(&self) -> Result<std::collections::HashMap<i64, String>> {
        let roles = self.inner.store.list_roles(Page::ALL).await?;
        Ok(roles.rows.into_iter().map(|r| (r.id, r.name)).collect())
    }
}

/// Changes to apply to this process's caches after a store write, even if the caller that
/// made the write stops waiting (see [`Rbac::applying`]).
#[must_use = "an armed application applies its changes when dropped"]
pub(crate) struct Applying {
    armed: Option<Pending>,
}

/// The store to wait for, the caches, and the changes to apply to them.
pub(crate) type Pending = (Arc<dyn Store>, Arc<Authorizer>, Vec<crate::model::Change>);

impl Applying {
    /// Waits for the store write `write`; once it succeeded, applies the changes. A write
    /// that failed changed nothing: nothing is applied.
    pub(crate) async fn write<T>(
        mut self,
        write: impl std::future::Future<Output = crate::store::StoreResult<T>>,
    ) -> crate::store::StoreResult<T> {
        let written = write.await;
        if written.is_ok() {
            if let Some((_, authorizer, changes)) = &self.armed {
                authorizer.apply_changes(changes).await;
            }
        }
        self.armed = None;
        written
    }
}

impl Drop for Applying {
    fn drop(&mut self) {
        let Some((store, authorizer, changes)) = self.armed.take() else {
            return;
        };
        if changes.is_empty() {
            return;
        }
        // Dropped before the write returned (or before its changes were applied): the
        // write ends on its own; apply once it has, whichever way it ended (re-reading is
        // right either way).
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                store.settled().await;
                authorizer.apply_changes(&changes).await;
            });
        }
    }
}

/// The facets: each capability's calls, borrowed from the one handle.
impl Rbac {
    /// Users: creating, editing, enabling, deleting, passwords, listing and imports.
    pub fn users(&self) -> Users<'_> {
        Users { rbac: self }
    }

    /// Roles: creating and defining, granting privileges, including roles, enabling.
    pub fn roles(&self) -> Roles<'_> {
        Roles { rbac: self }
    }

    /// Assignments: which roles users hold, globally or in a scope, and scope parents.
    pub fn assignments(&self) -> Assignments<'_> {
        Assignments { rbac: self }
    }

    /// Sessions: logging in and out, tokens, step-up, and ending sessions.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { rbac: self }
    }

    /// Second factors: TOTP, recovery codes and passkeys.
    pub fn factors(&self) -> SecondFactors<'_> {
        SecondFactors { rbac: self }
    }

    #[cfg(feature = "api-keys")]
    /// API keys, each owned by a user within a scope.
    pub fn keys(&self) -> Keys<'_> {
        Keys { rbac: self }
    }

    /// The audit trail, security events and their webhook deliveries.
    pub fn audit(&self) -> Audit<'_> {
        Audit { rbac: self }
    }

    #[cfg(feature = "codes")]
    /// One-time codes: issuing a code to an address and taking it back once.
    pub fn codes(&self) -> Codes<'_> {
        Codes { rbac: self }
    }

    /// Containment: whether a user or role lies within an actor.
    pub(crate) fn containment(&self) -> Containment<'_> {
        Containment { rbac: self }
    }

    /// The hourly limits on unauthenticated work.
    pub(crate) fn limits(&self) -> Limits<'_> {
        Limits { rbac: self }
    }

    /// Bootstrap and the system roles.
    pub(crate) fn system_roles(&self) -> SystemRoles<'_> {
        SystemRoles { rbac: self }
    }
}
