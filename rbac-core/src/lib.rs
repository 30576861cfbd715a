//! Users, roles, privileges, sessions and audit: the model, the use-cases and the storage
//! ports of the rbac library. No HTTP, no SQL (`rbac-sqlx` stores it on SQLite, PostgreSQL
//! and MariaDB; `rbac-tower` checks requests).
//!
//! # A guide
//!
//! 1. **Declare your codes and build.** [`Rbac::builder`] takes a store, a signing secret
//!    and the privilege codes your application checks. The library's own administrative
//!    codes ([`AdminPrivileges`]) are declared beside them; map them onto one of yours with
//!    [`AdminPrivileges::all`]. Declare the scope kinds roles may be held in; any other kind
//!    is refused.
//! 2. **Seed as the system.** [`Rbac::system`] acts for the application itself (audited as
//!    `system`, never reachable from a credential); [`rbac.roles().define`](crate::service::Roles::define) creates a role
//!    with its privileges and included roles in one converging call.
//! 3. **Sign in.** [`rbac.sessions().login`](crate::service::Sessions::login) answers a [`service::LoginStep`]: done, or a second
//!    factor to complete with [`rbac.sessions().complete_login`](crate::service::Sessions::complete_login).
//! 4. **Check.** `rbac-tower`'s layer checks each route's code (in a scope read from the
//!    request, if you like); in code, [`Authorizer::require_code`] and
//!    [`Authorizer::check_in`] do the same against the cached snapshot.
//! 5. **Second factors and step-up.** With a secrets key
//!    ([`service::RbacBuilder::secrets_key_file`]) users enrol TOTP and passkeys; the use-cases
//!    that give or restore access ([`Sensitive`]) ask a recently proven factor of users who
//!    have one ([`service::RbacBuilder::step_up`]).
//!
//! ```
//! # async fn guide() -> Result<(), rbac_core::Error> {
//! use rbac_core::service::{LoginInput, UserInput};
//! use rbac_core::{AdminPrivileges, MemoryStore, Rbac, Scope};
//!
//! let rbac = Rbac::builder(MemoryStore::new())
//!     .secret("at least 32 bytes of signing secret")
//!     .privileges(["RecordRead", "RecordWrite", "WardAdmin"])
//!     .admin_privileges(AdminPrivileges::all("WardAdmin"))
//!     .scope_kinds(["ward"])
//!     .build()
//!     .await?;
//!
//! let system = rbac.system().await?;
//! rbac.roles().define(&system, "nurse", ["RecordRead"], Vec::<&str>::new()).await?;
//! rbac.roles().define(&system, "doctor", ["RecordWrite"], ["nurse"]).await?;
//! let user = UserInput { name: "house".into(), password: "House-password-1".into(), ..Default::default() };
//! rbac.users().create(Some(&system), user).await?;
//! let cardiology = Scope::new("ward", "cardiology").expect("a ward");
//! rbac.assignments().assign(&system, "house", "doctor", Some(cardiology)).await?;
//!
//! let login = rbac.sessions().login(&LoginInput::new("house", "House-password-1", "10.0.0.7")).await?;
//! let token = login.signed_in()?.token.token;
//! let house = rbac.authorizer().authenticate_token(&token).await?;
//! let write = rbac.authorizer().registry().id("RecordWrite").expect("declared");
//! assert!(rbac.authorizer().check_in(&house, write, &cardiology));
//! assert!(!rbac.authorizer().check_in(&house, write, &Scope::new("ward", "oncology").expect("a ward")));
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(guide()).unwrap();
//! ```
//!
//! # Where things are
//!
//! Each name has one path. At the root: the services ([`Rbac`], its builder and settings),
//! the model (users, roles, scopes, sessions, audit entries), the authorizer and
//! [`Principal`], errors, tokens, password hashing, the secrets key and the message ports.
//! In modules: [`service`] (the use-cases' inputs and outputs, and the facets
//! `rbac.users()`, `.roles()`, … that carry the calls), [`store`] (the storage ports a
//! backend implements), [`events`] (security events and their delivery), [`factors`]
//! (second-factor primitives), and the helpers [`identity`], [`inclusion`], `meter` (with `api-keys`) and
//! [`stats`].
//!
//! # Features
//!
//! None by default. `totp` (TOTP enrolment and codes), `passkeys` (WebAuthn) and
//! `bcrypt-import` (verifying imported bcrypt hashes) each add their capability and its
//! crates; `api-keys` (keys and their request meter), `codes` (one-time codes and
//! self-registration) and `events` (security events for webhooks) add theirs with no
//! crate; `conformance` exports the storage conformance suite for backends.
#![deny(missing_docs)]
#![deny(unreachable_pub)]

mod admin;
mod audit;
mod authn;
mod authz;
mod caller;
mod codes;
mod error;
pub mod events;
pub mod factors;
pub mod identity;
mod ids;
mod keys;
mod memory;
mod model;
mod notify;
mod second_step;
mod secrets;
pub mod service;
pub mod stats;
pub mod store;

pub use authz::inclusion;
#[cfg(feature = "api-keys")]
pub use keys::meter;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use admin::vocabulary::AdminPrivileges;
pub use authn::credential::{Authenticate, Authorize, Credential, RequestContext};
pub use authn::password::{
    same_text, HasherConfig, PasswordHasher, Verified, MAX_BCRYPT_COST, MAX_PASSWORD_BYTES,
};
pub use authn::token::{
    is_opaque_token, new_opaque_token, opaque_session_id, Claims, JwtCodec, JwtKey,
};
pub use authz::authorizer::{
    Authorizer, AuthorizerConfig, CacheStats, Grants, IdHasher, Principal, RoleGrant, ScopeKey,
    MAX_SCOPE_DEPTH,
};
pub use authz::privilege::{PrivilegeId, PrivilegeRegistry, PrivilegeSet, Requirement};
pub use authz::scope::{SCOPE_ID_MAX, SCOPE_KIND_MAX};
pub use error::{AuthFailure, BoxError, Entity, Error, Field, Result, StoreError};
pub use factors::passkeys::{
    Ceremony, CeremonyPurpose, PasskeyRecord, PasskeyStore, RelyingParty, PASSKEYS_PER_USER,
};
pub use memory::MemoryStore;
pub use model::*;
pub use notify::{
    LogMail, LogSms, Mail, MailSender, SendError, Senders, Sms, SmsContent, SmsSender,
};
pub use secrets::{BadSecretsKey, KeyFileError, SecretsKey};
pub use service::rbac::{Rbac, RbacConfig, ADMIN};
pub use service::step_up::Sensitive;
