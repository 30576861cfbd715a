//! [`RbacBuilder`]: an [`Rbac`] for an application's own vocabulary in a few lines.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{AdminPrivileges, Rbac, RbacConfig};
use crate::authn::token::{JwtCodec, JwtKey};
use crate::authz::privilege::PrivilegeRegistry;
use crate::authz::scope::ScopeKinds;
use crate::error::{Error, Result};
use crate::notify::Senders;
use crate::secrets::SecretsKey;
use crate::store::Store;

/// Builds an [`Rbac`] from a store, a signing secret and the privilege codes the
/// application declares. The library's administrative codes ([`AdminPrivileges`]: who may
/// create users, grant roles, …) are declared with them, and the `admin` role holds every
/// code; [`admin_privileges`](Self::admin_privileges) maps them onto the application's own.
/// It seeds nothing but the `admin` role and, only with
/// [`admin_password`](Self::admin_password), the `admin` user. The methods compose in any
/// order: none replaces what another set.
///
/// ```
/// # async fn demo() -> Result<(), rbac_core::Error> {
/// use rbac_core::{AdminPrivileges, MemoryStore, Rbac};
///
/// let rbac = Rbac::builder(MemoryStore::new())
///     .secret("a signing secret of at least 32 bytes")
///     .privileges(["ArticleRead", "ArticlePublish", "DeskAdmin"])
///     .admin_privileges(AdminPrivileges::all("DeskAdmin"))
///     .scope_kinds(["org", "desk"])
///     .build()
///     .await?;
/// let registry = rbac.authorizer().registry();
/// assert!(registry.id("ArticleRead").is_some());
/// assert!(registry.id("UserAdd").is_none(), "administration is DeskAdmin here");
/// // Seeding as the system: no password, no login.
/// let system = rbac.system().await?;
/// rbac.roles().create(&system, "reporter", "").await?;
/// rbac.roles().grant(&system, "reporter", ["ArticleRead"]).await?;
/// # Ok(()) }
/// ```
pub struct RbacBuilder {
    store: Arc<dyn Store>,
    secret: Option<Vec<u8>>,
    previous_secrets: Vec<Vec<u8>>,
    privileges: Vec<String>,
    admin_password: Option<String>,
    config: RbacConfig,
    admin: Option<AdminPrivileges>,
    scope_kinds: Option<ScopeKinds>,
    step_up: Option<Duration>,
    secrets: Option<Secrets>,
    roles: Vec<RoleDefinition>,
    senders: Option<Senders>,
}

/// A role the builder defines as the system: its privileges and the roles it includes.
struct RoleDefinition {
    name: String,
    privileges: Vec<String>,
    includes: Vec<String>,
}

/// Where the secrets key comes from.
enum Secrets {
    Key(SecretsKey),
    File(PathBuf),
}

impl RbacBuilder {
    /// A builder over `store` with the defaults ([`Rbac::builder`]).
    pub(crate) fn over(store: Arc<dyn Store>) -> RbacBuilder {
        RbacBuilder {
            store,
            secret: None,
            previous_secrets: Vec::new(),
            privileges: Vec::new(),
            admin_password: None,
            config: RbacConfig {
                system_roles: Vec::new(),
                ..RbacConfig::default()
            },
            admin: None,
            scope_kinds: None,
            step_up: None,
            secrets: None,
            roles: Vec::new(),
            senders: None,
        }
    }

    /// The secret tokens are signed with (at least 32 bytes).
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secret = Some(secret.as_ref().to_vec());
        self
    }

    /// Secrets tokens signed earlier still verify with (key rotation).
    pub fn previous_secrets<I, K>(mut self, secrets: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        self.previous_secrets = secrets.into_iter().map(|s| s.as_ref().to_vec()).collect();
        self
    }

    /// The privilege codes the application checks (the registry holds these and the
    /// administrative codes).
    pub fn privileges<I, S>(mut self, codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.privileges = codes.into_iter().map(|c| c.as_ref().to_string()).collect();
        self
    }

    /// The codes the administrative use-cases check (default: `UserAccess`, `UserAdd`, …;
    /// [`AdminPrivileges::all`] puts all of them under one code of the application).
    pub fn admin_privileges(mut self, admin: AdminPrivileges) -> Self {
        self.admin = Some(admin);
        self
    }

    /// The scope kinds role assignments may name (`org`, `desk`, …); any other kind is
    /// refused.
    pub fn scope_kinds<I, S>(mut self, kinds: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let kinds: Vec<String> = kinds.into_iter().map(|k| k.as_ref().to_string()).collect();
        self.scope_kinds = Some(ScopeKinds::new(kinds.iter().map(String::as_str)));
        self
    }

    /// How recently an actor with a second factor must have proven one to perform a
    /// [`Sensitive`](super::Sensitive) use-case (default 15 minutes).
    pub fn step_up(mut self, window: Duration) -> Self {
        self.step_up = Some(window);
        self
    }

    /// The key sealing second-factor secrets.
    pub fn secrets_key(mut self, key: SecretsKey) -> Self {
        self.secrets = Some(Secrets::Key(key));
        self
    }

    /// The key sealing second-factor secrets, kept in the file at `path`: a missing file
    /// is created with a new key, readable by its owner only. Keep it (and back it up):
    /// without it, enrolled second factors cannot be read.
    pub fn secrets_key_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.secrets = Some(Secrets::File(path.into()));
        self
    }

    /// Defines the role `name` when built, as the system, holding exactly `privileges`
    /// (see [`Roles::define`](super::Roles::define): it converges on every start, so
    /// editing the list and restarting edits the role).
    pub fn role<P, S>(self, name: &str, privileges: P) -> Self
    where
        P: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.role_including(name, privileges, Vec::<String>::new())
    }

    /// [`role`](Self::role) that also includes the roles `includes` (defined earlier, or
    /// already in the store): it confers theirs too.
    pub fn role_including<P, S, R, T>(mut self, name: &str, privileges: P, includes: R) -> Self
    where
        P: IntoIterator<Item = S>,
        S: AsRef<str>,
        R: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.roles.push(RoleDefinition {
            name: name.to_string(),
            privileges: privileges
                .into_iter()
                .map(|p| p.as_ref().to_string())
                .collect(),
            includes: includes
                .into_iter()
                .map(|r| r.as_ref().to_string())
                .collect(),
        });
        self
    }

    /// Where codes and notices are sent (SMS, e-mail); by default, to the log.
    pub fn senders(mut self, senders: Senders) -> Self {
        self.senders = Some(senders);
        self
    }

    /// Creates the `admin` user with this password when the store has none.
    pub fn admin_password(mut self, password: impl Into<String>) -> Self {
        self.admin_password = Some(password.into());
        self
    }

    /// Settings beyond the defaults (token lifetime, hashing, throttling, …); its
    /// system roles are the application's. What the other methods set
    /// (scope kinds, step-up window, administrative codes, secrets key, senders) wins over it,
    /// whichever is called first.
    pub fn config(mut self, config: RbacConfig) -> Self {
        self.config = config;
        self
    }

    /// Builds the services, loads the roles, seeds the `admin` role (and user, when a
    /// password was given) and defines the roles given with [`role`](Self::role). Refuses a missing or short secret and an empty vocabulary.
    pub async fn build(self) -> Result<Rbac> {
        let secret = self.secret.ok_or_else(|| {
            Error::invalid(
                "secret",
                "a signing secret is required: call .secret(...) on the builder",
            )
        })?;
        if secret.len() < 32 {
            return Err(Error::invalid("secret", "must be at least 32 bytes"));
        }
        if self.privileges.is_empty() {
            return Err(Error::invalid(
                "privileges",
                "declare the privilege codes the application checks with .privileges([...])",
            ));
        }
        let mut config = self.config;
        if let Some(admin) = self.admin {
            config.admin = admin;
        }
        if let Some(kinds) = self.scope_kinds {
            config.scope_kinds = kinds;
        }
        if let Some(window) = self.step_up {
            config.step_up = window;
        }
        if let Some(senders) = self.senders {
            config.senders = senders;
        }
        match self.secrets {
            Some(Secrets::Key(key)) => config.secrets_key = Some(key),
            Some(Secrets::File(path)) => {
                let key = SecretsKey::read_or_create_file(&path)
                    .map_err(|e| Error::invalid("secrets_key_file", e.to_string()))?;
                config.secrets_key = Some(key);
            }
            None => {}
        }
        let mut codes = self.privileges;
        for code in config.admin.codes() {
            if !codes.iter().any(|c| c == code) {
                codes.push(code.to_string());
            }
        }
        let jwt = JwtCodec::new(
            JwtKey::from_secret(secret),
            self.previous_secrets.into_iter().map(JwtKey::from_secret),
        );
        let registry = Arc::new(PrivilegeRegistry::new(&codes));
        let rbac = Rbac::new(self.store, registry, jwt, config).await?;
        rbac.system_roles()
            .seed(self.admin_password.as_deref(), false)
            .await?;
        if !self.roles.is_empty() {
            let system = rbac.system().await?;
            for role in &self.roles {
                rbac.roles()
                    .define(&system, &role.name, &role.privileges, &role.includes)
                    .await?;
            }
        }
        Ok(rbac)
    }
}
