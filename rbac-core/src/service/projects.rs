//! The gateway's use-cases: registration with an e-mailed code, and projects with their
//! API keys.

use rand::distributions::{Alphanumeric, DistString};

use super::{validate, Rbac};
use crate::authorizer::Principal;
use crate::error::{Entity, Error, Field, Result};
use crate::model::{
    now, AuditCategory, Change, Journal, Listing, NewAudit, Page, Project, ProjectId, User,
};
use crate::notify::Mail;

/// The role self-registered gateway users get: no privileges (their own projects need
/// none).
pub const REGISTERED_ROLE: &str = "registered-user";

/// Length of a project's API key.
pub const PROJECT_KEY_CHARS: usize = 16;

/// Length of a project's API secret.
pub const PROJECT_SECRET_CHARS: usize = 48;

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
    format!("mail-register:{}", crate::identity::email_key(email))
}

/// `len` letters and digits from the OS's CSPRNG.
fn alphanumeric(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, len)
}

impl Rbac {
    /// E-mails a registration code to `email` (for `user_name`, which must be a valid
    /// name when given) at the request of the client at `address`: valid for the code
    /// policy's lifetime, one send per address per resend interval, within the hourly
    /// limits on codes. An address already registered is refused. The mail carries the
    /// code and fixed wording only: nothing the client sent.
    pub async fn send_registration_email(
        &self,
        user_name: &str,
        email: &str,
        address: &str,
    ) -> Result<()> {
        if !user_name.is_empty() {
            validate::name("user_name", user_name)?;
        }
        validate::email("email", email)?;
        if self.email_taken(email).await? {
            return Err(Error::AlreadyExists(Field::Email));
        }
        let mail = self.inner.senders.mail.clone();
        let to = email.to_string();
        let minutes = (self.inner.config.codes.ttl / 60).max(1);
        self.issue_code(
            &mail_register_key(email),
            "",
            (super::Channel::Mail, address),
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

    /// Registers a user with the default self-registration role once the e-mailed code
    /// matches. Name and address are checked first, so a refusal does not use the code up.
    pub async fn register_with_email(&self, input: EmailRegistration, ip: &str) -> Result<User> {
        validate::name("user_name", &input.name)?;
        validate::password("password", &input.password)?;
        validate::email("email", &input.email)?;
        let store = &self.inner.store;
        if store.user_by_name(&input.name).await?.is_some() {
            return Err(Error::AlreadyExists(Field::UserName));
        }
        if self.email_taken(&input.email).await? {
            return Err(Error::AlreadyExists(Field::Email));
        }
        self.take_signup(ip).await?;
        let role = self.system_role(REGISTERED_ROLE).await?;
        let hash = self.inner.hasher.hash(&input.password).await?;
        self.take_code(&mail_register_key(&input.email), &input.code, "")
            .await?;
        let mut user = User::blank(&input.name, hash);
        user.email = Some(input.email);
        user.email_verified = true;
        user.role_id = Some(role.id);
        let journal = Journal::audit(NewAudit {
            user_id: None,
            user_name: user.name.clone(),
            category: AuditCategory::Home,
            content: format!("register {} by e-mail from {ip}", user.name),
            success: true,
        });
        self.create_claiming(&user, &journal).await
    }

    /// Whether an e-mail address is held with proof (a code): an unverified claim does not
    /// keep its owner from registering it.
    async fn email_taken(&self, email: &str) -> Result<bool> {
        Ok(self
            .inner
            .store
            .user_by_email(email)
            .await?
            .is_some_and(|holder| holder.email_verified))
    }

    /// Creates a user whose verified address or number wins over others' unverified claims,
    /// and audits each claim it cleared.
    pub(crate) async fn create_claiming(&self, user: &User, journal: &Journal) -> Result<User> {
        let (created, cleared) = self.inner.store.create_user_claiming(user, journal).await?;
        for id in cleared {
            let entry = NewAudit {
                user_id: Some(created.id),
                user_name: created.name.clone(),
                category: AuditCategory::Home,
                content: format!(
                    "verified registration of {} cleared the unverified e-mail or phone of user {id}",
                    created.name
                ),
                success: true,
            };
            if let Err(e) = self.inner.store.append_audit(&entry).await {
                tracing::warn!(error = %e, "audit append failed");
            }
            tracing::info!(user = id, by = %created.name, "unverified contact claim cleared");
        }
        Ok(created)
    }

    /// Creates a project of the caller with a fresh API key (16 characters) and secret
    /// (48), from the OS's CSPRNG.
    pub async fn create_project(
        &self,
        actor: &Principal,
        name: &str,
        kind: i32,
    ) -> Result<Project> {
        validate::text("project_name", name)?;
        if name.trim().is_empty() {
            return Err(Error::invalid("project_name", "must not be empty"));
        }
        let at = now();
        let project = Project {
            id: 0,
            owner_id: actor.user_id,
            name: name.to_string(),
            kind,
            key: alphanumeric(PROJECT_KEY_CHARS),
            secret: alphanumeric(PROJECT_SECRET_CHARS),
            deleted: false,
            request_total: 0,
            request_today: 0,
            request_day: crate::model::utc_day(at),
            request_max: self.inner.config.project_request_max,
            pool_id: 0,
            pool_name: String::new(),
            created_at: at,
        };
        let journal = self.journal(
            Some(actor),
            AuditCategory::Project,
            format!("create project {}", project.name),
        );
        Ok(self.inner.store.create_project(&project, &journal).await?)
    }

    /// The live projects of `owner` (the caller's own when `None` or 0, the value a client
    /// sends for an unset field; anyone's with UserAccess). Only the owner sees a
    /// project's secret: in another user's list it is empty.
    pub async fn list_projects(
        &self,
        actor: &Principal,
        owner: Option<i64>,
        page: Page,
    ) -> Result<Listing<Project>> {
        let owner = owner.filter(|id| *id != 0).unwrap_or(actor.user_id);
        if owner != actor.user_id {
            self.require(actor, "UserAccess")?;
        }
        let mut listing = self.inner.store.list_projects(owner, page).await?;
        if owner != actor.user_id {
            for project in &mut listing.rows {
                project.secret.clear();
            }
        }
        Ok(listing)
    }

    /// Deletes one of the caller's projects; its key stops working at once. Another
    /// user's project, or none, is `NotFound`.
    pub async fn delete_project(&self, actor: &Principal, id: ProjectId) -> Result<()> {
        let store = &self.inner.store;
        let project = store
            .project(id)
            .await?
            .filter(|p| p.owner_id == actor.user_id && !p.deleted)
            .ok_or(Error::NotFound(Entity::Project))?;
        let journal = self
            .journal(
                Some(actor),
                AuditCategory::Project,
                format!("delete project {} ({})", project.name, project.id),
            )
            .with(Change::Project(project.id));
        if !store.delete_project(project.id, &journal).await? {
            return Err(Error::NotFound(Entity::Project));
        }
        self.applied(&journal).await;
        Ok(())
    }
}
