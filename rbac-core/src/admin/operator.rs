//! What an operator does from the command line, with no logged-in actor: import users with
//! their password hashes, set a password, lift a login lock.

use super::port::ImportReport;
use super::users_facet::Users;
use crate::error::{Entity, Error, Result};
use crate::model::{AuditCategory, Change, Journal, NewAudit, User};
use crate::service::validate;

/// A user brought over from another system, with its password hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedUser {
    /// Login name.
    pub name: String,
    /// A bcrypt (`$2a$`, `$2b$`, `$2y$`) or argon2 (`$argon2id$`, `$argon2i$`) hash; the
    /// password is rehashed with this deployment's parameters at its first login.
    pub password_hash: String,
    /// E-mail address (empty: none).
    pub email: String,
    /// Phone number.
    pub phone: String,
    /// Display name.
    pub alias: String,
    /// Role to hold (empty: none).
    pub role_name: String,
    /// Whether the account may log in.
    pub enabled: bool,
}

fn operator_journal(content: String) -> Journal {
    Journal::audit(NewAudit {
        user_id: None,
        user_name: "operator".into(),
        category: AuditCategory::System,
        content,
        success: true,
    })
}

/// Whether a string is a password hash this library verifies.
pub fn is_supported_hash(hash: &str) -> bool {
    let bcrypt = cfg!(feature = "bcrypt-import")
        && ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p));
    (bcrypt
        || ["$argon2id$", "$argon2i$", "$argon2d$"]
            .iter()
            .any(|p| hash.starts_with(p)))
        && hash.len() <= 512
        && !hash.chars().any(char::is_whitespace)
}

/// What a bulk import did with a batch: the store's report, and the rows refused before
/// reaching it (their position in the batch, name and reason).
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    /// Inserted, already present, e-mail and look-alike collisions.
    pub report: ImportReport,
    /// Rows refused by the field rules or naming an unknown role.
    pub invalid: Vec<(usize, String, String)>,
}

impl Users<'_> {
    /// Imports a batch of users with existing password hashes in one transaction of the
    /// store (an operator's bulk import): invalid rows are reported and left out, names
    /// already present are skipped (a re-run resumes), e-mail and look-alike collisions are
    /// reported apart; one audit entry names the batch.
    pub async fn import(self, inputs: Vec<ImportedUser>) -> Result<ImportOutcome> {
        let mut outcome = ImportOutcome::default();
        let mut roles: std::collections::HashMap<String, Option<i64>> = Default::default();
        let mut users = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.into_iter().enumerate() {
            let name = input.name.clone();
            if let Err(e) = self.check_import(&input) {
                outcome.invalid.push((i, name, e.to_string()));
                continue;
            }
            let role = if input.role_name.is_empty() {
                None
            } else if let Some(known) = roles.get(&input.role_name) {
                *known
            } else {
                let found = match self.rbac.role_named(&input.role_name).await {
                    Ok(r) => Some(r.id),
                    Err(Error::NotFound(_)) => None,
                    Err(e) => return Err(e),
                };
                roles.insert(input.role_name.clone(), found);
                found
            };
            if role.is_none() && !input.role_name.is_empty() {
                outcome
                    .invalid
                    .push((i, name, format!("no role {}", input.role_name)));
                continue;
            }
            users.push(Self::imported(input, role));
        }
        let journal = operator_journal(format!(
            "import a batch of {} users (names already present skipped)",
            users.len()
        ));
        outcome.report = self.rbac.store().import_users(&users, &journal).await?;
        Ok(outcome)
    }

    /// The field rules an imported user must meet.
    fn check_import(self, input: &ImportedUser) -> Result<()> {
        validate::name("name", &input.name)?;
        validate::text("alias", &input.alias)?;
        validate::text("phone", &input.phone)?;
        if !input.email.is_empty() {
            validate::email("email", &input.email)?;
        }
        if !is_supported_hash(&input.password_hash) {
            return Err(Error::invalid(
                "password_hash",
                if cfg!(feature = "bcrypt-import") {
                    "not a bcrypt or argon2 hash"
                } else {
                    "not an argon2 hash (bcrypt needs rbac-core's `bcrypt-import` feature)"
                },
            ));
        }
        // A hash dearer than the policy would let one anonymous login hash for days.
        if let Some(why) = self.rbac.inner.hasher.cost_refusal(&input.password_hash) {
            return Err(Error::invalid(
                "password_hash",
                format!("cost outside the policy: {why}"),
            ));
        }
        Ok(())
    }

    /// The user an import row describes.
    fn imported(input: ImportedUser, role: Option<i64>) -> User {
        let mut user = User::blank(&input.name, input.password_hash);
        user.email = (!input.email.is_empty()).then_some(input.email);
        user.phone = input.phone;
        user.alias = input.alias;
        user.roles = role
            .map(crate::authz::scope::Assignment::global)
            .into_iter()
            .collect();
        user.enabled = input.enabled;
        user.creator = "operator".into();
        user
    }

    /// Creates a user with an existing password hash (an operator's import).
    pub async fn import_one(self, input: ImportedUser) -> Result<User> {
        self.check_import(&input)?;
        let role = if input.role_name.is_empty() {
            None
        } else {
            Some(self.rbac.role_named(&input.role_name).await?.id)
        };
        let user = Self::imported(input, role);
        let journal = operator_journal(format!("import user {}", user.name));
        Ok(self.rbac.store().create_user(&user, &journal).await?)
    }

    /// Sets a user's password (an operator's reset); every session of the user ends.
    pub async fn set_password_as_operator(self, name: &str, password: &str) -> Result<()> {
        validate::password("password", password)?;
        let user = self
            .rbac
            .store()
            .user_by_name(name)
            .await?
            .ok_or(Error::NotFound(Entity::User))?;
        let hash = self.rbac.inner.hasher.hash(password).await?;
        let journal = operator_journal(format!("reset password of user {}", user.name))
            .with(Change::User(user.id));
        self.rbac
            .applying(&journal)
            .write(
                self.rbac
                    .store()
                    .set_password(user.id, &hash, None, None, &journal),
            )
            .await?;
        Ok(())
    }

    /// Lifts an account's failed-login lock.
    pub async fn unlock(self, name: &str) -> Result<()> {
        self.rbac
            .store()
            .user_by_name(name)
            .await?
            .ok_or(Error::NotFound(Entity::User))?;
        self.rbac.sessions().unlock(name).await?;
        self.rbac
            .store()
            .append_audit(&NewAudit {
                user_id: None,
                user_name: "operator".into(),
                category: AuditCategory::System,
                content: format!("unlock user {name}"),
                success: true,
            })
            .await?;
        Ok(())
    }
}
