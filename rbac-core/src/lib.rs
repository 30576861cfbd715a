//! Users, roles, privileges, sessions and audit: the model, the use-cases and the storage
//! ports of the rbac library. No HTTP, no SQL.
#![deny(missing_docs)]

pub mod authorizer;
pub mod credential;
pub mod error;
pub mod events;
pub mod factors;
pub mod identity;
pub mod inclusion;
pub mod memory;
pub mod meter;
pub mod model;
pub mod notify;
pub mod passkeys;
pub mod password;
pub mod privilege;
pub mod scope;
pub mod secrets;
pub mod service;
pub mod stats;
pub mod store;
pub mod token;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use authorizer::{Authorizer, AuthorizerConfig, CacheStats, Principal, RoleGrant};
pub use credential::{Authenticate, Authorize, Credential, RequestContext};
pub use error::{AuthFailure, BoxError, Entity, Error, Field, Result, StoreError};
pub use events::{Attempt, Delivery, DeliveryStatus, NewEvent, SecurityEvent};
pub use memory::MemoryStore;
pub use model::*;
pub use notify::{
    LogMail, LogSms, Mail, MailSender, SendError, Senders, Sms, SmsContent, SmsSender,
};
pub use passkeys::{
    Ceremony, CeremonyPurpose, PasskeyRecord, PasskeyStore, RelyingParty, PASSKEYS_PER_USER,
};
pub use password::{HasherConfig, PasswordHasher};
pub use privilege::{PrivilegeId, PrivilegeRegistry, PrivilegeSet, Requirement, NULL_PRIVILEGE};
pub use secrets::SecretsKey;
pub use service::{AdminPrivileges, Rbac, RbacConfig, ADMIN};
pub use store::*;
pub use token::{Claims, JwtCodec, JwtKey};
