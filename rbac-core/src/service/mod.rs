//! The use-cases: accounts, user admin, role admin and grants, audit queries.
//!
//! [`Rbac`] is the one handle surfaces call. Each method checks its own rules (privileges,
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

mod accounts;
mod activity;
mod assignments;
mod audit;
mod bootstrap;
mod builder;
mod challenge;
#[cfg(feature = "codes")]
mod codes;
mod containment;
mod facets;
mod inclusion;
mod limits;
mod listing;
mod named;
mod noise;
mod operator;
#[cfg(feature = "passkeys")]
mod passkeys;
mod passwords;
pub(crate) mod rbac;
mod registration;
mod roles;
mod second_factor;
mod sessions;
pub(crate) mod step_up;
mod system;
mod throttle;
mod users;
pub mod validate;
pub(crate) mod vocabulary;

use std::sync::Arc;
use std::time::Duration;

pub use accounts::{LoginInput, LoginOutcome, Token};
pub use activity::{Hourly, LoginActivity, ACTIVITY_HOURS};
pub use assignments::HeldRole;
pub use audit::{as_data, AuditFilter};
pub use builder::RbacBuilder;
pub use challenge::{Challenge, LoginStep, SecondFactorInput};
#[cfg(feature = "codes")]
pub use codes::{CodePolicy, CodeProof};
pub use facets::{Assignments, Audit, Roles, SecondFactors, Sessions, Users};
#[cfg(feature = "api-keys")]
pub use facets::{Keys, PROJECT_KEY_CHARS, PROJECT_SECRET_CHARS};
pub use inclusion::MAX_INCLUDED;
pub use limits::AbuseLimits;
#[cfg(feature = "codes")]
pub use limits::Channel;
pub use listing::{Rows, CHUNK, FIRST_CHUNK};
pub use operator::{is_supported_hash, ImportOutcome, ImportedUser};
#[cfg(feature = "passkeys")]
pub use passkeys::{PasskeyOptions, PasskeyView};
pub use registration::Member;
#[cfg(feature = "codes")]
pub use registration::Registration;
pub use roles::{InquiryTarget, RoleUpdate};
pub use second_factor::SecondFactorStatus;
#[cfg(feature = "totp")]
pub use second_factor::TotpEnrolment;
pub use sessions::{SessionView, SESSIONS_LISTED};
pub(crate) use step_up::Sensitive;
pub use system::{SYSTEM_NAME, SYSTEM_USER_ID};
pub use throttle::{account_key, LoginThrottle};
pub use users::{UserEdit, UserInput, UserView};
pub(crate) use vocabulary::AdminPrivileges;

use crate::authorizer::{Authorizer, AuthorizerConfig, Principal};
use crate::error::Result;
use crate::model::{AuditCategory, Journal, NewAudit, Organisation, Page};
use crate::notify::Senders;
use crate::password::{HasherConfig, PasswordHasher};
use crate::privilege::PrivilegeRegistry;
use crate::store::Store;
use crate::token::JwtCodec;

use crate::caller::detached;
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
