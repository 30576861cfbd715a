//! The console's account flows over the library's use-cases: its organisations, its two
//! system roles, SMS registration codes, primary-account registration and sub-accounts.

use std::collections::BTreeMap;

use rbac_sqlx::SqlStore;

use super::organisations::{self, Organisation};
use rbac_core::service::{validate, Channel, CodeProof, Member, Registration, SystemRole};
use rbac_core::{AuthFailure, Error, Principal, Rbac, Result, Scope, Sms, SmsContent, User};

/// The role of primary console accounts: they may create sub-accounts.
pub const PRIMARY_ROLE: &str = "console-primary";

/// The role of sub-accounts: no privileges.
pub const SUB_ACCOUNT_ROLE: &str = "console-sub";

/// The privilege that lets a primary account create sub-accounts.
pub const SUB_ACCOUNT_ADD: &str = "SubAccountAdd";

/// The privilege codes the console declares.
pub const PRIVILEGES: &[&str] = &[SUB_ACCOUNT_ADD];

/// The roles the console seeds under stable keys.
pub const SYSTEM_ROLES: &[SystemRole] = &[
    SystemRole {
        key: PRIMARY_ROLE,
        name: PRIMARY_ROLE,
        remark: "console primary accounts",
        privileges: &[SUB_ACCOUNT_ADD],
    },
    SystemRole {
        key: SUB_ACCOUNT_ROLE,
        name: SUB_ACCOUNT_ROLE,
        remark: "console sub-accounts",
        privileges: &[],
    },
];

/// The organisations of the console document's table, then the configured ones (later
/// wins).
pub fn organisations(configured: &[Organisation]) -> Vec<Organisation> {
    let mut all = vec![
        Organisation {
            id: 2,
            name: "算力互联".into(),
        },
        Organisation {
            id: 5,
            name: "汴水超算".into(),
        },
    ];
    for org in configured {
        all.retain(|o| o.id != org.id);
        all.push(org.clone());
    }
    all
}

/// A primary-account registration, verified by the SMS code sent to `phone`.
#[derive(Debug, Clone)]
pub struct PrimaryRegistration {
    /// Login name.
    pub name: String,
    /// Password.
    pub password: String,
    /// Mobile number the code was sent to.
    pub phone: String,
    /// The code as received.
    pub code: String,
    /// The organisation the code was sent for.
    pub organisation: i64,
    /// The client's address.
    pub ip: String,
}

/// A sub-account a primary account creates.
#[derive(Debug, Clone, Default)]
pub struct SubAccount {
    /// Login name.
    pub name: String,
    /// Password (sent to `phone` when `notify` is set).
    pub password: String,
    /// Mobile number.
    pub phone: String,
    /// The organisation, which must be the creator's.
    pub organisation: i64,
    /// The organisation's name, which must match it.
    pub organisation_name: String,
    /// Display name.
    pub alias: String,
    /// E-mail address (empty: none).
    pub email: String,
    /// Further profile attributes (`telephone`, `organization`, `duty`, `enterprise`).
    pub attributes: BTreeMap<String, String>,
    /// Send the password to the sub-account's phone.
    pub notify: bool,
}

fn sms_register_key(phone: &str) -> String {
    format!("sms-register:{phone}")
}

/// Sends a registration code by SMS to `phone`, for registering in `organisation`, at the
/// request of the client at `address`.
pub async fn send_registration_sms(
    rbac: &Rbac,
    sql: &SqlStore,
    phone: &str,
    organisation: i64,
    address: &str,
) -> Result<()> {
    mobile("mobilePhone", phone)?;
    organisations::find(sql, organisation).await?;
    let sms = rbac.config().senders.sms.clone();
    let phone = phone.to_string();
    rbac.codes()
        .issue(
            &sms_register_key(&phone),
            &organisation.to_string(),
            Channel::Sms,
            address,
            |code| async move {
                sms.send(&Sms {
                    phone,
                    content: SmsContent::RegisterCode(code),
                })
                .await
            },
        )
        .await
}

/// Registers a primary account of an organisation once the SMS code matches.
pub async fn register_primary(
    rbac: &Rbac,
    sql: &SqlStore,
    input: PrimaryRegistration,
) -> Result<User> {
    validate::name("username", &input.name)?;
    validate::password("password", &input.password)?;
    mobile("mobilePhone", &input.phone)?;
    organisations::find(sql, input.organisation).await?;
    let mut user = User::blank(&input.name, String::new());
    user.phone = input.phone.clone();
    user.phone_verified = true;
    user.tenant = Some(organisation_scope(input.organisation)?);
    let audit = format!(
        "register primary account {} in organisation {} from {}",
        input.name, input.organisation, input.ip
    );
    rbac.users()
        .register(Registration {
            user,
            password: input.password,
            role: PRIMARY_ROLE.into(),
            scope: Some(organisation_scope(input.organisation)?),
            proof: CodeProof {
                key: sms_register_key(&input.phone),
                code: input.code,
                context: input.organisation.to_string(),
                context_field: "departmentId",
            },
            client: input.ip,
            audit,
        })
        .await
}

/// Moves console roles held globally (as before scopes) into their holders' organisations:
/// run at start-up, after bootstrap; a second run moves nothing.
pub async fn scope_console_roles(rbac: &Rbac) -> Result<usize> {
    let mut moved = 0;
    for key in [PRIMARY_ROLE, SUB_ACCOUNT_ROLE] {
        moved += rbac.assignments().scope_system_role_by_tenant(key).await?;
    }
    Ok(moved)
}

/// The scope of organisation `id` (`org:id`): where its accounts' console roles hold.
pub fn organisation_scope(id: i64) -> Result<Scope> {
    Scope::new(crate::api::ORG_SCOPE, id)
        .ok_or_else(|| Error::invalid("departmentId", "not an organisation"))
}

/// Creates a sub-account of the caller in the caller's organisation (needs SubAccountAdd
/// within that organisation), with no privileges; with `notify`, texts it its password.
pub async fn add_sub_account(
    rbac: &Rbac,
    sql: &SqlStore,
    actor: &Principal,
    input: SubAccount,
) -> Result<User> {
    let scope = organisation_scope(input.organisation)?;
    validate::name("username", &input.name)?;
    validate::password("password", &input.password)?;
    mobile("mobilePhone", &input.phone)?;
    validate::text("name", &input.alias)?;
    for (field, value) in &input.attributes {
        validate::text("attributes", field)?;
        validate::text("attributes", value)?;
    }
    if !input.email.is_empty() {
        validate::email("email", &input.email)?;
    }
    let parent = rbac
        .store()
        .user(actor.user_id)
        .await?
        .ok_or(Error::Unauthenticated(AuthFailure::UserGone))?;
    let organisation = organisations::find(sql, input.organisation).await?;
    if parent.tenant.is_some_and(|own| own != scope) {
        return Err(Error::invalid(
            "departmentId",
            "a sub-account belongs to its creator's organisation",
        ));
    }
    if organisation.name != input.organisation_name {
        return Err(Error::invalid(
            "departmentName",
            format!(
                "organisation {} is named {}",
                organisation.id, organisation.name
            ),
        ));
    }
    let mut user = User::blank(&input.name, String::new());
    user.phone = input.phone;
    user.alias = input.alias;
    user.email = (!input.email.is_empty()).then_some(input.email);
    user.attributes = input.attributes;
    user.tenant = Some(scope);
    let audit = format!("create sub-account {}", user.name);
    rbac.users()
        .create_member(
            actor,
            SUB_ACCOUNT_ADD,
            Member {
                user,
                password: input.password,
                role: SUB_ACCOUNT_ROLE.into(),
                scope: Some(scope),
                notify: input.notify,
                audit,
            },
        )
        .await
}

/// The console's mobile numbers: 11 digits starting with 1 (mainland China), or `+` and
/// 7–15 digits.
fn mobile(field: &'static str, value: &str) -> Result<()> {
    let ok = match value.strip_prefix('+') {
        Some(rest) => (7..=15).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_digit()),
        None => {
            value.len() == 11 && value.starts_with('1') && value.bytes().all(|b| b.is_ascii_digit())
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(field, "not a valid mobile number"))
    }
}
