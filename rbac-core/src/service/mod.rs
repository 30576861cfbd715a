//! The use-cases, composed: [`Rbac`], its builder, and the facets that carry the calls
//! (`rbac.users()`, `.roles()`, `.assignments()`, `.sessions()`, `.factors()`, `.keys()`,
//! `.audit()`), with the inputs and outputs of every use-case. The use-cases themselves
//! live with their capability (authentication, administration, second factors, keys,
//! codes, audit), and which of them need a fresh second factor is decided here, once.
//!
//! [`Rbac`] is the one handle surfaces call. Each call checks its own rules (privileges,
//! uniqueness, grantability, the built-in admin), writes through the store with its audit
//! entry and changes in one transaction, and applies the changes to this process's caches
//! before it returns, so the very next request sees them.
//!
//! ```
//! # async fn run() -> Result<(), rbac_core::Error> {
//! use rbac_core::service::UserInput;
//! use rbac_core::{MemoryStore, Rbac};
//!
//! # let config = rbac_core::RbacConfig { hasher: rbac_core::HasherConfig { memory_kib: 64, iterations: 1, parallelism: 1, ..Default::default() }, ..Default::default() };
//! let rbac = Rbac::builder(MemoryStore::new())
//!     .secret("at least 32 bytes of signing secret")
//!     .privileges(["RecordRead", "RecordWrite"])
//! #   .config(config)
//!     .build()
//!     .await?;
//! let system = rbac.system().await?;
//! rbac.roles().define(&system, "nurse", ["RecordRead"], Vec::<&str>::new()).await?;
//! let user = UserInput { name: "house".into(), password: "House-password-1".into(), ..Default::default() };
//! rbac.users().create(Some(&system), user).await?;
//! rbac.assignments().assign(&system, "house", "nurse", None).await?;
//! let held = rbac.assignments().of_user(&system, "house").await?;
//! assert_eq!(held.len(), 1);
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```

mod builder;
pub(crate) mod rbac;
pub(crate) mod step_up;

use std::sync::Arc;
use std::time::Duration;

pub use crate::admin::assignments::HeldRole;
pub use crate::admin::assignments_facet::Assignments;
pub use crate::admin::inclusion::MAX_INCLUDED;
pub use crate::admin::listing::{Rows, CHUNK, FIRST_CHUNK};
pub use crate::admin::operator::{is_supported_hash, ImportOutcome, ImportedUser};
pub use crate::admin::registration::Member;
#[cfg(feature = "codes")]
pub use crate::admin::registration::Registration;
pub use crate::admin::roles::{InquiryTarget, RoleUpdate};
pub use crate::admin::roles_facet::Roles;
pub use crate::admin::users::{UserEdit, UserInput, UserView};
pub use crate::admin::users_facet::Users;
pub(crate) use crate::admin::vocabulary::AdminPrivileges;
pub use crate::audit::facet::Audit;
pub use crate::audit::{as_data, AuditFilter};
pub use crate::authn::accounts::{LoginInput, LoginOutcome, Token};
pub use crate::authn::activity::{Hourly, LoginActivity, ACTIVITY_HOURS};
pub use crate::authn::challenge::{Challenge, LoginStep, SecondFactorInput};
pub use crate::authn::facet::Sessions;
pub use crate::authn::limits::AbuseLimits;
#[cfg(feature = "codes")]
pub use crate::authn::limits::Channel;
pub use crate::authn::sessions::{SessionView, SESSIONS_LISTED};
pub use crate::authn::throttle::{account_key, LoginThrottle};
pub use crate::authz::authorizer::{SYSTEM_NAME, SYSTEM_USER_ID};
#[cfg(feature = "codes")]
pub use crate::codes::{CodePolicy, CodeProof, Codes};
pub use crate::factors::facet::SecondFactors;
#[cfg(feature = "passkeys")]
pub use crate::factors::passkey_login::{PasskeyOptions, PasskeyView};
pub use crate::factors::second_factor::SecondFactorStatus;
#[cfg(feature = "totp")]
pub use crate::factors::second_factor::TotpEnrolment;
#[cfg(feature = "api-keys")]
pub use crate::keys::facet::{Keys, NewApiKey, API_KEY_CHARS, API_SECRET_CHARS};
pub use builder::RbacBuilder;
pub(crate) use step_up::Sensitive;

use crate::authn::password::{HasherConfig, PasswordHasher};
use crate::authn::token::JwtCodec;
use crate::authz::authorizer::{Authorizer, AuthorizerConfig, Principal};
use crate::authz::privilege::PrivilegeRegistry;
use crate::error::Result;
use crate::model::{AuditCategory, Journal, NewAudit, Page};
use crate::notify::Senders;
use crate::store::Store;

pub(crate) use rbac::{Rbac, RbacConfig, ADMIN};
pub use rbac::{SystemRole, JWT_SECRET_SETTING};

/// A random URL-safe string of `bytes` random bytes (base64, no padding).
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

pub use crate::admin::validate;
