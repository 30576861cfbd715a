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
        did,
        remark,
        password_hash,
        role_id,
        enabled,
        department_id,
        parent_id,
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

mod identity;
mod projects;
use identity::*;
use projects::*;

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

checks!(
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
    session_create_and_read,
    session_revoke,
    session_rotate_once,
    session_rotate_race,
    session_rotate_refusals,
    session_revoke_user_sessions,
    session_touch,
    session_count_and_purge,
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
    organisations,
    codes_send_and_resend,
    codes_take,
    codes_take_race,
    codes_put_race,
    projects_create_list_delete,
    projects_count_requests,
    project_quota,
    project_quota_race,
    change_log,
    change_prune_keeps_ids_growing,
);

/// A NUL character in looked-up text finds nothing or is refused as input
/// ([`StoreError::Unrepresentable`]), never a backend failure (a 5xx).
async fn nul_characters_are_refused_or_absent<S: Store + ?Sized>(s: &S) -> Outcome {
    let fine = |what: &str, e: Option<StoreError>| match e {
        None | Some(StoreError::Unrepresentable(_)) => Ok(()),
        Some(other) => Err(format!("{what} with a NUL: {other}")),
    };
    fine("user_by_name", s.user_by_name("a\0b").await.err())?;
    fine("role_by_name", s.role_by_name("a\0b").await.err())?;
    Ok(())
}

async fn user_create_and_read<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let mut p = Probe::new(s, "actor").await?;
    let role = s
        .create_role(
            &Role::new(format!("{t}-role"), "", "tester"),
            &Journal::default(),
        )
        .await
        .ctx("create role")?;
    let mut u = new_user(&format!("{t}-full ünï"));
    u.id = 999_999_999;
    u.alias = "Alias ünïcødé 名前".into();
    u.phone = format!("+86 {t}");
    u.email = Some(format!("{t}@example.com"));
    u.did = "did:example:123".into();
    u.remark = "it's \"quoted\" \\ 100% _sure_".into();
    u.role_id = Some(role.id);
    u.enabled = false;
    u.department_id = Some(77);
    u.parent_id = Some(123_456_789);
    u.creator = "admin".into();
    u.attributes = BTreeMap::from([
        ("duty".to_string(), "ops \"night\"".to_string()),
        ("telephone".to_string(), "010-1234".to_string()),
    ]);
    u.login_time = Some(1_700_000_000);
    u.login_ip = "2001:db8::1".into();
    u.created_at = 1_600_000_000;
    u.updated_at = 1_600_000_100;

    let created = s
        .create_user(&u, &p.journal("create user", &[Change::User(1)]))
        .await
        .ctx("create_user")?;
    ensure!(
        created.id > 0 && created.id != u.id,
        "store must assign the id, got {}",
        created.id
    );
    p.written(s, "create user", &[Change::User(1)]).await?;
    let mut want = u.clone();
    want.id = created.id;
    same_user(line!(), &created, &want)?;
    same_user(
        line!(),
        &s.user(created.id).await.ctx("user")?.ctx("user")?,
        &want,
    )?;
    same_user(
        line!(),
        &s.user_by_name(&u.name)
            .await
            .ctx("by name")?
            .ctx("by name")?,
        &want,
    )?;
    let email = u.email.clone().unwrap_or_default();
    same_user(
        line!(),
        &s.user_by_email(&email)
            .await
            .ctx("by email")?
            .ctx("by email")?,
        &want,
    )?;

    let blank = s
        .create_user(&new_user(&format!("{t}-blank")), &Journal::default())
        .await
        .ctx("create blank")?;
    ensure!(
        blank.id > created.id,
        "ids must grow: {} after {}",
        blank.id,
        created.id
    );
    let got = s.user(blank.id).await.ctx("user")?.ctx("blank user")?;
    ensure_eq!(got.email, None);
    ensure_eq!(got.role_id, None);
    ensure_eq!(got.login_time, None);
    ensure!(got.attributes.is_empty(), "attributes {:?}", got.attributes);
    ensure!(got.enabled, "blank user must be enabled");

    ensure!(
        s.user(i64::MAX - 7).await.ctx("user")?.is_none(),
        "missing id found"
    );
    ensure!(
        s.user_by_name(&format!("{t}-none"))
            .await
            .ctx("by name")?
            .is_none(),
        "missing name found"
    );
    ensure!(
        s.user_by_email(&format!("{t}-none@x"))
            .await
            .ctx("by email")?
            .is_none(),
        "missing e-mail found"
    );
    Ok(())
}

async fn user_unique_name_and_email<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let mut p = Probe::new(s, "actor").await?;
    let mut a = new_user(&format!("{t}-a"));
    a.email = Some(format!("{t}-a@example.com"));
    let a = s
        .create_user(&a, &p.journal("create a", &[]))
        .await
        .ctx("create a")?;
    p.written(s, "create a", &[]).await?;

    let dup_name = new_user(&a.name);
    ensure_err!(
        s.create_user(&dup_name, &p.journal("dup name", &[Change::User(1)]))
            .await,
        StoreError::Conflict(Field::UserName)
    );
    p.nothing(s, "a create with a taken name").await?;

    let mut dup_email = new_user(&format!("{t}-b"));
    dup_email.email = a.email.clone();
    ensure_err!(
        s.create_user(&dup_email, &p.journal("dup email", &[Change::User(2)]))
            .await,
        StoreError::Conflict(Field::Email)
    );
    p.nothing(s, "a create with a taken e-mail").await?;
    ensure!(
        s.user_by_name(&dup_email.name)
            .await
            .ctx("by name")?
            .is_none(),
        "refused user was stored"
    );

    // Many users may have no e-mail.
    for i in 0..3 {
        s.create_user(&new_user(&format!("{t}-noemail{i}")), &Journal::default())
            .await
            .ctx("create without e-mail")?;
    }
    Ok(())
}

/// Role names are exact: a case difference is another role.
async fn role_names_exact<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let role_a = s
        .create_role(&Role::new(format!("{t}-Role"), "", ""), &Journal::default())
        .await
        .ctx("create Role")?;
    let role_b = s
        .create_role(&Role::new(format!("{t}-role"), "", ""), &Journal::default())
        .await
        .ctx("a role name differing only in case is another name")?;
    ensure_eq!(
        s.role_by_name(&format!("{t}-role"))
            .await
            .ctx("role_by_name")?
            .map(|r| r.id),
        Some(role_b.id)
    );
    ensure_eq!(
        s.role_by_name(&format!("{t}-Role"))
            .await
            .ctx("role_by_name")?
            .map(|r| r.id),
        Some(role_a.id)
    );
    ensure_eq!(
        s.role_by_name(&format!("{t}-ROLE"))
            .await
            .ctx("role_by_name")?
            .map(|r| r.id),
        None
    );
    Ok(())
}

async fn user_create_with_missing_role<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let p = Probe::new(s, "actor").await?;
    let mut u = new_user(&format!("{t}-orphan"));
    u.role_id = Some(i64::MAX - 11);
    ensure_err!(
        s.create_user(&u, &p.journal("create orphan", &[Change::User(3)]))
            .await,
        StoreError::NotFound(Entity::Role)
    );
    p.nothing(s, "a create with a missing role").await?;
    ensure!(
        s.user_by_name(&u.name).await.ctx("by name")?.is_none(),
        "refused user was stored"
    );
    Ok(())
}

async fn users_by_phone<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let phone = format!("+1 {t}");
    let mut made = Vec::new();
    for i in 0..3 {
        let mut u = new_user(&format!("{t}-ph{i}"));
        u.phone = phone.clone();
        made.push(
            s.create_user(&u, &Journal::default())
                .await
                .ctx("create")?
                .id,
        );
    }
    let mut other = new_user(&format!("{t}-other"));
    other.phone = format!("{phone}0");
    s.create_user(&other, &Journal::default())
        .await
        .ctx("create other")?;

    let all = s.users_by_phone(&phone, 10).await.ctx("users_by_phone")?;
    ensure_eq!(ids(&all), made);
    let two = s
        .users_by_phone(&phone, 2)
        .await
        .ctx("users_by_phone limit")?;
    ensure_eq!(ids(&two), made[..2].to_vec());
    ensure!(
        s.users_by_phone(&format!("{t}-none"), 10)
            .await
            .ctx("users_by_phone")?
            .is_empty(),
        "unknown phone matched"
    );
    ensure!(
        s.users_by_phone(&phone.to_uppercase(), 10)
            .await
            .ctx("users_by_phone")?
            .is_empty()
            || phone == phone.to_uppercase(),
        "phone must match exactly"
    );
    Ok(())
}

async fn user_update_replaces_fields<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let mut p = Probe::new(s, "actor").await?;
    let r1 = s
        .create_role(&Role::new(format!("{t}-r1"), "", ""), &Journal::default())
        .await
        .ctx("create r1")?;
    let r2 = s
        .create_role(&Role::new(format!("{t}-r2"), "", ""), &Journal::default())
        .await
        .ctx("create r2")?;
    let mut u = new_user(&format!("{t}-before"));
    u.alias = "before".into();
    u.email = Some(format!("{t}-before@example.com"));
    u.role_id = Some(r1.id);
    u.department_id = Some(1);
    u.parent_id = Some(2);
    u.attributes = BTreeMap::from([("a".to_string(), "1".to_string())]);
    u.login_time = Some(5);
    u.login_ip = "old".into();
    u.created_at = 1_000;
    u.updated_at = 1_000;
    let u = s.create_user(&u, &Journal::default()).await.ctx("create")?;

    let mut next = u.clone();
    next.name = format!("{t}-after");
    next.alias = "after".into();
    next.phone = "+49 30".into();
    next.email = None;
    next.did = "did:after".into();
    next.remark = "after".into();
    next.password_hash = "$2b$12$after".into();
    next.role_id = Some(r2.id);
    next.enabled = false;
    next.department_id = None;
    next.parent_id = None;
    next.creator = "someone".into();
    next.attributes = BTreeMap::from([
        ("b".to_string(), "2".to_string()),
        ("c".to_string(), String::new()),
    ]);
    next.login_time = None;
    next.login_ip = String::new();
    next.created_at = 99_999; // ignored: created_at is kept
    next.updated_at = 2_000;
    s.update_user(
        &next,
        Revoke::Nothing,
        &p.journal("update", &[Change::User(u.id)]),
    )
    .await
    .ctx("update_user")?;
    p.written(s, "update", &[Change::User(u.id)]).await?;
    let mut want = next.clone();
    want.created_at = u.created_at;
    same_user(
        line!(),
        &s.user(u.id).await.ctx("user")?.ctx("user")?,
        &want,
    )?;
    ensure!(
        s.user_by_name(&u.name).await.ctx("by name")?.is_none(),
        "old name still resolves"
    );
    ensure!(
        s.user_by_email(&format!("{t}-before@example.com"))
            .await
            .ctx("by email")?
            .is_none(),
        "old e-mail still resolves"
    );
    ensure_eq!(s.count_users_with_role(r1.id).await.ctx("count r1")?, 0);
    ensure_eq!(s.count_users_with_role(r2.id).await.ctx("count r2")?, 1);

    // The freed name and e-mail can be taken by another user.
    let mut other = new_user(&u.name);
    other.email = u.email.clone();
    s.create_user(&other, &Journal::default())
        .await
        .ctx("take the freed name and e-mail")?;

    // An update that changes nothing still succeeds.
    s.update_user(&want, Revoke::Nothing, &p.journal("same", &[]))
        .await
        .ctx("update with identical values")?;
    p.written(s, "same", &[]).await?;
    same_user(
        line!(),
        &s.user(u.id).await.ctx("user")?.ctx("user")?,
        &want,
    )?;
    Ok(())
}

async fn user_update_refusals<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let p = Probe::new(s, "actor").await?;
    let mut a = new_user(&format!("{t}-a"));
    a.email = Some(format!("{t}-a@example.com"));
    let a = s
        .create_user(&a, &Journal::default())
        .await
        .ctx("create a")?;
    let mut b = new_user(&format!("{t}-b"));
    b.email = Some(format!("{t}-b@example.com"));
    let b = s
        .create_user(&b, &Journal::default())
        .await
        .ctx("create b")?;

    let mut gone = b.clone();
    gone.id = i64::MAX - 3;
    gone.name = format!("{t}-gone");
    gone.email = None;
    ensure_err!(
        s.update_user(
            &gone,
            Revoke::Nothing,
            &p.journal("missing", &[Change::User(gone.id)])
        )
        .await,
        StoreError::NotFound(Entity::User)
    );
    p.nothing(s, "an update of a missing user").await?;

    let mut taken_name = b.clone();
    taken_name.name = a.name.clone();
    taken_name.alias = "changed".into();
    ensure_err!(
        s.update_user(
            &taken_name,
            Revoke::Nothing,
            &p.journal("taken name", &[Change::User(b.id)])
        )
        .await,
        StoreError::Conflict(Field::UserName)
    );
    p.nothing(s, "an update to a taken name").await?;

    let mut taken_email = b.clone();
    taken_email.email = a.email.clone();
    taken_email.alias = "changed".into();
    ensure_err!(
        s.update_user(
            &taken_email,
            Revoke::Nothing,
            &p.journal("taken email", &[Change::User(b.id)])
        )
        .await,
        StoreError::Conflict(Field::Email)
    );
    p.nothing(s, "an update to a taken e-mail").await?;

    let mut bad_role = b.clone();
    bad_role.role_id = Some(i64::MAX - 5);
    bad_role.alias = "changed".into();
    ensure_err!(
        s.update_user(
            &bad_role,
            Revoke::Nothing,
            &p.journal("bad role", &[Change::User(b.id)])
        )
        .await,
        StoreError::NotFound(Entity::Role)
    );
    p.nothing(s, "an update to a missing role").await?;

    same_user(line!(), &s.user(b.id).await.ctx("user")?.ctx("b")?, &b)?;
    same_user(line!(), &s.user(a.id).await.ctx("user")?.ctx("a")?, &a)?;
    Ok(())
}

async fn user_set_password<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-pw")), &Journal::default())
        .await
        .ctx("create")?;
    let other = s
        .create_user(&new_user(&format!("{t}-other")), &Journal::default())
        .await
        .ctx("create other")?;
    let far = now() + 3600;
    let sid: Vec<String> = (0..3).map(|i| format!("{t}-s{i}")).collect();
    for id in &sid {
        s.create_session(&new_session(id, u.id, far), &Journal::default())
            .await
            .ctx("create session")?;
    }
    let foreign = format!("{t}-foreign");
    s.create_session(&new_session(&foreign, other.id, far), &Journal::default())
        .await
        .ctx("create other's session")?;

    let before = now();
    s.set_password(
        u.id,
        "$argon2id$new",
        Some(&sid[1]),
        &p.journal("pw", &[Change::User(u.id)]),
    )
    .await
    .ctx("set_password")?;
    p.written(s, "pw", &[Change::User(u.id)]).await?;
    let got = s.user(u.id).await.ctx("user")?.ctx("user")?;
    ensure_eq!(got.password_hash, "$argon2id$new");
    ensure!(
        got.updated_at >= before,
        "updated_at not advanced: {}",
        got.updated_at
    );
    let revoked = |id: String| async move {
        s.session(&id)
            .await
            .ctx("session")?
            .ctx("session")
            .map(|x| x.revoked)
    };
    ensure!(revoked(sid[0].clone()).await?, "other session not revoked");
    ensure!(!revoked(sid[1].clone()).await?, "kept session revoked");
    ensure!(revoked(sid[2].clone()).await?, "other session not revoked");
    ensure!(
        !revoked(foreign.clone()).await?,
        "another user's session revoked"
    );

    s.set_password(u.id, "$argon2id$newer", None, &p.journal("pw2", &[]))
        .await
        .ctx("set_password without keep")?;
    p.written(s, "pw2", &[]).await?;
    ensure!(
        revoked(sid[1].clone()).await?,
        "session survived a password change without keep"
    );
    ensure!(!revoked(foreign).await?, "another user's session revoked");

    ensure_err!(
        s.set_password(
            i64::MAX - 9,
            "x",
            None,
            &p.journal("missing", &[Change::User(0)])
        )
        .await,
        StoreError::NotFound(Entity::User)
    );
    p.nothing(s, "set_password of a missing user").await?;
    Ok(())
}

async fn user_update_revokes<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-cut")), &Journal::default())
        .await
        .ctx("create")?;
    let other = s
        .create_user(&new_user(&format!("{t}-bystander")), &Journal::default())
        .await
        .ctx("create other")?;
    let far = now() + 3600;
    let sid: Vec<String> = (0..2).map(|i| format!("{t}-s{i}")).collect();
    for id in &sid {
        s.create_session(&new_session(id, u.id, far), &Journal::default())
            .await
            .ctx("create session")?;
    }
    let foreign = format!("{t}-foreign");
    s.create_session(&new_session(&foreign, other.id, far), &Journal::default())
        .await
        .ctx("create other's session")?;
    let revoked = |id: String| async move {
        s.session(&id)
            .await
            .ctx("session")?
            .ctx("session")
            .map(|x| x.revoked)
    };

    let mut next = u.clone();
    next.password_hash = "$argon2id$edited".into();
    s.update_user(
        &next,
        Revoke::AllBut(&sid[1]),
        &p.journal("edit", &[Change::User(u.id)]),
    )
    .await
    .ctx("update_user keeping one session")?;
    p.written(s, "edit", &[Change::User(u.id)]).await?;
    ensure!(revoked(sid[0].clone()).await?, "session not revoked");
    ensure!(!revoked(sid[1].clone()).await?, "kept session revoked");

    next.enabled = false;
    s.update_user(
        &next,
        Revoke::All,
        &p.journal("disable", &[Change::User(u.id)]),
    )
    .await
    .ctx("update_user revoking all")?;
    p.written(s, "disable", &[Change::User(u.id)]).await?;
    ensure!(
        revoked(sid[1].clone()).await?,
        "session survived Revoke::All"
    );
    ensure!(
        !revoked(foreign.clone()).await?,
        "another user's session revoked"
    );

    // A refused update revokes nothing.
    s.create_session(
        &new_session(&format!("{t}-s9"), u.id, far),
        &Journal::default(),
    )
    .await
    .ctx("create session")?;
    let mut clash = next.clone();
    clash.name = other.name.clone();
    ensure_err!(
        s.update_user(
            &clash,
            Revoke::All,
            &p.journal("clash", &[Change::User(u.id)])
        )
        .await,
        StoreError::Conflict(Field::UserName)
    );
    p.nothing(s, "a refused update").await?;
    ensure!(
        !revoked(format!("{t}-s9")).await?,
        "a refused update revoked a session"
    );
    Ok(())
}

async fn user_delete<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let mut p = Probe::new(s, "actor").await?;
    let mut u = new_user(&format!("{t}-del"));
    u.email = Some(format!("{t}-del@example.com"));
    let u = s.create_user(&u, &Journal::default()).await.ctx("create")?;
    let other = s
        .create_user(&new_user(&format!("{t}-keep")), &Journal::default())
        .await
        .ctx("create other")?;
    let far = now() + 3600;
    s.create_session(
        &new_session(&format!("{t}-s1"), u.id, far),
        &Journal::default(),
    )
    .await
    .ctx("session")?;
    s.create_session(
        &new_session(&format!("{t}-s2"), u.id, far),
        &Journal::default(),
    )
    .await
    .ctx("session")?;
    s.create_session(
        &new_session(&format!("{t}-s3"), other.id, far),
        &Journal::default(),
    )
    .await
    .ctx("session")?;

    let deleted = s
        .delete_user(u.id, &p.journal("delete", &[Change::User(u.id)]))
        .await
        .ctx("delete_user")?;
    ensure!(deleted, "delete_user returned false for an existing user");
    p.written(s, "delete", &[Change::User(u.id)]).await?;
    ensure!(
        s.user(u.id).await.ctx("user")?.is_none(),
        "deleted user still there"
    );
    ensure!(
        s.user_by_name(&u.name).await.ctx("by name")?.is_none(),
        "deleted user still by name"
    );
    ensure!(
        s.session(&format!("{t}-s1"))
            .await
            .ctx("session")?
            .is_none(),
        "session of deleted user kept"
    );
    ensure!(
        s.session(&format!("{t}-s2"))
            .await
            .ctx("session")?
            .is_none(),
        "session of deleted user kept"
    );
    ensure!(
        s.session(&format!("{t}-s3"))
            .await
            .ctx("session")?
            .is_some(),
        "another user's session deleted"
    );
    ensure!(
        s.user(other.id).await.ctx("user")?.is_some(),
        "another user deleted"
    );

    let again = s
        .delete_user(u.id, &p.journal("again", &[Change::User(u.id)]))
        .await
        .ctx("delete_user again")?;
    ensure!(!again, "delete_user returned true for a missing user");
    p.nothing(s, "deleting a missing user").await?;

    // The name and e-mail are free again, and the new user gets a new id.
    let mut reborn = new_user(&u.name);
    reborn.email = u.email.clone();
    let reborn = s
        .create_user(&reborn, &Journal::default())
        .await
        .ctx("recreate")?;
    ensure!(reborn.id != u.id, "a deleted user's id was reused");
    Ok(())
}

async fn user_record_login<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-login")), &Journal::default())
        .await
        .ctx("create")?;
    s.record_login(u.id, 1_700_000_123, "198.51.100.7", None)
        .await
        .ctx("record_login")?;
    let got = s.user(u.id).await.ctx("user")?.ctx("user")?;
    ensure_eq!(got.login_time, Some(1_700_000_123));
    ensure_eq!(got.login_ip, "198.51.100.7");
    ensure_eq!(got.name, u.name);
    ensure_eq!(got.password_hash, u.password_hash);
    s.record_login(
        u.id,
        1_700_000_124,
        "198.51.100.8",
        Some("$argon2id$upgraded"),
    )
    .await
    .ctx("record_login with a rehash")?;
    let got = s.user(u.id).await.ctx("user")?.ctx("user")?;
    ensure_eq!(got.login_time, Some(1_700_000_124));
    ensure_eq!(got.password_hash, "$argon2id$upgraded");
    ensure_eq!(got.alias, u.alias);
    s.record_login(i64::MAX - 13, 1, "x", None)
        .await
        .ctx("record_login of a missing user")?;
    p.nothing(s, "record_login").await?;
    Ok(())
}

async fn user_count_with_role<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let r = s
        .create_role(&Role::new(format!("{t}-r"), "", ""), &Journal::default())
        .await
        .ctx("create role")?;
    ensure_eq!(s.count_users_with_role(r.id).await.ctx("count")?, 0);
    for i in 0..3 {
        let mut u = new_user(&format!("{t}-{i}"));
        u.role_id = Some(r.id);
        s.create_user(&u, &Journal::default()).await.ctx("create")?;
    }
    s.create_user(&new_user(&format!("{t}-none")), &Journal::default())
        .await
        .ctx("create")?;
    ensure_eq!(s.count_users_with_role(r.id).await.ctx("count")?, 3);
    ensure_eq!(
        s.count_users_with_role(i64::MAX - 1)
            .await
            .ctx("count missing")?,
        0
    );
    Ok(())
}

async fn user_list_substring_literal<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let names = [
        format!("{t}-x%_'\\y"),   // 0: the literal target
        format!("{t}-xAB'\\y"),   // 1: would match a LIKE pattern
        format!("{t}-X%_'\\Z"),   // 2: upper case (and another name)
        format!("{t}-x%_'\\\\y"), // 3: an extra backslash
        format!("{t}-ünï-名前"),  // 4: non-ASCII
    ];
    let mut made = Vec::new();
    for n in &names {
        made.push(
            s.create_user(&new_user(n), &Journal::default())
                .await
                .ctx("create")?
                .id,
        );
    }
    let list = |needle: String| async move {
        let q = UserQuery {
            name_contains: Some(needle),
            page: Page::ALL,
            ..UserQuery::default()
        };
        s.list_users(&q).await.ctx("list_users")
    };
    let got = list(format!("{t}-x%_'\\y")).await?;
    ensure_eq!(ids(&got.rows), vec![made[0]]);
    ensure_eq!(got.total, 1);
    ensure_eq!(
        ids(&list("%_'\\y".to_string()).await?.rows).contains(&made[1]),
        false
    );
    ensure_eq!(ids(&list(format!("{t}-X%")).await?.rows), vec![made[2]]);
    ensure_eq!(
        ids(&list(format!("{t}-x%_'\\\\")).await?.rows),
        vec![made[3]]
    );
    ensure_eq!(ids(&list("ünï-名".to_string()).await?.rows), vec![made[4]]);
    ensure_eq!(
        ids(&list(format!("{t}-ÜNÏ")).await?.rows),
        Vec::<UserId>::new()
    );
    ensure_eq!(ids(&list(t.clone()).await?.rows), made.clone());
    ensure_eq!(
        ids(&list(t.to_uppercase()).await?.rows),
        Vec::<UserId>::new()
    );
    ensure_eq!(
        ids(&list(format!("{t}-_")).await?.rows),
        Vec::<UserId>::new()
    );
    ensure_eq!(
        ids(&list(format!("{t}-%")).await?.rows),
        Vec::<UserId>::new()
    );
    ensure_eq!(
        ids(&list(format!("{t}-x'")).await?.rows),
        Vec::<UserId>::new()
    );
    let everyone = s.list_users(&UserQuery::default()).await.ctx("list all")?;
    let empty = list(String::new()).await?;
    ensure_eq!(empty.total, everyone.total);
    Ok(())
}

async fn user_list_parent_order_paging<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("u");
    let parent = s
        .create_user(&new_user(&format!("{t}-parent")), &Journal::default())
        .await
        .ctx("create parent")?;
    let mut kids = Vec::new();
    for i in 0..5 {
        let mut u = new_user(&format!("{t}-kid{i}"));
        u.parent_id = Some(parent.id);
        kids.push(
            s.create_user(&u, &Journal::default())
                .await
                .ctx("create kid")?
                .id,
        );
    }
    // A sub-account of another parent, with a similar name.
    let mut stray = new_user(&format!("{t}-kid9"));
    stray.parent_id = Some(i64::MAX - 2);
    s.create_user(&stray, &Journal::default())
        .await
        .ctx("create stray")?;

    let q = |order: Order, page: Page, name: Option<String>| UserQuery {
        name_contains: name,
        parent_id: Some(parent.id),
        order,
        page,
    };
    let all = s
        .list_users(&q(Order::OldestFirst, Page::ALL, None))
        .await
        .ctx("list")?;
    ensure_eq!(ids(&all.rows), kids.clone());
    ensure_eq!(all.total, 5);
    let mut rev = kids.clone();
    rev.reverse();
    let newest = s
        .list_users(&q(Order::NewestFirst, Page::ALL, None))
        .await
        .ctx("list")?;
    ensure_eq!(ids(&newest.rows), rev.clone());
    ensure_eq!(newest.total, 5);
    let page = Page {
        offset: 1,
        limit: Some(2),
    };
    let p1 = s
        .list_users(&q(Order::OldestFirst, page, None))
        .await
        .ctx("list")?;
    ensure_eq!(ids(&p1.rows), kids[1..3].to_vec());
    ensure_eq!(p1.total, 5);
    let p2 = s
        .list_users(&q(Order::NewestFirst, page, None))
        .await
        .ctx("list")?;
    ensure_eq!(ids(&p2.rows), rev[1..3].to_vec());
    ensure_eq!(p2.total, 5);
    let numbered = s
        .list_users(&q(Order::OldestFirst, Page::numbered(2, 2), None))
        .await
        .ctx("list")?;
    ensure_eq!(ids(&numbered.rows), kids[4..].to_vec());
    ensure_eq!(numbered.total, 5);
    let beyond = s
        .list_users(&q(
            Order::OldestFirst,
            Page {
                offset: 10,
                limit: Some(5),
            },
            None,
        ))
        .await
        .ctx("list")?;
    ensure!(
        beyond.rows.is_empty(),
        "rows past the end: {:?}",
        beyond.rows
    );
    ensure_eq!(beyond.total, 5);
    let zero = s
        .list_users(&q(
            Order::OldestFirst,
            Page {
                offset: 0,
                limit: Some(0),
            },
            None,
        ))
        .await
        .ctx("list")?;
    ensure!(zero.rows.is_empty(), "limit 0 returned rows");
    ensure_eq!(zero.total, 5);
    let huge = s
        .list_users(&q(
            Order::OldestFirst,
            Page {
                offset: 2,
                limit: Some(u64::MAX),
            },
            None,
        ))
        .await
        .ctx("list with a huge limit")?;
    ensure_eq!(ids(&huge.rows), kids[2..].to_vec());
    let both = s
        .list_users(&q(Order::OldestFirst, Page::ALL, Some(format!("{t}-kid3"))))
        .await
        .ctx("list")?;
    ensure_eq!(ids(&both.rows), vec![kids[3]]);
    ensure_eq!(both.total, 1);

    // Without a parent filter, the full count covers everyone.
    let everyone = s.list_users(&UserQuery::default()).await.ctx("list all")?;
    ensure_eq!(everyone.total, everyone.rows.len() as u64);
    for w in everyone.rows.windows(2) {
        ensure!(w[0].id < w[1].id, "list_users not in id order");
    }
    let first = s
        .list_users(&UserQuery {
            page: Page {
                offset: 0,
                limit: Some(1),
            },
            ..UserQuery::default()
        })
        .await
        .ctx("list first")?;
    ensure_eq!(first.total, everyone.total);
    ensure_eq!(first.rows.len(), 1);
    Ok(())
}

async fn role_create_and_read<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("r");
    let mut p = Probe::new(s, "actor").await?;
    let mut r = Role::new(format!("{t}-ops"), "runs things 'n' stuff", "admin");
    r.id = 999_999;
    r.builtin = true;
    r.enabled = false;
    r.privileges = vec![
        "UserAdd".into(),
        "Null".into(),
        "AuditQuery".into(),
        "UserAdd".into(),
        "a".into(),
        "B".into(),
    ];
    r.created_at = 1_500_000_000;
    r.updated_at = 1_500_000_001;
    let created = s
        .create_role(&r, &p.journal("create role", &[Change::Role(7)]))
        .await
        .ctx("create_role")?;
    p.written(s, "create role", &[Change::Role(7)]).await?;
    ensure!(
        created.id > 0 && created.id != r.id,
        "store must assign the id, got {}",
        created.id
    );
    let mut want = r.clone();
    want.id = created.id;
    want.privileges = vec![
        "AuditQuery".into(),
        "B".into(),
        "Null".into(),
        "UserAdd".into(),
        "a".into(),
    ];
    ensure_eq!(created, want);
    ensure_eq!(s.role(created.id).await.ctx("role")?, Some(want.clone()));
    ensure_eq!(
        s.role_by_name(&r.name).await.ctx("role_by_name")?,
        Some(want.clone())
    );
    ensure_eq!(s.role(i64::MAX - 4).await.ctx("role")?, None);
    ensure_eq!(
        s.role_by_name(&format!("{t}-none"))
            .await
            .ctx("role_by_name")?,
        None
    );

    let dup = Role::new(r.name.clone(), "", "");
    ensure_err!(
        s.create_role(&dup, &p.journal("dup", &[Change::Role(8)]))
            .await,
        StoreError::Conflict(Field::RoleName)
    );
    p.nothing(s, "a create with a taken role name").await?;
    ensure_eq!(s.role(created.id).await.ctx("role")?, Some(want));

    let empty = s
        .create_role(
            &Role::new(format!("{t}-empty"), "", ""),
            &Journal::default(),
        )
        .await
        .ctx("create empty")?;
    ensure!(empty.id > created.id, "role ids must grow");
    ensure!(empty.privileges.is_empty(), "privileges appeared");
    ensure_eq!(
        s.role(empty.id).await.ctx("role")?.map(|r| r.privileges),
        Some(Vec::new())
    );
    Ok(())
}

async fn role_list<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("r");
    let mut made = Vec::new();
    for i in 0..4 {
        let mut r = Role::new(format!("{t}-{i}"), "", "");
        r.privileges = vec![format!("P{i}"), "Common".into()];
        made.push(s.create_role(&r, &Journal::default()).await.ctx("create")?);
    }
    let all = s.list_roles(Page::ALL).await.ctx("list_roles")?;
    ensure_eq!(all.total, all.rows.len() as u64);
    for w in all.rows.windows(2) {
        ensure!(w[0].id < w[1].id, "list_roles not in id order");
    }
    let mine: Vec<Role> = all
        .rows
        .iter()
        .filter(|r| r.name.starts_with(&t))
        .cloned()
        .collect();
    ensure_eq!(mine, made);
    let at = all
        .rows
        .iter()
        .position(|r| r.id == made[0].id)
        .ctx("own role listed")?;
    let page = s
        .list_roles(Page {
            offset: at as u64 + 1,
            limit: Some(2),
        })
        .await
        .ctx("list_roles page")?;
    ensure_eq!(page.total, all.total);
    ensure_eq!(page.rows, made[1..3].to_vec());
    let beyond = s
        .list_roles(Page {
            offset: all.total + 5,
            limit: None,
        })
        .await
        .ctx("list_roles beyond")?;
    ensure!(beyond.rows.is_empty(), "rows past the end");
    ensure_eq!(beyond.total, all.total);
    Ok(())
}

async fn role_update<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("r");
    let mut p = Probe::new(s, "actor").await?;
    let mut r = Role::new(format!("{t}-a"), "old", "creator");
    r.privileges = vec!["X".into(), "Y".into()];
    r.created_at = 1_000;
    r.updated_at = 1_000;
    let r = s.create_role(&r, &Journal::default()).await.ctx("create")?;
    let other = s
        .create_role(&Role::new(format!("{t}-b"), "", ""), &Journal::default())
        .await
        .ctx("create other")?;

    let mut next = r.clone();
    next.name = format!("{t}-renamed");
    next.remark = "new".into();
    next.enabled = false;
    next.privileges = vec!["Z".into()]; // not replaced by update_role
    next.creator = "ignored".into();
    next.builtin = true;
    next.created_at = 5;
    s.update_role(&next, &p.journal("update role", &[Change::Role(r.id)]))
        .await
        .ctx("update_role")?;
    p.written(s, "update role", &[Change::Role(r.id)]).await?;
    let got = s.role(r.id).await.ctx("role")?.ctx("role")?;
    ensure_eq!(got.name, next.name);
    ensure_eq!(got.remark, "new");
    ensure!(!got.enabled, "enabled flag not replaced");
    ensure_eq!(got.privileges, r.privileges);
    ensure_eq!(got.creator, r.creator);
    ensure_eq!(got.builtin, r.builtin);
    ensure_eq!(got.created_at, r.created_at);
    ensure!(
        s.role_by_name(&r.name).await.ctx("by old name")?.is_none(),
        "old name still resolves"
    );

    let mut clash = got.clone();
    clash.name = other.name.clone();
    clash.remark = "clash".into();
    ensure_err!(
        s.update_role(&clash, &p.journal("clash", &[Change::Role(r.id)]))
            .await,
        StoreError::Conflict(Field::RoleName)
    );
    p.nothing(s, "an update to a taken role name").await?;
    ensure_eq!(
        s.role(r.id).await.ctx("role")?.map(|x| x.remark),
        Some("new".to_string())
    );

    let mut gone = got.clone();
    gone.id = i64::MAX - 6;
    gone.name = format!("{t}-gone");
    ensure_err!(
        s.update_role(&gone, &p.journal("gone", &[Change::Role(gone.id)]))
            .await,
        StoreError::NotFound(Entity::Role)
    );
    p.nothing(s, "an update of a missing role").await?;

    // Keeping its own name is no conflict.
    let mut same = got.clone();
    same.remark = "same name".into();
    s.update_role(&same, &p.journal("same", &[]))
        .await
        .ctx("update keeping the name")?;
    p.written(s, "same", &[]).await?;
    Ok(())
}

async fn role_set_privileges<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("r");
    let mut p = Probe::new(s, "actor").await?;
    let mut r = Role::new(format!("{t}-grants"), "", "");
    r.privileges = vec!["A".into(), "B".into()];
    let r = s.create_role(&r, &Journal::default()).await.ctx("create")?;
    let mut o = Role::new(format!("{t}-other"), "", "");
    o.privileges = vec!["A".into()];
    let o = s
        .create_role(&o, &Journal::default())
        .await
        .ctx("create other")?;

    let codes: Vec<String> = ["UserDel", "B", "UserDel", "C", "b"]
        .iter()
        .map(|c| c.to_string())
        .collect();
    s.set_role_privileges(r.id, &codes, &p.journal("grant", &[Change::Role(r.id)]))
        .await
        .ctx("set_role_privileges")?;
    p.written(s, "grant", &[Change::Role(r.id)]).await?;
    let got = s.role(r.id).await.ctx("role")?.ctx("role")?;
    ensure_eq!(
        got.privileges,
        vec!["B".to_string(), "C".into(), "UserDel".into(), "b".into()]
    );
    ensure_eq!(got.name, r.name);
    ensure_eq!(
        s.role(o.id).await.ctx("role")?.map(|x| x.privileges),
        Some(vec!["A".to_string()])
    );

    s.set_role_privileges(r.id, &[], &p.journal("revoke all", &[Change::Role(r.id)]))
        .await
        .ctx("set_role_privileges empty")?;
    p.written(s, "revoke all", &[Change::Role(r.id)]).await?;
    ensure_eq!(
        s.role(r.id).await.ctx("role")?.map(|x| x.privileges),
        Some(Vec::new())
    );

    ensure_err!(
        s.set_role_privileges(
            i64::MAX - 8,
            &codes,
            &p.journal("missing", &[Change::Role(0)])
        )
        .await,
        StoreError::NotFound(Entity::Role)
    );
    p.nothing(s, "set_role_privileges of a missing role")
        .await?;
    Ok(())
}

async fn role_delete<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("r");
    let mut p = Probe::new(s, "actor").await?;
    let mut r = Role::new(format!("{t}-doomed"), "", "");
    r.privileges = vec!["A".into(), "B".into()];
    let r = s.create_role(&r, &Journal::default()).await.ctx("create")?;
    let mut holder = new_user(&format!("{t}-holder"));
    holder.role_id = Some(r.id);
    let holder = s
        .create_user(&holder, &Journal::default())
        .await
        .ctx("create holder")?;

    ensure_err!(
        s.delete_role(r.id, &p.journal("in use", &[Change::Role(r.id)]))
            .await,
        StoreError::Violation(_)
    );
    p.nothing(s, "deleting a role in use").await?;
    ensure_eq!(
        s.role(r.id).await.ctx("role")?.map(|x| x.privileges),
        Some(r.privileges.clone())
    );

    let mut moved = holder.clone();
    moved.role_id = None;
    s.update_user(&moved, Revoke::Nothing, &Journal::default())
        .await
        .ctx("move holder off the role")?;
    s.delete_role(r.id, &p.journal("delete role", &[Change::Role(r.id)]))
        .await
        .ctx("delete_role")?;
    p.written(s, "delete role", &[Change::Role(r.id)]).await?;
    ensure_eq!(s.role(r.id).await.ctx("role")?, None);
    ensure_eq!(s.role_by_name(&r.name).await.ctx("role_by_name")?, None);
    ensure_err!(
        s.set_role_privileges(r.id, &["A".to_string()], &Journal::default())
            .await,
        StoreError::NotFound(Entity::Role)
    );
    ensure_err!(
        s.delete_role(r.id, &p.journal("again", &[Change::Role(r.id)]))
            .await,
        StoreError::NotFound(Entity::Role)
    );
    p.nothing(s, "deleting a missing role").await?;

    // The name is free again, with no grants left over, and a new id.
    let again = s
        .create_role(&Role::new(r.name.clone(), "", ""), &Journal::default())
        .await
        .ctx("recreate")?;
    ensure!(again.id != r.id, "a deleted role's id was reused");
    ensure_eq!(
        s.role(again.id).await.ctx("role")?.map(|x| x.privileges),
        Some(Vec::new())
    );
    let mut back = moved.clone();
    back.role_id = Some(r.id);
    ensure_err!(
        s.update_user(&back, Revoke::Nothing, &Journal::default())
            .await,
        StoreError::NotFound(Entity::Role)
    );
    Ok(())
}

/// System keys: stored and read back, found by `role_by_key` whatever the name, unique
/// (on create and on update), kept across a rename, and absent for ordinary roles.
async fn role_system_key<S: Store + ?Sized>(s: &S) -> Outcome {
    let (t, key) = (uniq("sk"), uniq("key"));
    let mut keyed = Role::new(format!("{t}-sys"), "", "admin");
    keyed.system_key = Some(key.clone());
    let keyed = s
        .create_role(&keyed, &Journal::default())
        .await
        .ctx("create keyed")?;
    let got = s.role_by_key(&key).await.ctx("by key")?.ctx("by key")?;
    ensure_eq!(got.id, keyed.id);
    ensure_eq!(got.system_key.as_deref(), Some(key.as_str()));
    let plain = s
        .create_role(
            &Role::new(format!("{t}-plain"), "", ""),
            &Journal::default(),
        )
        .await
        .ctx("create plain")?;
    ensure_eq!(
        s.role(plain.id)
            .await
            .ctx("plain")?
            .ctx("plain")?
            .system_key,
        None
    );
    let mut twin = Role::new(format!("{t}-twin"), "", "");
    twin.system_key = Some(key.clone());
    ensure_err!(
        s.create_role(&twin, &Journal::default()).await,
        StoreError::Conflict(_)
    );
    let mut renamed = got.clone();
    renamed.name = format!("{t}-renamed");
    s.update_role(&renamed, &Journal::default())
        .await
        .ctx("rename keyed")?;
    let got = s.role_by_key(&key).await.ctx("by key")?.ctx("by key")?;
    ensure_eq!(got.name, renamed.name);
    let mut stolen = s.role(plain.id).await.ctx("plain")?.ctx("plain")?;
    stolen.system_key = Some(key.clone());
    ensure_err!(
        s.update_role(&stolen, &Journal::default()).await,
        StoreError::Conflict(_)
    );
    ensure_eq!(
        s.role_by_key(&key).await.ctx("by key")?.map(|r| r.id),
        Some(keyed.id)
    );
    ensure!(
        s.role_by_key(&uniq("none")).await.ctx("none")?.is_none(),
        "an unknown key finds a role"
    );
    let mut adopted = s.role(plain.id).await.ctx("plain")?.ctx("plain")?;
    let other = uniq("key2");
    adopted.system_key = Some(other.clone());
    s.update_role(&adopted, &Journal::default())
        .await
        .ctx("key an existing role")?;
    ensure_eq!(
        s.role_by_key(&other).await.ctx("adopted")?.map(|r| r.id),
        Some(plain.id)
    );
    Ok(())
}

async fn session_create_and_read<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let sess = Session {
        id: format!("{t}-{}", "f".repeat(64)),
        user_id: u.id,
        kind: SessionKind::Opaque,
        issued_at: 1_700_000_000,
        expires_at: 1_700_007_200,
        last_seen: 1_700_000_100,
        revoked: false,
        ip: "2001:db8::2".into(),
    };
    s.create_session(
        &sess,
        &p.journal("login", &[Change::Session(sess.id.clone())]),
    )
    .await
    .ctx("create_session")?;
    p.written(s, "login", &[Change::Session(sess.id.clone())])
        .await?;
    ensure_eq!(
        s.session(&sess.id).await.ctx("session")?,
        Some(sess.clone())
    );
    let mut jwt = new_session(&format!("{t}-jwt"), u.id, now() + 60);
    jwt.revoked = true;
    s.create_session(&jwt, &Journal::default())
        .await
        .ctx("create revoked jwt session")?;
    ensure_eq!(s.session(&jwt.id).await.ctx("session")?, Some(jwt.clone()));
    ensure_eq!(s.session(&format!("{t}-none")).await.ctx("session")?, None);
    ensure_eq!(
        s.session(&sess.id.to_uppercase()).await.ctx("session")?,
        None
    );

    let mut dup = sess.clone();
    dup.ip = "other".into();
    ensure_err!(
        s.create_session(&dup, &p.journal("dup", &[Change::Session(dup.id.clone())]))
            .await,
        StoreError::Conflict(Field::Other)
    );
    p.nothing(s, "a session with a taken id").await?;
    ensure_eq!(s.session(&sess.id).await.ctx("session")?, Some(sess));

    let orphan = new_session(&format!("{t}-orphan"), i64::MAX - 10, now() + 60);
    ensure_err!(
        s.create_session(&orphan, &p.journal("orphan", &[])).await,
        StoreError::NotFound(Entity::User)
    );
    p.nothing(s, "a session of a missing user").await?;
    ensure_eq!(s.session(&orphan.id).await.ctx("session")?, None);
    Ok(())
}

async fn session_revoke<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let sid = format!("{t}-a");
    s.create_session(&new_session(&sid, u.id, now() + 60), &Journal::default())
        .await
        .ctx("create session")?;
    let ch = [Change::Session(sid.clone())];
    ensure!(
        s.revoke_session(&sid, &p.journal("logout", &ch))
            .await
            .ctx("revoke")?,
        "revoke of a live session returned false"
    );
    p.written(s, "logout", &ch).await?;
    ensure_eq!(
        s.session(&sid).await.ctx("session")?.map(|x| x.revoked),
        Some(true)
    );
    ensure!(
        !s.revoke_session(&sid, &p.journal("again", &ch))
            .await
            .ctx("revoke again")?,
        "second revoke returned true"
    );
    p.nothing(s, "revoking a revoked session").await?;
    ensure!(
        !s.revoke_session(&format!("{t}-none"), &p.journal("none", &ch))
            .await
            .ctx("revoke missing")?,
        "revoking a missing session returned true"
    );
    p.nothing(s, "revoking a missing session").await?;
    Ok(())
}

async fn session_rotate_once<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let old = format!("{t}-old");
    s.create_session(&new_session(&old, u.id, now() + 60), &Journal::default())
        .await
        .ctx("create session")?;
    let new1 = new_session(&format!("{t}-new1"), u.id, now() + 120);
    let ch = [Change::Session(old.clone())];
    ensure!(
        s.rotate_session(&old, &new1, &p.journal("refresh", &ch))
            .await
            .ctx("rotate")?,
        "first rotate returned false"
    );
    p.written(s, "refresh", &ch).await?;
    ensure_eq!(
        s.session(&old).await.ctx("session")?.map(|x| x.revoked),
        Some(true)
    );
    ensure_eq!(
        s.session(&new1.id).await.ctx("session")?,
        Some(new1.clone())
    );

    let new2 = new_session(&format!("{t}-new2"), u.id, now() + 120);
    ensure!(
        !s.rotate_session(&old, &new2, &p.journal("replay", &ch))
            .await
            .ctx("rotate again")?,
        "second rotate of the same session returned true"
    );
    p.nothing(s, "a second rotate").await?;
    ensure_eq!(s.session(&new2.id).await.ctx("session")?, None);

    ensure!(
        !s.rotate_session(&format!("{t}-none"), &new2, &p.journal("none", &ch))
            .await
            .ctx("rotate missing")?,
        "rotating a missing session returned true"
    );
    p.nothing(s, "rotating a missing session").await?;
    ensure_eq!(s.session(&new2.id).await.ctx("session")?, None);

    // The new session rotates in turn.
    ensure!(
        s.rotate_session(&new1.id, &new2, &p.journal("refresh 2", &[]))
            .await
            .ctx("rotate new")?,
        "rotating the new session returned false"
    );
    p.written(s, "refresh 2", &[]).await?;
    Ok(())
}

async fn session_rotate_race<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    for round in 0..5 {
        let old = format!("{t}-old{round}");
        s.create_session(&new_session(&old, u.id, now() + 60), &Journal::default())
            .await
            .ctx("create session")?;
        let a = new_session(&format!("{t}-a{round}"), u.id, now() + 60);
        let b = new_session(&format!("{t}-b{round}"), u.id, now() + 60);
        let (ja, jb) = (Journal::default(), Journal::default());
        let (ra, rb) = tokio::join!(
            s.rotate_session(&old, &a, &ja),
            s.rotate_session(&old, &b, &jb)
        );
        let (ra, rb) = (ra.ctx("rotate a")?, rb.ctx("rotate b")?);
        ensure!(
            ra != rb,
            "round {round}: concurrent rotates returned {ra} and {rb}; exactly one may win"
        );
        let ea = s.session(&a.id).await.ctx("session")?.is_some();
        let eb = s.session(&b.id).await.ctx("session")?.is_some();
        ensure_eq!((ea, eb), (ra, rb));
    }
    Ok(())
}

async fn session_rotate_refusals<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let old = format!("{t}-old");
    let taken = format!("{t}-taken");
    for id in [&old, &taken] {
        s.create_session(&new_session(id, u.id, now() + 60), &Journal::default())
            .await
            .ctx("create session")?;
    }
    let clash = new_session(&taken, u.id, now() + 600);
    ensure_err!(
        s.rotate_session(
            &old,
            &clash,
            &p.journal("clash", &[Change::Session(old.clone())])
        )
        .await,
        StoreError::Conflict(Field::Other)
    );
    p.nothing(s, "a rotate onto a taken id").await?;
    ensure_eq!(
        s.session(&old).await.ctx("session")?.map(|x| x.revoked),
        Some(false)
    );
    ensure!(
        s.session(&taken)
            .await
            .ctx("session")?
            .map(|x| x.expires_at)
            != Some(clash.expires_at),
        "the taken session was overwritten"
    );

    let orphan = new_session(&format!("{t}-orphan"), i64::MAX - 12, now() + 60);
    ensure_err!(
        s.rotate_session(&old, &orphan, &p.journal("orphan", &[]))
            .await,
        StoreError::NotFound(Entity::User)
    );
    p.nothing(s, "a rotate to a missing user").await?;
    ensure_eq!(
        s.session(&old).await.ctx("session")?.map(|x| x.revoked),
        Some(false)
    );
    ensure_eq!(s.session(&orphan.id).await.ctx("session")?, None);
    Ok(())
}

async fn session_revoke_user_sessions<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let mut p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let other = s
        .create_user(&new_user(&format!("{t}-o")), &Journal::default())
        .await
        .ctx("create other")?;
    let far = now() + 3600;
    let sid: Vec<String> = (0..4).map(|i| format!("{t}-s{i}")).collect();
    for id in &sid {
        s.create_session(&new_session(id, u.id, far), &Journal::default())
            .await
            .ctx("create session")?;
    }
    s.revoke_session(&sid[3], &Journal::default())
        .await
        .ctx("revoke one")?;
    let foreign = format!("{t}-foreign");
    s.create_session(&new_session(&foreign, other.id, far), &Journal::default())
        .await
        .ctx("create foreign")?;

    let n = s
        .revoke_user_sessions(
            u.id,
            Some(&sid[1]),
            &p.journal("kick", &[Change::User(u.id)]),
        )
        .await
        .ctx("revoke_user_sessions")?;
    ensure_eq!(n, 2);
    p.written(s, "kick", &[Change::User(u.id)]).await?;
    for (i, want) in [(0, true), (1, false), (2, true), (3, true)] {
        ensure_eq!(
            s.session(&sid[i]).await.ctx("session")?.map(|x| x.revoked),
            Some(want)
        );
    }
    ensure_eq!(
        s.session(&foreign).await.ctx("session")?.map(|x| x.revoked),
        Some(false)
    );
    let again = s
        .revoke_user_sessions(u.id, Some(&sid[1]), &Journal::default())
        .await
        .ctx("revoke again")?;
    ensure_eq!(again, 0);
    let all = s
        .revoke_user_sessions(u.id, None, &Journal::default())
        .await
        .ctx("revoke all")?;
    ensure_eq!(all, 1);
    ensure_eq!(
        s.session(&sid[1]).await.ctx("session")?.map(|x| x.revoked),
        Some(true)
    );
    ensure_eq!(
        s.session(&foreign).await.ctx("session")?.map(|x| x.revoked),
        Some(false)
    );
    Ok(())
}

async fn session_touch<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let p = Probe::new(s, "actor").await?;
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let n = now();
    let live = new_session(&format!("{t}-live"), u.id, n + 100);
    let revoked = new_session(&format!("{t}-revoked"), u.id, n + 100);
    let expired = new_session(&format!("{t}-expired"), u.id, n - 10);
    let edge = new_session(&format!("{t}-edge"), u.id, n + 50);
    for x in [&live, &revoked, &expired, &edge] {
        s.create_session(x, &Journal::default())
            .await
            .ctx("create session")?;
    }
    s.revoke_session(&revoked.id, &Journal::default())
        .await
        .ctx("revoke")?;

    s.touch_session(&live.id, n + 7200, n + 5)
        .await
        .ctx("touch live")?;
    let got = s.session(&live.id).await.ctx("session")?.ctx("live")?;
    ensure_eq!(
        (got.expires_at, got.last_seen, got.revoked),
        (n + 7200, n + 5, false)
    );

    s.touch_session(&revoked.id, n + 7200, n + 5)
        .await
        .ctx("touch revoked")?;
    let got = s
        .session(&revoked.id)
        .await
        .ctx("session")?
        .ctx("revoked")?;
    ensure_eq!(
        (got.expires_at, got.last_seen, got.revoked),
        (revoked.expires_at, revoked.last_seen, true)
    );

    s.touch_session(&expired.id, n + 7200, n)
        .await
        .ctx("touch expired")?;
    let got = s
        .session(&expired.id)
        .await
        .ctx("session")?
        .ctx("expired")?;
    ensure_eq!(
        (got.expires_at, got.last_seen),
        (expired.expires_at, expired.last_seen)
    );

    // A session is live while `expires_at > now`: at its expiry instant it is gone.
    s.touch_session(&edge.id, n + 7200, n + 50)
        .await
        .ctx("touch at expiry")?;
    let got = s.session(&edge.id).await.ctx("session")?.ctx("edge")?;
    ensure_eq!(
        (got.expires_at, got.last_seen),
        (edge.expires_at, edge.last_seen)
    );

    s.touch_session(&format!("{t}-none"), n + 7200, n)
        .await
        .ctx("touch missing")?;
    ensure_eq!(s.session(&format!("{t}-none")).await.ctx("session")?, None);
    p.nothing(s, "touch_session").await?;
    Ok(())
}

async fn session_count_and_purge<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("s");
    let u = s
        .create_user(&new_user(&format!("{t}-u")), &Journal::default())
        .await
        .ctx("create user")?;
    let n = now();
    let before_now = s.count_live_sessions(n).await.ctx("count")?;
    let before_edge = s.count_live_sessions(n + 100).await.ctx("count")?;
    let before_inside = s.count_live_sessions(n + 99).await.ctx("count")?;
    let live = new_session(&format!("{t}-live"), u.id, n + 100);
    let revoked = new_session(&format!("{t}-revoked"), u.id, n + 100);
    let expired = new_session(&format!("{t}-expired"), u.id, n - 100);
    for x in [&live, &revoked, &expired] {
        s.create_session(x, &Journal::default())
            .await
            .ctx("create session")?;
    }
    s.revoke_session(&revoked.id, &Journal::default())
        .await
        .ctx("revoke")?;
    ensure_eq!(s.count_live_sessions(n).await.ctx("count")?, before_now + 1);
    ensure_eq!(
        s.count_live_sessions(n + 99).await.ctx("count")?,
        before_inside + 1
    );
    ensure_eq!(
        s.count_live_sessions(n + 100).await.ctx("count")?,
        before_edge
    );

    // Ancient sessions, expired before anything else in the store.
    let old: Vec<Session> = [1_000, 1_500, 2_000]
        .iter()
        .enumerate()
        .map(|(i, e)| new_session(&format!("{t}-old{i}"), u.id, *e))
        .collect();
    for x in &old {
        s.create_session(x, &Journal::default())
            .await
            .ctx("create old session")?;
    }
    let purged = s.purge_sessions(2_000).await.ctx("purge")?;
    ensure!(
        purged >= 2,
        "purge_sessions(2000) purged {purged}, expected at least 2"
    );
    ensure_eq!(s.session(&old[0].id).await.ctx("session")?, None);
    ensure_eq!(s.session(&old[1].id).await.ctx("session")?, None);
    ensure!(
        s.session(&old[2].id).await.ctx("session")?.is_some(),
        "a session expiring exactly at `before` was purged"
    );
    ensure_eq!(s.purge_sessions(2_001).await.ctx("purge")?, 1);
    ensure_eq!(s.session(&old[2].id).await.ctx("session")?, None);
    ensure!(
        s.session(&live.id).await.ctx("session")?.is_some(),
        "a live session was purged"
    );
    ensure!(
        s.session(&revoked.id).await.ctx("session")?.is_some(),
        "an unexpired session was purged"
    );
    ensure!(
        s.session(&expired.id).await.ctx("session")?.is_some(),
        "purge_sessions(2001) purged a recent session"
    );
    ensure!(
        s.purge_sessions(n).await.ctx("purge")? >= 1,
        "expired session not purged"
    );
    ensure_eq!(s.session(&expired.id).await.ctx("session")?, None);
    ensure!(
        s.session(&live.id).await.ctx("session")?.is_some(),
        "a live session was purged"
    );
    Ok(())
}

async fn audit_append_and_list<S: Store + ?Sized>(s: &S) -> Outcome {
    let actor = uniq("auditor");
    let cursor = s.change_cursor().await.ctx("cursor")?;
    let t0 = now();
    let e = NewAudit {
        user_id: None,
        user_name: actor.clone(),
        category: AuditCategory::Home,
        content: "login failed: wrong password for 'x' 100% \\ ünï".into(),
        success: false,
    };
    s.append_audit(&e).await.ctx("append_audit")?;
    let t1 = now();
    let got = s
        .list_audit(&AuditQuery {
            user_name: Some(actor.clone()),
            ..AuditQuery::default()
        })
        .await
        .ctx("list_audit")?;
    ensure_eq!(got.total, 1);
    let row = got.rows.first().ctx("row")?;
    ensure_eq!(
        (
            row.user_id,
            &row.user_name,
            row.category,
            &row.content,
            row.success
        ),
        (None, &actor, 1, &e.content, false)
    );
    ensure!(
        row.time >= t0 && row.time <= t1,
        "audit time {} not in [{t0}, {t1}]",
        row.time
    );
    ensure!(row.id > 0, "audit id {}", row.id);
    ensure!(
        s.changes_since(cursor, 10).await.ctx("changes")?.is_empty(),
        "append_audit wrote a change"
    );
    let mut e2 = e.clone();
    e2.user_id = Some(17);
    e2.success = true;
    s.append_audit(&e2).await.ctx("append_audit")?;
    let got = s
        .list_audit(&AuditQuery {
            user_name: Some(actor.clone()),
            ..AuditQuery::default()
        })
        .await
        .ctx("list_audit")?;
    ensure_eq!(got.total, 2);
    ensure!(got.rows[0].id > got.rows[1].id, "audit not newest first");
    ensure_eq!((got.rows[0].user_id, got.rows[0].success), (Some(17), true));
    ensure!(
        s.list_audit(&AuditQuery {
            user_name: Some(actor.to_uppercase()),
            ..AuditQuery::default()
        })
        .await
        .ctx("list_audit")?
        .rows
        .is_empty(),
        "audit user_name filter is not exact"
    );
    Ok(())
}

async fn audit_filters_and_paging<S: Store + ?Sized>(s: &S) -> Outcome {
    let actor = uniq("auditor");
    let t0 = now();
    let mut ids_made = Vec::new();
    for (i, cat) in [
        AuditCategory::Home,
        AuditCategory::System,
        AuditCategory::System,
        AuditCategory::Alert,
    ]
    .iter()
    .enumerate()
    {
        s.append_audit(&NewAudit {
            user_id: Some(1),
            user_name: actor.clone(),
            category: *cat,
            content: format!("entry {i}"),
            success: true,
        })
        .await
        .ctx("append_audit")?;
        ids_made.push(i);
    }
    let t1 = now();
    let q = |category: Option<i32>, from: Option<i64>, to: Option<i64>, page: Page| AuditQuery {
        user_name: Some(actor.clone()),
        category,
        from,
        to,
        page,
    };
    let contents =
        |l: &Listing<AuditEntry>| l.rows.iter().map(|e| e.content.clone()).collect::<Vec<_>>();
    let all = s
        .list_audit(&q(None, None, None, Page::ALL))
        .await
        .ctx("list")?;
    ensure_eq!(
        contents(&all),
        vec!["entry 3", "entry 2", "entry 1", "entry 0"]
    );
    ensure_eq!(all.total, 4);
    let sys = s
        .list_audit(&q(Some(2), None, None, Page::ALL))
        .await
        .ctx("list")?;
    ensure_eq!(contents(&sys), vec!["entry 2", "entry 1"]);
    ensure_eq!(sys.total, 2);
    let none = s
        .list_audit(&q(Some(3), None, None, Page::ALL))
        .await
        .ctx("list")?;
    ensure_eq!(none.total, 0);
    let window = s
        .list_audit(&q(None, Some(t0), Some(t1), Page::ALL))
        .await
        .ctx("list")?;
    ensure_eq!(window.total, 4);
    let future = s
        .list_audit(&q(None, Some(t1 + 1000), None, Page::ALL))
        .await
        .ctx("list")?;
    ensure_eq!(future.total, 0);
    let past = s
        .list_audit(&q(None, None, Some(t0 - 1000), Page::ALL))
        .await
        .ctx("list")?;
    ensure_eq!(past.total, 0);
    let page = s
        .list_audit(&q(
            None,
            None,
            None,
            Page {
                offset: 1,
                limit: Some(2),
            },
        ))
        .await
        .ctx("list")?;
    ensure_eq!(contents(&page), vec!["entry 2", "entry 1"]);
    ensure_eq!(page.total, 4);
    let page = s
        .list_audit(&q(Some(2), None, None, Page::numbered(1, 1)))
        .await
        .ctx("list")?;
    ensure_eq!(contents(&page), vec!["entry 1"]);
    ensure_eq!(page.total, 2);

    // Across every user: newest first, and the full count.
    let everyone = s.list_audit(&AuditQuery::default()).await.ctx("list all")?;
    ensure_eq!(everyone.total, everyone.rows.len() as u64);
    for w in everyone.rows.windows(2) {
        ensure!(w[0].id > w[1].id, "list_audit not newest first");
    }
    let first = s
        .list_audit(&AuditQuery {
            page: Page {
                offset: 0,
                limit: Some(1),
            },
            ..AuditQuery::default()
        })
        .await
        .ctx("list first")?;
    ensure_eq!(first.total, everyone.total);
    ensure_eq!(
        first.rows.first().map(|e| e.id),
        everyone.rows.first().map(|e| e.id)
    );
    Ok(())
}

async fn journal_without_audit<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("j");
    let everyone_before = s
        .list_audit(&AuditQuery::default())
        .await
        .ctx("list_audit")?
        .total;
    let cursor = s.change_cursor().await.ctx("cursor")?;
    let j = Journal::default()
        .with(Change::User(5))
        .with(Change::Role(6));
    s.create_user(&new_user(&format!("{t}-u")), &j)
        .await
        .ctx("create")?;
    let changes = s.changes_since(cursor, 10).await.ctx("changes")?;
    let kinds: Vec<Change> = changes.into_iter().map(|(_, c)| c).collect();
    ensure_eq!(kinds, vec![Change::User(5), Change::Role(6)]);
    let everyone_after = s
        .list_audit(&AuditQuery::default())
        .await
        .ctx("list_audit")?
        .total;
    ensure_eq!(everyone_after, everyone_before);
    Ok(())
}

async fn settings<S: Store + ?Sized>(s: &S) -> Outcome {
    let k = uniq("setting");
    ensure_eq!(s.setting(&k).await.ctx("setting")?, None);
    let v = "secret 'value' \\ ünï";
    ensure_eq!(
        s.setting_or_insert(&k, v).await.ctx("setting_or_insert")?,
        v
    );
    ensure_eq!(
        s.setting_or_insert(&k, "second")
            .await
            .ctx("setting_or_insert")?,
        v
    );
    ensure_eq!(s.setting(&k).await.ctx("setting")?, Some(v.to_string()));
    ensure_eq!(s.setting(&k.to_uppercase()).await.ctx("setting")?, None);
    let k2 = uniq("setting");
    ensure_eq!(
        s.setting_or_insert(&k2, "")
            .await
            .ctx("setting_or_insert empty")?,
        ""
    );
    ensure_eq!(s.setting(&k2).await.ctx("setting")?, Some(String::new()));
    Ok(())
}

async fn settings_race<S: Store + ?Sized>(s: &S) -> Outcome {
    for _ in 0..5 {
        let k = uniq("race");
        let (a, b) = tokio::join!(s.setting_or_insert(&k, "a"), s.setting_or_insert(&k, "b"));
        let (a, b) = (a.ctx("setting_or_insert a")?, b.ctx("setting_or_insert b")?);
        ensure!(a == b, "concurrent setting_or_insert returned {a} and {b}");
        ensure_eq!(s.setting(&k).await.ctx("setting")?, Some(a));
    }
    Ok(())
}

async fn login_throttle<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("throttle");
    let (a, b) = (format!("user:{t}"), format!("ip:{t}"));
    let policy = ThrottlePolicy {
        free: 1,
        max_failures: 3,
        window: 100,
        lockout: 1000,
        backoff: 10,
    };
    let at = 1_000_000;
    let blocked = |keys: Vec<String>, when: Timestamp| async move {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        s.login_blocked(&keys, when).await.ctx("login_blocked")
    };
    let fail = |key: String, when: Timestamp| async move {
        s.record_login_failure(&key, when, &policy)
            .await
            .ctx("record_login_failure")
    };
    ensure_eq!(blocked(vec![a.clone(), b.clone()], at).await?, None);
    ensure_eq!(blocked(vec![], at).await?, None);
    // The first failure costs no wait; the second waits `backoff`; the third locks.
    ensure_eq!(fail(a.clone(), at).await?, 1);
    ensure_eq!(blocked(vec![a.clone()], at).await?, None);
    ensure_eq!(fail(a.clone(), at + 1).await?, 2);
    ensure_eq!(
        blocked(vec![a.clone(), b.clone()], at + 1).await?,
        Some(at + 11)
    );
    ensure_eq!(blocked(vec![b.clone()], at + 1).await?, None);
    ensure_eq!(blocked(vec![a.clone()], at + 11).await?, None);
    ensure_eq!(fail(a.clone(), at + 12).await?, 3);
    ensure_eq!(blocked(vec![a.clone()], at + 13).await?, Some(at + 1012));
    // A failure after the window starts a new count (and lifts the block).
    ensure_eq!(fail(a.clone(), at + 500).await?, 1);
    ensure_eq!(blocked(vec![a.clone()], at + 500).await?, None);
    // Keys are independent and exact; clearing forgets one.
    ensure_eq!(fail(b.clone(), at).await?, 1);
    ensure_eq!(fail(b.clone(), at).await?, 2);
    ensure_eq!(blocked(vec![b.to_uppercase()], at).await?, None);
    s.clear_login_failures(&b)
        .await
        .ctx("clear_login_failures")?;
    ensure_eq!(blocked(vec![b.clone()], at).await?, None);
    ensure_eq!(fail(b.clone(), at).await?, 1);
    s.clear_login_failures(&format!("{t}-never"))
        .await
        .ctx("clearing a missing key")?;
    // `a` kept its own count through all of `b`'s.
    ensure_eq!(fail(a.clone(), at + 501).await?, 2);
    Ok(())
}

async fn login_throttle_race<S: Store + ?Sized>(s: &S) -> Outcome {
    let key = format!("user:{}", uniq("throttle-race"));
    let policy = ThrottlePolicy {
        free: 0,
        max_failures: 100,
        window: 1000,
        lockout: 1000,
        backoff: 0,
    };
    let at = now();
    let f = || s.record_login_failure(&key, at, &policy);
    let (r1, r2, r3, r4) = tokio::join!(f(), f(), f(), f());
    let mut counts = vec![
        r1.ctx("failure 1")?,
        r2.ctx("failure 2")?,
        r3.ctx("failure 3")?,
        r4.ctx("failure 4")?,
    ];
    counts.sort_unstable();
    // Each concurrent failure counted exactly once.
    ensure_eq!(counts, vec![1, 2, 3, 4]);
    Ok(())
}

/// Reservations: counted while not blocked, refused without counting while blocked,
/// released by clearing, restarted after the window.
async fn login_reserve<S: Store + ?Sized>(s: &S) -> Outcome {
    let key = format!("user:{}", uniq("reserve"));
    let policy = ThrottlePolicy {
        free: 2,
        max_failures: 4,
        window: 100,
        lockout: 1000,
        backoff: 10,
    };
    let at = 1_000_000;
    let reserve = |when: Timestamp| {
        let key = key.clone();
        async move {
            s.reserve_login_attempt(&key, when, &policy)
                .await
                .ctx("reserve_login_attempt")
        }
    };
    ensure_eq!(reserve(at).await?, Ok(1));
    ensure_eq!(reserve(at).await?, Ok(2));
    // Past the free ones: counted, and blocked for the backoff.
    ensure_eq!(reserve(at).await?, Ok(3));
    ensure_eq!(reserve(at + 1).await?, Err(at + 10));
    ensure_eq!(reserve(at + 9).await?, Err(at + 10));
    ensure_eq!(
        s.login_blocked(&[key.as_str()], at + 9)
            .await
            .ctx("blocked")?,
        Some(at + 10)
    );
    // The refusals counted nothing: the next one is the fourth, which locks.
    ensure_eq!(reserve(at + 10).await?, Ok(4));
    ensure_eq!(reserve(at + 11).await?, Err(at + 1010));
    s.clear_login_failures(&key).await.ctx("clear")?;
    ensure_eq!(reserve(at + 12).await?, Ok(1));
    ensure_eq!(reserve(at + 500).await?, Ok(1));
    // An unlock forgets the key and its `@address` keys, not a longer name's.
    let (known, longer) = (format!("{key}@127.0.0.9"), format!("{key}x"));
    for k in [&known, &longer] {
        s.record_login_failure(k, at, &policy).await.ctx("fail")?;
    }
    s.clear_login_failures_under(&key)
        .await
        .ctx("clear under")?;
    ensure_eq!(reserve(at + 501).await?, Ok(1));
    ensure_eq!(
        s.reserve_login_attempt(&known, at, &policy)
            .await
            .ctx("known")?,
        Ok(1)
    );
    ensure_eq!(
        s.reserve_login_attempt(&longer, at, &policy)
            .await
            .ctx("longer")?,
        Ok(2)
    );
    Ok(())
}

/// Concurrent reservations of one key: exactly as many as the policy allows are granted.
async fn login_reserve_race<S: Store + ?Sized>(s: &S) -> Outcome {
    let key = format!("user:{}", uniq("reserve-race"));
    let policy = ThrottlePolicy {
        free: 100,
        max_failures: 5,
        window: 1000,
        lockout: 1000,
        backoff: 0,
    };
    let at = now();
    let f = || s.reserve_login_attempt(&key, at, &policy);
    let (r1, r2, r3, r4, r5, r6, r7, r8) = tokio::join!(f(), f(), f(), f(), f(), f(), f(), f());
    let results = [r1, r2, r3, r4, r5, r6, r7, r8];
    let mut granted = Vec::new();
    for r in results {
        if let Ok(n) = r.ctx("reserve")? {
            granted.push(n);
        }
    }
    granted.sort_unstable();
    ensure_eq!(granted, vec![1, 2, 3, 4, 5]);
    Ok(())
}

/// Known login addresses: per account and address, the latest success kept.
async fn login_addresses<S: Store + ?Sized>(s: &S) -> Outcome {
    let account = uniq("addr");
    let known = |address: &'static str, since: Timestamp| {
        let account = account.clone();
        async move {
            s.login_address_known(&account, address, since)
                .await
                .ctx("login_address_known")
        }
    };
    ensure!(!known("127.0.0.9", 0).await?, "unknown before any login");
    s.remember_login_address(&account, "127.0.0.9", 100)
        .await
        .ctx("remember")?;
    ensure!(
        known("127.0.0.9", 50).await?,
        "known since before the login"
    );
    ensure!(known("127.0.0.9", 100).await?, "known at the login");
    ensure!(!known("127.0.0.9", 101).await?, "not known since after it");
    ensure!(!known("127.0.0.10", 0).await?, "another address");
    ensure!(
        !s.login_address_known(&format!("{account}x"), "127.0.0.9", 0)
            .await
            .ctx("other account")?,
        "another account"
    );
    s.remember_login_address(&account, "127.0.0.9", 200)
        .await
        .ctx("remember again")?;
    s.remember_login_address(&account, "127.0.0.9", 150)
        .await
        .ctx("remember an older one")?;
    ensure!(known("127.0.0.9", 200).await?, "the latest success is kept");
    Ok(())
}

async fn organisations<S: Store + ?Sized>(s: &S) -> Outcome {
    let id = i64::from(rand::random::<u32>()) + 1_000_000;
    ensure_eq!(s.organisation(id).await.ctx("organisation")?, None);
    let org = Organisation {
        id,
        name: "算力互联 'x'".into(),
    };
    s.put_organisation(&org).await.ctx("put_organisation")?;
    ensure_eq!(
        s.organisation(id).await.ctx("organisation")?,
        Some(org.clone())
    );
    let renamed = Organisation {
        id,
        name: "汴水超算".into(),
    };
    s.put_organisation(&renamed)
        .await
        .ctx("put_organisation (rename)")?;
    ensure_eq!(
        s.organisation(id).await.ctx("organisation")?,
        Some(renamed.clone())
    );
    let all = s.list_organisations().await.ctx("list_organisations")?;
    ensure!(
        all.iter().filter(|o| o.id == id).count() == 1 && all.contains(&renamed),
        "listed once, renamed: {all:?}"
    );
    ensure!(all.windows(2).all(|w| w[0].id < w[1].id), "in id order");
    Ok(())
}

fn code(key: &str, digest: &str, context: &str, sent_at: Timestamp) -> VerificationCode {
    VerificationCode {
        key: key.into(),
        digest: digest.into(),
        context: context.into(),
        sent_at,
        expires_at: sent_at + 300,
    }
}

async fn codes_send_and_resend<S: Store + ?Sized>(s: &S) -> Outcome {
    let key = format!("sms-register:{}", uniq("code"));
    let at = 1_000_000;
    ensure_eq!(
        s.put_code(&code(&key, "d1", "2", at), at - 60)
            .await
            .ctx("put_code")?,
        None
    );
    // A second send within the resend interval writes nothing and names the first send.
    ensure_eq!(
        s.put_code(&code(&key, "d2", "2", at + 30), at - 30)
            .await
            .ctx("put_code (too soon)")?,
        Some(at)
    );
    ensure_eq!(
        s.take_code(&key, "d2", "2", at + 31, 5)
            .await
            .ctx("take_code")?,
        CodeCheck::Wrong { burned: false }
    );
    // After the interval the new code replaces the old one.
    ensure_eq!(
        s.put_code(&code(&key, "d3", "5", at + 61), at + 1)
            .await
            .ctx("put_code (resend)")?,
        None
    );
    ensure_eq!(
        s.take_code(&key, "d1", "2", at + 62, 5)
            .await
            .ctx("take_code old")?,
        CodeCheck::OtherContext
    );
    ensure_eq!(
        s.take_code(&key, "d1", "5", at + 62, 5)
            .await
            .ctx("take_code old")?,
        CodeCheck::Wrong { burned: false }
    );
    // Withdrawing another digest leaves the code; withdrawing its own deletes it.
    s.withdraw_code(&key, "d1").await.ctx("withdraw_code")?;
    s.withdraw_code(&key, "d3").await.ctx("withdraw_code")?;
    ensure_eq!(
        s.take_code(&key, "d3", "5", at + 63, 5)
            .await
            .ctx("take_code withdrawn")?,
        CodeCheck::Missing
    );
    // A withdrawn code does not block the next send.
    ensure_eq!(
        s.put_code(&code(&key, "d4", "5", at + 64), at + 4)
            .await
            .ctx("put_code after withdraw")?,
        None
    );
    ensure_eq!(
        s.take_code(&key, "d4", "5", at + 65, 5)
            .await
            .ctx("take_code")?,
        CodeCheck::Accepted
    );
    Ok(())
}

async fn codes_take<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("take");
    let at = 2_000_000;
    let (a, b, c) = (format!("a:{t}"), format!("b:{t}"), format!("c:{t}"));
    // Accepted once, then gone.
    s.put_code(&code(&a, "good", "", at), at - 60)
        .await
        .ctx("put_code")?;
    ensure_eq!(
        s.take_code(&a, "good", "", at + 1, 3).await.ctx("take")?,
        CodeCheck::Accepted
    );
    ensure_eq!(
        s.take_code(&a, "good", "", at + 1, 3).await.ctx("take")?,
        CodeCheck::Missing
    );
    // The max_attempts-th wrong try burns the code: the right one no longer works.
    s.put_code(&code(&b, "good", "", at), at - 60)
        .await
        .ctx("put_code")?;
    for burned in [false, false, true] {
        ensure_eq!(
            s.take_code(&b, "bad", "", at + 1, 3).await.ctx("take")?,
            CodeCheck::Wrong { burned }
        );
    }
    ensure_eq!(
        s.take_code(&b, "good", "", at + 1, 3).await.ctx("take")?,
        CodeCheck::Missing
    );
    // Expired at expires_at, right code or not; and then deleted.
    s.put_code(&code(&c, "good", "", at), at - 60)
        .await
        .ctx("put_code")?;
    ensure_eq!(
        s.take_code(&c, "good", "", at + 300, 3).await.ctx("take")?,
        CodeCheck::Expired
    );
    ensure_eq!(
        s.take_code(&c, "good", "", at + 1, 3).await.ctx("take")?,
        CodeCheck::Missing
    );
    // Keys are exact.
    s.put_code(&code(&c, "good", "", at), at - 60)
        .await
        .ctx("put_code")?;
    ensure_eq!(
        s.take_code(&c.to_uppercase(), "good", "", at + 1, 3)
            .await
            .ctx("take")?,
        CodeCheck::Missing
    );
    // Purging removes codes that expired before the cut-off only.
    let purged = s.purge_codes(at + 301).await.ctx("purge_codes")?;
    ensure!(purged >= 1, "purged {purged}");
    ensure_eq!(
        s.take_code(&c, "good", "", at + 1, 3).await.ctx("take")?,
        CodeCheck::Missing
    );
    Ok(())
}

async fn codes_take_race<S: Store + ?Sized>(s: &S) -> Outcome {
    let key = format!("race:{}", uniq("take"));
    let at = now();
    s.put_code(&code(&key, "good", "", at), at - 60)
        .await
        .ctx("put_code")?;
    let f = || s.take_code(&key, "good", "", at + 1, 5);
    let (r1, r2, r3, r4) = tokio::join!(f(), f(), f(), f());
    let checks = [r1.ctx("1")?, r2.ctx("2")?, r3.ctx("3")?, r4.ctx("4")?];
    // A code is accepted exactly once, however many use it at the same time.
    ensure_eq!(
        checks.iter().filter(|c| **c == CodeCheck::Accepted).count(),
        1
    );
    ensure!(
        checks
            .iter()
            .all(|c| matches!(c, CodeCheck::Accepted | CodeCheck::Missing)),
        "{checks:?}"
    );
    Ok(())
}

async fn codes_put_race<S: Store + ?Sized>(s: &S) -> Outcome {
    let key = format!("race:{}", uniq("put"));
    let at = now();
    let f = |d: &'static str| {
        let c = code(&key, d, "", at);
        async move { s.put_code(&c, at - 60).await }
    };
    let (r1, r2, r3, r4) = tokio::join!(f("d1"), f("d2"), f("d3"), f("d4"));
    let puts = [r1.ctx("1")?, r2.ctx("2")?, r3.ctx("3")?, r4.ctx("4")?];
    // One send wins the resend interval; the others are told when it was sent.
    ensure_eq!(puts.iter().filter(|p| p.is_none()).count(), 1);
    ensure!(
        puts.iter().all(|p| p.is_none() || *p == Some(at)),
        "{puts:?}"
    );
    let winner = ["d1", "d2", "d3", "d4"][puts.iter().position(Option::is_none).unwrap_or(0)];
    ensure_eq!(
        s.take_code(&key, winner, "", at + 1, 5).await.ctx("take")?,
        CodeCheck::Accepted
    );
    Ok(())
}

async fn change_log<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("c");
    let c0 = s.change_cursor().await.ctx("change_cursor")?;
    let sid = format!("{t} 'quoted' \"session\" \\ ünï");
    let want = vec![
        Change::Role(5),
        Change::User(i64::MAX),
        Change::Session(sid.clone()),
        Change::Role(-1),
        Change::Project(42),
    ];
    let mut j = Journal::default();
    for c in &want {
        j = j.with(c.clone());
    }
    s.create_user(&new_user(&format!("{t}-u")), &j)
        .await
        .ctx("create")?;
    let got = s.changes_since(c0, 100).await.ctx("changes_since")?;
    let kinds: Vec<Change> = got.iter().map(|(_, c)| c.clone()).collect();
    ensure_eq!(kinds, want);
    for w in got.windows(2) {
        ensure!(w[0].0 < w[1].0, "change ids not increasing: {got:?}");
    }
    let last = got.last().map(|(id, _)| *id).ctx("last change")?;
    ensure!(
        got[0].0 > c0,
        "change id {} not after cursor {c0}",
        got[0].0
    );
    ensure_eq!(s.change_cursor().await.ctx("change_cursor")?, last);
    let two = s.changes_since(c0, 2).await.ctx("changes_since limit")?;
    ensure_eq!(two, got[..2].to_vec());
    let rest = s
        .changes_since(two[1].0, 100)
        .await
        .ctx("changes_since middle")?;
    ensure_eq!(rest, got[2..].to_vec());
    ensure!(
        s.changes_since(last, 100)
            .await
            .ctx("changes_since end")?
            .is_empty(),
        "changes after the last"
    );
    ensure_eq!(
        s.changes_since(c0, 0).await.ctx("changes_since 0")?,
        Vec::new()
    );
    Ok(())
}

async fn change_prune_keeps_ids_growing<S: Store + ?Sized>(s: &S) -> Outcome {
    let t = uniq("c");
    let c0 = s.change_cursor().await.ctx("change_cursor")?;
    let j = Journal::default().with(Change::Session(format!("{t}-1")));
    s.create_user(&new_user(&format!("{t}-a")), &j)
        .await
        .ctx("create")?;
    let first = s.changes_since(c0, 10).await.ctx("changes")?;
    ensure_eq!(first.len(), 1);
    let n = now();
    ensure_eq!(s.prune_changes(n - 3600).await.ctx("prune old")?, 0);
    ensure_eq!(s.changes_since(c0, 10).await.ctx("changes")?, first);
    let pruned = s.prune_changes(n + 3600).await.ctx("prune all")?;
    ensure!(pruned >= 1, "prune_changes pruned {pruned}");
    ensure!(
        s.changes_since(c0, 10).await.ctx("changes")?.is_empty(),
        "pruned change still listed"
    );
    ensure!(
        s.changes_since(i64::MIN, 10)
            .await
            .ctx("changes")?
            .is_empty(),
        "changes older than the cut survived"
    );
    let j = Journal::default().with(Change::Session(format!("{t}-2")));
    s.create_user(&new_user(&format!("{t}-b")), &j)
        .await
        .ctx("create")?;
    let second = s.changes_since(c0, 10).await.ctx("changes")?;
    ensure_eq!(second.len(), 1);
    ensure!(
        second[0].0 > first[0].0,
        "a change id was reused after pruning: {} after {}",
        second[0].0,
        first[0].0
    );
    ensure!(
        s.change_cursor().await.ctx("cursor")? >= second[0].0,
        "cursor behind the newest change"
    );
    Ok(())
}
