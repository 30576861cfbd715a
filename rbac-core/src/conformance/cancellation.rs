//! The cancellation sweep: every port method, abandoned after its 1st, 2nd, 3rd … poll.
//!
//! A caller can drop a store future at any `.await` (a client goes away, a timeout fires).
//! For every method of every port, the sweep starts the call, polls it with the task's real
//! waker (sleeping a millisecond between polls) and drops it after the first poll; then
//! after the second, and so on until a run completes. After each abandoned run it waits for
//! the store's abandoned work to end and checks that the run's journal is wholly present or
//! wholly absent (its audit entry and its change-log row together), that a write's effect
//! went with its journal, and that every port still serves.
//!
//! [`PORT_METHODS`] names every method; a test reads the ports' sources and fails when a
//! method is missing from it, so a new method cannot skip the sweep.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use super::*;
use crate::authz::scope::{Assignment, Scope};
use crate::events::{Attempt, NewEvent};
use crate::factors::passkeys::{Ceremony, CeremonyPurpose, PasskeyRecord};

mod cases;

/// How many polls a call may take before the sweep gives up on it completing.
const MAX_POLLS: usize = 400;
/// How long abandoned work may take to end, and the store to answer again, after a drop.
const SETTLE_WITHIN: Duration = Duration::from_secs(30);

/// A call under test, with whatever it borrows.
type Call<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Every method of every storage port, `Port::method`, in the order the sweep runs them.
pub const PORT_METHODS: &[&str] = &[
    "AuthorizerStore::user",
    "AuthorizerStore::role",
    "AuthorizerStore::roles",
    "AuthorizerStore::session",
    "AuthorizerStore::touch_session",
    "AuthorizerStore::second_factor_enrolled",
    "AuthorizerStore::scope_parents",
    "AuthorizerStore::scope_parent",
    "AuthorizerStore::append_audit",
    "UserStore::import_users",
    "UserStore::create_user",
    "UserStore::create_user_claiming",
    "UserStore::user_by_name",
    "UserStore::user_by_email",
    "UserStore::users_by_phone",
    "UserStore::list_users",
    "UserStore::count_users",
    "UserStore::user_rows",
    "UserStore::update_user",
    "UserStore::set_user_enabled",
    "UserStore::set_password",
    "UserStore::delete_user",
    "UserStore::record_login",
    "AssignmentStore::update_user_roles",
    "AssignmentStore::assign_role",
    "AssignmentStore::revoke_role",
    "AssignmentStore::count_users_with_role",
    "AssignmentStore::scope_role_by_tenant",
    "RoleStore::create_role",
    "RoleStore::role_by_name",
    "RoleStore::role_by_key",
    "RoleStore::list_roles",
    "RoleStore::count_roles",
    "RoleStore::role_rows",
    "RoleStore::update_role",
    "RoleStore::set_role_requires_second_factor",
    "RoleStore::set_role_privileges",
    "RoleStore::set_role_includes",
    "RoleStore::delete_role",
    "SessionStore::create_session",
    "SessionStore::revoke_session",
    "SessionStore::rotate_session",
    "SessionStore::revoke_user_sessions",
    "SessionStore::mark_session_verified",
    "SessionStore::purge_sessions",
    "SessionStore::count_live_sessions",
    "SessionStore::user_sessions",
    "EventStore::append_events",
    "EventStore::claim_deliveries",
    "EventStore::settle_delivery",
    "EventStore::deliveries",
    "EventStore::recent_events",
    "EventStore::prune_events",
    "SecondFactorStore::totp",
    "SecondFactorStore::put_pending_totp",
    "SecondFactorStore::confirm_totp",
    "SecondFactorStore::claim_totp_step",
    "SecondFactorStore::use_recovery_code",
    "SecondFactorStore::recovery_codes_left",
    "SecondFactorStore::replace_recovery_codes",
    "SecondFactorStore::remove_totp",
    "AuditStore::list_audit",
    "AuditStore::count_audit",
    "AuditStore::audit_rows",
    "AuditStore::prune_audit",
    "SettingStore::setting",
    "SettingStore::setting_or_insert",
    "ThrottleStore::login_blocked",
    "ThrottleStore::record_login_failure",
    "ThrottleStore::reserve_login_attempt",
    "ThrottleStore::clear_login_failures",
    "ThrottleStore::clear_login_failures_under",
    "ThrottleStore::remember_login_address",
    "ThrottleStore::login_address_known",
    "CodeStore::put_code",
    "CodeStore::take_code",
    "CodeStore::withdraw_code",
    "CodeStore::purge_codes",
    "ApiKeyStore::create_api_key",
    "ApiKeyStore::api_key",
    "ApiKeyStore::find_api_key",
    "ApiKeyStore::list_api_keys",
    "ApiKeyStore::count_api_keys",
    "ApiKeyStore::api_key_rows",
    "ApiKeyStore::revoke_api_key",
    "ApiKeyStore::add_key_requests",
    "ApiKeyStore::reserve_key_quota",
    "ApiKeyStore::release_key_quota",
    "ChangeLog::change_cursor",
    "ChangeLog::changes_since",
    "ChangeLog::prune_changes",
    "ChangeLog::settled",
    "ScopeStore::set_scope_parent",
    "PasskeyStore::passkeys",
    "PasskeyStore::count_passkeys",
    "PasskeyStore::passkey_by_credential",
    "PasskeyStore::add_passkey",
    "PasskeyStore::record_passkey_use",
    "PasskeyStore::remove_passkey",
    "PasskeyStore::remove_second_factors",
    "PasskeyStore::put_ceremony",
    "PasskeyStore::purge_ceremonies",
    "PasskeyStore::take_ceremony",
];

/// Runs the sweep over every method of [`PORT_METHODS`], waiting for abandoned work with
/// [`ChangeLog::settled`]. It expects no other writer on the store while it runs.
pub async fn cancellation_sweep<S: Store + ?Sized>(store: &S) -> Report {
    let mut report = Report::default();
    let fx = match Fixture::new(store).await {
        Ok(fx) => fx,
        Err(why) => {
            report.record("cancellation fixture", Err(why));
            return report;
        }
    };
    for method in PORT_METHODS {
        let outcome = sweep_one(store, &fx, method).await;
        report.record(method, outcome);
    }
    report
}

/// Abandons one method after 1, 2, 3 … polls until a run completes.
async fn sweep_one<S: Store + ?Sized>(s: &S, fx: &Fixture, method: &str) -> Outcome {
    for polls in 1..=MAX_POLLS {
        let run = Run::new(s, fx).await?;
        let Some(call) = cases::call(s, fx, &run, method).await? else {
            return Err(format!("the sweep has no case for {method}"));
        };
        let completed = abandon_after(call, polls).await;
        // A store left broken may hang rather than fail: bound the look afterwards.
        let after = async {
            s.settled().await;
            run.whole_or_absent(s, fx).await?;
            fx.serves_every_port(s).await
        };
        match tokio::time::timeout(SETTLE_WITHIN, after).await {
            Ok(outcome) => outcome.map_err(|e| format!("after {polls} poll(s): {e}"))?,
            Err(_) => {
                return Err(format!(
                    "after {polls} poll(s): the store did not settle and serve within {SETTLE_WITHIN:?}"
                ))
            }
        }
        if completed {
            return Ok(());
        }
    }
    Err(format!(
        "{method} did not complete within {MAX_POLLS} polls"
    ))
}

/// Polls `call` up to `polls` times with the task's own waker, sleeping 1 ms between polls,
/// and drops it unless it completed; says whether it completed.
async fn abandon_after(call: Call<'_>, polls: usize) -> bool {
    let mut call = call;
    for i in 0..polls {
        let ready = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx).is_ready())).await;
        if ready {
            return true;
        }
        if i + 1 < polls {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    false
}

/// What every case may act on, made once.
struct Fixture {
    /// The audit actor of the sweep's journals.
    actor: String,
    user: UserId,
    role: RoleId,
    included: RoleId,
    session: String,
    api_key: ApiKeyId,
    scope: Scope,
    target: String,
}

impl Fixture {
    async fn new<S: Store + ?Sized>(s: &S) -> Result<Fixture, String> {
        let t = uniq("sweep");
        let role = s
            .create_role(&Role::new(format!("{t}-r"), "", ""), &Journal::default())
            .await
            .ctx("create role")?;
        let included = s
            .create_role(&Role::new(format!("{t}-i"), "", ""), &Journal::default())
            .await
            .ctx("create role")?;
        let mut u = new_user(&format!("{t}-u"));
        u.roles = vec![Assignment::global(role.id)];
        let user = s
            .create_user(&u, &Journal::default())
            .await
            .ctx("create user")?;
        let session = format!("{t}-s");
        s.create_session(
            &new_session(&session, user.id, now() + 3600),
            &Journal::default(),
        )
        .await
        .ctx("create session")?;
        let api_key = s
            .create_api_key(&new_api_key(user.id, &t), &Journal::default())
            .await
            .ctx("create key")?;
        Ok(Fixture {
            actor: uniq("sweeper"),
            user: user.id,
            role: role.id,
            included: included.id,
            session,
            api_key: api_key.id,
            scope: Scope::new("org", i64::from(rand::random::<u16>()) + 1).ctx("scope")?,
            target: format!("{t}-hook"),
        })
    }

    /// Reads through every port and writes one journalled change, each of which must work.
    async fn serves_every_port<S: Store + ?Sized>(&self, s: &S) -> Outcome {
        s.user(self.user).await.ctx("UserStore")?.ctx("the user")?;
        s.role(self.role).await.ctx("RoleStore")?.ctx("the role")?;
        s.session(&self.session).await.ctx("SessionStore")?;
        s.recent_events(1).await.ctx("EventStore")?;
        s.totp(self.user).await.ctx("SecondFactorStore")?;
        s.count_audit(&AuditQuery::default())
            .await
            .ctx("AuditStore")?;
        s.setting("sweep").await.ctx("SettingStore")?;
        s.login_blocked(&["sweep"], now())
            .await
            .ctx("ThrottleStore")?;
        s.purge_codes(0).await.ctx("CodeStore")?;
        s.api_key(self.api_key).await.ctx("ApiKeyStore")?;
        s.scope_parents().await.ctx("ScopeStore")?;
        s.passkeys(self.user).await.ctx("PasskeyStore")?;
        let cursor = s.change_cursor().await.ctx("ChangeLog")?;
        let marker = uniq("alive");
        let mut role = s
            .role(self.included)
            .await
            .ctx("RoleStore")?
            .ctx("a role")?;
        role.remark = marker.clone();
        s.update_role(&role, &self.journal(&marker))
            .await
            .ctx("a journalled write")?;
        let changes = s.changes_since(cursor, 1000).await.ctx("changes_since")?;
        ensure!(
            changes
                .iter()
                .any(|(_, c)| *c == Change::Session(marker.clone())),
            "a journalled write left no change row"
        );
        Ok(())
    }

    /// A journal whose audit entry and change both carry `marker`.
    fn journal(&self, marker: &str) -> Journal {
        Journal {
            audit: Some(NewAudit {
                user_id: Some(4242),
                user_name: self.actor.clone(),
                category: AuditCategory::System,
                content: marker.to_string(),
                success: true,
            }),
            changes: vec![Change::Session(marker.to_string())],
            events: Vec::new(),
        }
    }
}

/// One abandoned run: its marker, and where the change log stood before it.
struct Run {
    marker: String,
    cursor: i64,
    /// What the call's effect is, to compare with its journal: set by the case.
    effect: std::sync::Mutex<Option<Effect>>,
}

/// A write's effect the sweep can look for afterwards.
enum Effect {
    /// A user by this name exists.
    User(String),
    /// A role by this name exists.
    Role(String),
    /// This session exists.
    Session(String),
    /// An API key with this key exists.
    ApiKey(String),
}

impl Run {
    async fn new<S: Store + ?Sized>(s: &S, fx: &Fixture) -> Result<Run, String> {
        let _ = fx;
        Ok(Run {
            marker: uniq("run"),
            cursor: s.change_cursor().await.ctx("change_cursor")?,
            effect: std::sync::Mutex::new(None),
        })
    }

    fn journal(&self, fx: &Fixture) -> Journal {
        fx.journal(&self.marker)
    }

    fn expect(&self, effect: Effect) {
        if let Ok(mut slot) = self.effect.lock() {
            *slot = Some(effect);
        }
    }

    /// The run's audit entry, its change row and its effect are all there, or none is.
    async fn whole_or_absent<S: Store + ?Sized>(&self, s: &S, fx: &Fixture) -> Outcome {
        let q = AuditQuery {
            user_name: Some(fx.actor.clone()),
            page: Page {
                offset: 0,
                limit: Some(20),
            },
            ..AuditQuery::default()
        };
        let audit = s.list_audit(&q).await.ctx("list_audit")?;
        let audited = audit.rows.iter().any(|a| a.content == self.marker);
        let changes = s.changes_since(self.cursor, 1000).await.ctx("changes")?;
        let changed = changes
            .iter()
            .any(|(_, c)| *c == Change::Session(self.marker.clone()));
        ensure!(
            audited == changed,
            "half a journal: audit entry {}, change row {}",
            if audited { "present" } else { "absent" },
            if changed { "present" } else { "absent" }
        );
        let effect = self.effect.lock().ok().and_then(|mut e| e.take());
        if let Some(effect) = effect {
            let (what, present) = match &effect {
                Effect::User(name) => ("user", s.user_by_name(name).await.ctx("user")?.is_some()),
                Effect::Role(name) => ("role", s.role_by_name(name).await.ctx("role")?.is_some()),
                Effect::Session(id) => ("session", s.session(id).await.ctx("session")?.is_some()),
                Effect::ApiKey(key) => (
                    "API key",
                    s.find_api_key(key).await.ctx("API key")?.is_some(),
                ),
            };
            ensure!(
                present == audited,
                "the {what} is {} but its journal is {}",
                if present { "present" } else { "absent" },
                if audited { "present" } else { "absent" }
            );
        }
        Ok(())
    }
}
