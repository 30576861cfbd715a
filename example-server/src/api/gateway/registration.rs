//! The gateway's self-registration with an e-mailed code, over the library's one-time codes
//! and registration, and the role registered users get.

use rbac_core::service::{validate, Channel, CodeProof, Registration, SystemRole};
use rbac_core::{identity, Error, Field, Mail, Rbac, Result, User};

/// The role self-registered gateway users get: no privileges (their own projects need
/// none).
pub const REGISTERED_ROLE: &str = "registered-user";

/// The role a project's owner holds within its own `user:ID` scope, which every project it
/// creates lies within.
pub const PROJECT_OWNER_ROLE: &str = "project-owner";

/// The privilege of deleting a project, checked within the project's scope.
pub const PROJECT_DELETE: &str = "ProjectDelete";

/// The privilege codes the gateway declares.
pub const PRIVILEGES: &[&str] = &[PROJECT_DELETE];

/// The roles the gateway seeds under stable keys.
pub const SYSTEM_ROLES: &[SystemRole] = &[
    SystemRole {
        key: REGISTERED_ROLE,
        name: REGISTERED_ROLE,
        remark: "self-registered gateway users",
        privileges: &[],
    },
    SystemRole {
        key: PROJECT_OWNER_ROLE,
        name: PROJECT_OWNER_ROLE,
        remark: "owners of gateway projects, within their own projects",
        privileges: &[PROJECT_DELETE],
    },
];

/// A self-registration verified by the code e-mailed to `email`.
#[derive(Debug, Clone)]
pub struct EmailRegistration {
    /// Login name.
    pub name: String,
    /// Password.
    pub password: String,
    /// E-mail address the code was sent to.
    pub email: String,
    /// The code as received.
    pub code: String,
}

fn mail_register_key(email: &str) -> String {
    format!("mail-register:{}", identity::email_key(email))
}

/// E-mails a registration code to `email` (for `user_name`, which must be a valid name
/// when given) at the request of the client at `address`. An address already registered
/// is refused. The mail carries the code and fixed wording only: nothing the client sent.
pub async fn send_registration_email(
    rbac: &Rbac,
    user_name: &str,
    email: &str,
    address: &str,
) -> Result<()> {
    if !user_name.is_empty() {
        validate::name("user_name", user_name)?;
    }
    validate::email("email", email)?;
    if rbac.users().email_taken(email).await? {
        return Err(Error::AlreadyExists(Field::Email));
    }
    let mail = rbac.config().senders.mail.clone();
    let to = email.to_string();
    let minutes = (rbac.config().codes.ttl / 60).max(1);
    rbac.codes().issue(
        &mail_register_key(email),
        "",
        Channel::Mail,
        address,
        |code| async move {
            mail.send(&Mail {
                to,
                subject: "Your registration code".into(),
                body: format!(
                    "Hello,\r\n\r\nYour registration code is {code}. It is valid for {minutes} minutes and works once.\r\n"
                ),
                code: Some(code),
            })
            .await
        },
    )
    .await
}

/// Registers a user with the registered-user role once the e-mailed code matches.
pub async fn register_with_email(rbac: &Rbac, input: EmailRegistration, ip: &str) -> Result<User> {
    validate::name("user_name", &input.name)?;
    validate::password("password", &input.password)?;
    validate::email("email", &input.email)?;
    let mut user = User::blank(&input.name, String::new());
    user.email = Some(input.email.clone());
    user.email_verified = true;
    rbac.users()
        .register(Registration {
            audit: format!("register {} by e-mail from {ip}", input.name),
            user,
            password: input.password,
            role: REGISTERED_ROLE.into(),
            scope: None,
            proof: CodeProof {
                key: mail_register_key(&input.email),
                code: input.code,
                context: String::new(),
                context_field: "email",
            },
            client: ip.to_string(),
        })
        .await
}
