//! Sessions people can see and end: their own, and (within the containment rule) another
//! user's. Ending a session acts on the next request here, and on other instances through
//! the change feed, as logout does.

use sha2::{Digest, Sha256};

use super::facet::Sessions;
use crate::authz::authorizer::Principal;
use crate::error::{AuthFailure, Error, Result};
use crate::model::{now, AuditCategory, Change, Factors, Session, SessionKind, Timestamp, User};

/// The most sessions listed for one user.
pub const SESSIONS_LISTED: u32 = 200;

/// One live session as its user (or an admin) sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    /// A stable handle naming the session (not its token, nor its stored id).
    pub handle: String,
    /// `jwt` or `opaque`.
    pub kind: &'static str,
    /// When it was opened.
    pub created_at: Timestamp,
    /// Its last use as the store knows it.
    pub last_seen: Timestamp,
    /// When it ends unless used (sliding) or refreshed.
    pub expires_at: Timestamp,
    /// The client's address at login.
    pub ip: String,
    /// The client's `User-Agent` at login.
    pub user_agent: String,
    /// The factors its login proved.
    pub factors: Factors,
    /// When they were proven.
    pub verified_at: Timestamp,
    /// Whether it is the session asking.
    pub current: bool,
}

/// The public handle of a stored session id.
fn handle_of(id: &str) -> String {
    let digest = Sha256::digest(format!("session-handle:{id}").as_bytes());
    hex::encode(&digest[..12])
}

fn view(session: &Session, current: &str) -> SessionView {
    SessionView {
        handle: handle_of(&session.id),
        kind: match session.kind {
            SessionKind::Opaque => "opaque",
            _ => "jwt",
        },
        created_at: session.issued_at,
        last_seen: session.last_seen,
        expires_at: session.expires_at,
        ip: session.ip.clone(),
        user_agent: session.user_agent.clone(),
        factors: session.factors,
        verified_at: session.verified_at,
        current: session.id == current,
    }
}

impl Sessions<'_> {
    async fn live_sessions(self, user: &User) -> Result<Vec<Session>> {
        Ok(self
            .rbac
            .store()
            .user_sessions(user.id, now(), SESSIONS_LISTED)
            .await?)
    }

    async fn session_user(self, actor: &Principal, user_name: Option<&str>) -> Result<User> {
        match user_name {
            Some(name) => self.rbac.user_named(name).await,
            None => self
                .rbac
                .store()
                .user(actor.user_id)
                .await?
                .ok_or(Error::Unauthenticated(AuthFailure::UserGone)),
        }
    }

    /// The caller's live sessions, newest first (at most [`SESSIONS_LISTED`]).
    pub async fn mine(self, actor: &Principal) -> Result<Vec<SessionView>> {
        let user = self.session_user(actor, None).await?;
        let sessions = self.live_sessions(&user).await?;
        Ok(sessions
            .iter()
            .map(|s| view(s, &actor.session_id))
            .collect())
    }

    /// Another user's live sessions: needs UserAccess and a user within the actor (their
    /// addresses are no one's business above them). Naming oneself lists one's own.
    pub async fn of_user(self, actor: &Principal, user_name: &str) -> Result<Vec<SessionView>> {
        let user = self.session_user(actor, Some(user_name)).await?;
        if user.id != actor.user_id {
            // Before enrolling a required second factor, one's own sessions only.
            if actor.enrolment_required {
                return Err(Error::EnrolmentRequired);
            }
            self.rbac.require(actor, &self.rbac.admin().user_access)?;
            self.rbac
                .containment()
                .ensure_user_within(actor, &user, "list the sessions of")
                .await?;
        }
        let sessions = self.live_sessions(&user).await?;
        Ok(sessions
            .iter()
            .map(|s| view(s, &actor.session_id))
            .collect())
    }

    /// Ends sessions of `user_name` (the caller when `None`): the one named by `handle`, or
    /// every one but the caller's own. Another user's need UserEdit and a user within the
    /// actor. Answers how many ended; an unknown handle is `NotFound(Session)`.
    pub async fn end(
        self,
        actor: &Principal,
        user_name: Option<&str>,
        handle: Option<&str>,
    ) -> Result<u64> {
        let user = self.session_user(actor, user_name).await?;
        let own = user.id == actor.user_id;
        let ended_by_admin = |journal: crate::model::Journal| {
            if own {
                journal
            } else {
                journal.event_about(crate::events::kind::SESSIONS_ENDED, &user.name, "")
            }
        };
        if !own {
            if actor.enrolment_required {
                return Err(Error::EnrolmentRequired);
            }
            self.rbac.require(actor, &self.rbac.admin().user_edit)?;
            self.rbac
                .containment()
                .ensure_user_within(actor, &user, "end the sessions of")
                .await?;
            self.rbac
                .sessions()
                .ensure_fresh(actor, crate::service::Sensitive::EndOthersSessions)?;
        }
        let store = &self.rbac.store();
        let (one, all) = if own {
            (
                "end own session".to_string(),
                "end own other sessions".to_string(),
            )
        } else {
            (
                format!("end a session of user {}", user.name),
                format!("end every session of user {}", user.name),
            )
        };
        let category = if own {
            AuditCategory::Home
        } else {
            AuditCategory::System
        };
        match handle {
            Some(handle) => {
                let sessions = self.live_sessions(&user).await?;
                let session = sessions
                    .iter()
                    .find(|s| handle_of(&s.id) == handle)
                    .ok_or(Error::NotFound(crate::Entity::Session))?;
                let journal = ended_by_admin(
                    self.rbac
                        .journal(Some(actor), category, one)
                        .with(Change::Session(session.id.clone())),
                );
                let ended = self
                    .rbac
                    .applying(&journal)
                    .write(store.revoke_session(&session.id, &journal))
                    .await?;
                Ok(u64::from(ended))
            }
            None => {
                let keep = own.then_some(&*actor.session_id);
                let journal = ended_by_admin(
                    self.rbac
                        .journal(Some(actor), category, all)
                        .with(Change::User(user.id)),
                );
                let n = self
                    .rbac
                    .applying(&journal)
                    .write(store.revoke_user_sessions(user.id, keep, &journal))
                    .await?;
                Ok(n)
            }
        }
    }
}
