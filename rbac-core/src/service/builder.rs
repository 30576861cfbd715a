//! [`RbacBuilder`]: an [`Rbac`] for an application's own vocabulary in a few lines.

use std::sync::Arc;

use super::{Rbac, RbacConfig};
use crate::error::{Error, Result};
use crate::privilege::PrivilegeRegistry;
use crate::store::Store;
use crate::token::{JwtCodec, JwtKey};

/// Builds an [`Rbac`] from a store, a signing secret and the privilege codes the
/// application declares. It seeds nothing but the `admin` role (holding every declared
/// code) and, only with [`admin_password`](Self::admin_password), the `admin` user: no
/// other role, organisation or code of the bundled server's documents.
///
/// ```
/// # async fn demo() -> Result<(), rbac_core::Error> {
/// let rbac = rbac_core::Rbac::builder(rbac_core::MemoryStore::new())
///     .secret("a signing secret of at least 32 bytes")
///     .privileges(["ArticleRead", "ArticlePublish"])
///     .build()
///     .await?;
/// assert!(rbac.authorizer().registry().id("ArticleRead").is_some());
/// assert!(rbac.authorizer().registry().id("UserAdd").is_none());
/// # Ok(()) }
/// ```
pub struct RbacBuilder {
    store: Arc<dyn Store>,
    secret: Option<Vec<u8>>,
    previous_secrets: Vec<Vec<u8>>,
    privileges: Vec<String>,
    admin_password: Option<String>,
    config: RbacConfig,
}

impl Rbac {
    /// Starts building an [`Rbac`] over `store` for the application's own privileges.
    pub fn builder<S: Store + 'static>(store: S) -> RbacBuilder {
        RbacBuilder {
            store: Arc::new(store),
            secret: None,
            previous_secrets: Vec::new(),
            privileges: Vec::new(),
            admin_password: None,
            config: RbacConfig {
                organisations: Vec::new(),
                system_roles: Vec::new(),
                ..RbacConfig::default()
            },
        }
    }
}

impl RbacBuilder {
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

    /// The privilege codes the application checks (the registry holds exactly these).
    pub fn privileges<I, S>(mut self, codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.privileges = codes.into_iter().map(|c| c.as_ref().to_string()).collect();
        self
    }

    /// The scope kinds role assignments may name (`org`, `project`, …).
    pub fn scope_kinds<'a>(mut self, kinds: impl IntoIterator<Item = &'a str>) -> Self {
        self.config.scope_kinds = crate::scope::ScopeKinds::new(kinds);
        self
    }

    /// Creates the `admin` user with this password when the store has none.
    pub fn admin_password(mut self, password: impl Into<String>) -> Self {
        self.admin_password = Some(password.into());
        self
    }

    /// Settings beyond the defaults (token lifetime, hashing, throttling, …); its
    /// organisations and system roles are the application's.
    pub fn config(mut self, config: RbacConfig) -> Self {
        self.config = config;
        self
    }

    /// Builds the services, loads the roles and seeds the `admin` role (and user, when a
    /// password was given). Refuses a missing or short secret and an empty vocabulary.
    pub async fn build(self) -> Result<Rbac> {
        let secret = self
            .secret
            .ok_or_else(|| Error::invalid("secret", "a signing secret is required"))?;
        if secret.len() < 32 {
            return Err(Error::invalid("secret", "must be at least 32 bytes"));
        }
        if self.privileges.is_empty() {
            return Err(Error::invalid(
                "privileges",
                "declare the privilege codes the application checks",
            ));
        }
        let jwt = JwtCodec::new(
            JwtKey::from_secret(secret),
            self.previous_secrets.into_iter().map(JwtKey::from_secret),
        );
        let registry = Arc::new(PrivilegeRegistry::new(&self.privileges));
        let rbac = Rbac::new(self.store, registry, jwt, self.config).await?;
        rbac.seed(self.admin_password.as_deref(), false).await?;
        Ok(rbac)
    }
}
