//! The storage conformance suite: every documented behaviour of the storage traits, generic
//! over [`Store`], for each backend to run against itself.
//!
//! Every check uses names made unique per run, so all checks can share one store (and the
//! store may hold other data), but the checks run one after another: a check that counts
//! (sessions, changes) expects no concurrent writer on the same store.
//!
//! ```no_run
//! # async fn demo() {
//! let store = rbac_core::MemoryStore::new();
//! rbac_core::conformance::run_all(&store).await.assert_passed();
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Entity, Field, StoreError};
use crate::model::*;
use crate::store::*;

/// What a check returns: `Err` carries the first failed expectation.
pub type Outcome = Result<(), String>;

/// The result of a run: which checks passed and which failed, and why.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// The names of the checks that passed.
    pub passed: Vec<&'static str>,
    /// The names of the checks that failed, with the failure.
    pub failed: Vec<(&'static str, String)>,
}

impl Report {
    fn record(&mut self, name: &'static str, outcome: Outcome) {
        match outcome {
            Ok(()) => {
                println!("conformance: ok     {name}");
                self.passed.push(name);
            }
            Err(why) => {
                println!("conformance: FAILED {name}: {why}");
                self.failed.push((name, why));
            }
        }
    }

    /// Panics, listing every failure, unless every check passed.
    #[track_caller]
    pub fn assert_passed(&self) {
        if !self.failed.is_empty() {
            let list: Vec<String> = self
                .failed
                .iter()
                .map(|(n, why)| format!("  {n}: {why}"))
                .collect();
            panic!(
                "{} of {} conformance checks failed:\n{}",
                self.failed.len(),
                self.failed.len() + self.passed.len(),
                list.join("\n")
            );
        }
    }
}

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !($cond) {
            return Err(format!("line {}: {}", line!(), format!($($fmt)+)));
        }
    };
}

macro_rules! ensure_eq {
    ($left:expr, $right:expr $(,)?) => {{
        let (l, r) = (&$left, &$right);
        if l != r {
            return Err(format!(
                "line {}: `{}` == `{}` failed\n    left: {:?}\n   right: {:?}",
                line!(),
                stringify!($left),
                stringify!($right),
                l,
                r
            ));
        }
    }};
}

macro_rules! ensure_err {
    ($res:expr, $pat:pat) => {
        match $res {
            Err($pat) => {}
            other => {
                return Err(format!(
                    "line {}: expected Err({}), got {:?}",
                    line!(),
                    stringify!($pat),
                    other.map(|_| ())
                ))
            }
        }
    };
}

/// Turns an unexpected store error into a failure naming the call site.
trait Ctx<T> {
    fn ctx(self, what: &str) -> Result<T, String>;
}

impl<T> Ctx<T> for StoreResult<T> {
    #[track_caller]
    fn ctx(self, what: &str) -> Result<T, String> {
        let at = Location::caller();
        self.map_err(|e| format!("line {}: {what}: unexpected error {e:?}", at.line()))
    }
}

impl<T> Ctx<T> for Option<T> {
    #[track_caller]
    fn ctx(self, what: &str) -> Result<T, String> {
        let at = Location::caller();
        self.ok_or_else(|| format!("line {}: {what}: expected a record, found none", at.line()))
    }
}

/// A token unique to this process run and call, to keep checks' records apart.
fn uniq(tag: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("t{:08x}{n}-{tag}", rand::random::<u32>())
}

fn new_user(name: &str) -> User {
    User::blank(name, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
}

/// An API key of `owner` whose key is `key`, limited to 30 requests a day.
fn new_api_key(owner: UserId, key: &str) -> ApiKey {
    ApiKey {
        id: 0,
        owner_id: owner,
        name: "我的ChatGPT密钥 'x'".into(),
        key: key.into(),
        secret: format!("{key}-secret"),
        revoked: false,
        daily_limit: Some(30),
        request_total: 0,
        request_today: 0,
        request_day: 0,
        created_at: 1_700_000_000,
    }
}

fn new_session(id: &str, user: UserId, expires_at: Timestamp) -> Session {
    let t = now();
    Session {
        id: id.to_string(),
        user_id: user,
        kind: SessionKind::Jwt,
        issued_at: t,
        expires_at,
        last_seen: t,
        revoked: false,
        ip: "192.0.2.1".into(),
        factors: Factors::PASSWORD,
        verified_at: t,
        user_agent: String::new(),
    }
}

/// Compares every field of two users, naming the ones that differ.
fn same_user(line: u32, got: &User, want: &User) -> Outcome {
    let mut diff = Vec::new();
    macro_rules! cmp {
        ($($f:ident),*) => {$(
            if got.$f != want.$f {
                diff.push(format!("{}: got {:?}, want {:?}", stringify!($f), got.$f, want.$f));
            }
        )*};
    }
    cmp!(
        id,
        name,
        alias,
        phone,
        email,
        remark,
        password_hash,
        roles,
        enabled,
        tenant,
        member_of,
        creator,
        attributes,
        login_time,
        login_ip,
        created_at,
        updated_at
    );
    if diff.is_empty() {
        Ok(())
    } else {
        Err(format!("line {line}: users differ: {}", diff.join("; ")))
    }
}

fn ids(users: &[User]) -> Vec<UserId> {
    users.iter().map(|u| u.id).collect()
}

/// Watches what writes journal: the audit entries of one unique actor and the change log.
struct Probe {
    actor: String,
    cursor: i64,
    audits: u64,
}

impl Probe {
    async fn new<S: Store + ?Sized>(s: &S, tag: &str) -> Result<Probe, String> {
        let actor = uniq(tag);
        let cursor = s.change_cursor().await.ctx("change_cursor")?;
        Ok(Probe {
            actor,
            cursor,
            audits: 0,
        })
    }

    /// A journal with an audit entry by this probe's actor and these changes.
    fn journal(&self, content: &str, changes: &[Change]) -> Journal {
        Journal {
            audit: Some(NewAudit {
                user_id: Some(4242),
                user_name: self.actor.clone(),
                category: AuditCategory::System,
                content: content.to_string(),
                success: true,
            }),
            changes: changes.to_vec(),
            events: Vec::new(),
        }
    }

    async fn audit_rows<S: Store + ?Sized>(&self, s: &S) -> Result<Listing<AuditEntry>, String> {
        let q = AuditQuery {
            user_name: Some(self.actor.clone()),
            ..AuditQuery::default()
        };
        s.list_audit(&q).await.ctx("list_audit")
    }

    /// Asserts that exactly one audit entry `content` and exactly `changes` were written.
    async fn written<S: Store + ?Sized>(
        &mut self,
        s: &S,
        content: &str,
        changes: &[Change],
    ) -> Outcome {
        let audit = self.audit_rows(s).await?;
        ensure!(
            audit.total == self.audits + 1,
            "after `{content}`: expected {} audit entries, found {}",
            self.audits + 1,
            audit.total
        );
        let newest = audit.rows.first().ctx("newest audit entry")?;
        ensure_eq!(newest.content, content);
        ensure_eq!(newest.user_id, Some(4242));
        ensure_eq!(newest.category, AuditCategory::System as i32);
        ensure!(newest.success, "audit entry not marked successful");
        let got = s
            .changes_since(self.cursor, 1000)
            .await
            .ctx("changes_since")?;
        let kinds: Vec<Change> = got.iter().map(|(_, c)| c.clone()).collect();
        ensure!(
            kinds == changes,
            "after `{content}`: changes {kinds:?}, expected {changes:?}"
        );
        for w in got.windows(2) {
            ensure!(w[0].0 < w[1].0, "change ids not increasing: {got:?}");
        }
        if let Some((last, _)) = got.last() {
            ensure!(
                *last > self.cursor,
                "change id {last} not after cursor {}",
                self.cursor
            );
            self.cursor = *last;
        }
        self.audits += 1;
        Ok(())
    }

    /// Asserts that nothing was journalled since the last look.
    async fn nothing<S: Store + ?Sized>(&self, s: &S, what: &str) -> Outcome {
        let audit = self.audit_rows(s).await?;
        ensure!(
            audit.total == self.audits,
            "after {what}: expected {} audit entries, found {} (a refused write must leave none)",
            self.audits,
            audit.total
        );
        let got = s
            .changes_since(self.cursor, 1000)
            .await
            .ctx("changes_since")?;
        ensure!(
            got.is_empty(),
            "after {what}: unexpected changes {got:?} (a refused write must leave none)"
        );
        Ok(())
    }
}

mod api_keys;
mod assignments;
mod audit;
mod cancellation;
mod changes;
mod codes;
mod factors;
mod identity;
mod import;
mod inclusion;
mod layer;
mod passkeys;
mod roles;
mod sessions;
mod settings;
mod throttle;
mod user_accounts;
mod user_lists;
mod users;
use api_keys::*;
use assignments::*;
use audit::*;
pub use cancellation::{cancellation_sweep, PORT_METHODS};
use changes::*;
use codes::*;
use factors::*;
use identity::*;
use import::*;
use inclusion::*;
use layer::{layer_optional, layer_reads, layer_reads_fresh};
pub use layer::{run_layer, LayerFixture, Ports, LAYER_CHECKS};
use passkeys::*;
use roles::*;
use sessions::*;
use settings::*;
use throttle::*;
use user_accounts::*;
use user_lists::*;
use users::*;

macro_rules! checks {
    ($($name:ident),* $(,)?) => {
        /// The name of every check, in the order [`run_all`] runs them.
        pub const CHECKS: &[&str] = &[$(stringify!($name)),*];

        /// Runs every check against `store`, one after another, and reports each outcome.
        pub async fn run_all<S: Store + ?Sized>(store: &S) -> Report {
            let mut report = Report::default();
            $( report.record(stringify!($name), $name(store).await); )*
            report
        }

        /// Runs the named checks only (names from [`CHECKS`]); unknown names fail.
        pub async fn run_some<S: Store + ?Sized>(store: &S, names: &[&str]) -> Report {
            let mut report = Report::default();
            for name in names {
                match *name {
                    $( stringify!($name) => report.record(stringify!($name), $name(store).await), )*
                    _ => report.failed.push(("unknown", format!("no check named {name}"))),
                }
            }
            report
        }
    };
}

/// Calls `$callback!(check, check, …)` with the name of every conformance check, in the
/// order [`run_all`] runs them: a backend generates one `#[test]` per check with it, so
/// that one check runs by name (`cargo test -p my-backend -- user_delete`).
///
/// ```
/// macro_rules! count { ($($check:ident),* $(,)?) => { [$(stringify!($check)),*].len() } }
/// assert_eq!(rbac_core::for_each_conformance_check!(count), rbac_core::conformance::CHECKS.len());
/// ```
#[macro_export]
macro_rules! for_each_conformance_check {
    ($callback:ident) => {
        $callback! {
        layer_reads,
        layer_reads_fresh,
        layer_optional,
        nul_characters_are_refused_or_absent,
        user_create_and_read,
        user_unique_name_and_email,
        user_names_fold_case_and_lookalikes,
        user_claims_yield_to_verified,
        role_names_exact,
        user_create_with_missing_role,
        users_by_phone,
        user_update_replaces_fields,
        user_update_refusals,
        user_set_password,
        user_update_revokes,
        user_writes_guarded,
        user_delete,
        user_record_login,
        user_count_with_role,
        user_list_substring_literal,
        user_list_parent_order_paging,
        role_create_and_read,
        role_list,
        role_update,
        role_set_privileges,
        role_delete,
        role_system_key,
        role_includes,
        role_includes_race,
        users_import,
        assignments_many_and_scoped,
        scope_parents,
        scope_ids_are_exact_text,
        role_scoped_by_tenant,
        session_create_and_read,
        session_revoke,
        session_rotate_once,
        session_rotate_race,
        session_rotate_refusals,
        session_revoke_user_sessions,
        session_touch,
        session_count_and_purge,
        session_list_of_a_user,
        second_factor_totp,
        passkeys_and_ceremonies,
        first_factor_ends_other_sessions,
        role_requires_second_factor,
        security_event_deliveries,
        audit_append_and_list,
        audit_filters_and_paging,
        journal_without_audit,
        settings,
        settings_race,
        login_throttle,
        login_throttle_race,
        login_reserve,
        login_reserve_race,
        login_addresses,
        codes_send_and_resend,
        codes_take,
        codes_take_race,
        codes_put_race,
        api_keys_create_list_revoke,
        api_keys_count_requests,
        api_key_quota,
        api_key_quota_race,
        change_log,
        change_prune_keeps_ids_growing,
        users_total_and_keyset,
        users_deep_pages,
        audit_total_and_prune}
    };
}

for_each_conformance_check!(checks);
