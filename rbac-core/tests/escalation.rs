//! Privilege escalation, at the service level: random sequences of every administrative
//! action (grants, role assignments, user creation, password resets and edits, enabling,
//! disabling and deleting users and roles, renaming roles) by random actors (the admin and
//! ordinary users holding whatever their roles give them), mixed with registrations
//! through every self-service path (an e-mailed code, an SMS code for an owner account
//! and the members it creates, roleless sign-up). After every step, every change to the real state must
//! be justified:
//! - no actor sets the credentials of, disables, enables, deletes or re-roles a user
//!   outside its own privilege set (the built-in admin is admin's alone);
//! - no actor renames, disables, enables, deletes or re-grants a role outside its own
//!   privilege set, and every code added or removed is one it holds;
//! - a system role is renamed, deleted or granted more by admin alone, and a self-registered
//!   account holds exactly the documented role of its path.
//!
//! By induction, no user ever holds a privilege that no admin-rooted chain of grants gave.
//! Refusals are fine; an unjustified change is an escalation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use proptest::prelude::*;
use rbac_core::service::{
    Channel, CodeProof, LoginThrottle, Member, Registration, RoleUpdate, SystemRole, UserEdit,
    UserInput,
};
use rbac_core::{
    HasherConfig, JwtCodec, JwtKey, MemoryStore, Page, Principal, PrivilegeRegistry, Rbac,
    RbacConfig, Scope, Senders, SessionKind, ThrottlePolicy, User, UserQuery, ADMIN,
};
use rbac_core::{Mail, MailSender, SendError, Sms, SmsContent, SmsSender};

/// The vocabulary: the administrative codes and the one that lets owners create members.
const CODES: [&str; 12] = [
    "UserAccess",
    "UserAdd",
    "UserEdit",
    "UserDelete",
    "UserEnableOrDisable",
    "RoleAccess",
    "RoleAdd",
    "RoleDelete",
    "RoleEdit",
    "RoleEnableOrDisable",
    "RoleAuthority",
    MEMBER_ADD,
];
/// The privilege owner accounts create members with.
const MEMBER_ADD: &str = "MemberAdd";
/// The role of users registered with an e-mailed code.
const SELF_ROLE: &str = "self-registered";
/// The role of owner accounts registered with an SMS code.
const OWNER_ROLE: &str = "owner";
/// The role of members an owner creates.
const MEMBER_ROLE: &str = "member";
/// The system roles the application declares.
const SYSTEM_ROLES: &[SystemRole] = &[
    SystemRole {
        key: OWNER_ROLE,
        name: OWNER_ROLE,
        remark: "owner accounts",
        privileges: &[MEMBER_ADD],
    },
    SystemRole {
        key: MEMBER_ROLE,
        name: MEMBER_ROLE,
        remark: "members",
        privileges: &[],
    },
    SystemRole {
        key: SELF_ROLE,
        name: SELF_ROLE,
        remark: "self-registered users",
        privileges: &[],
    },
];

const USERS: [&str; 4] = ["ann", "bob", "cyd", "dan"];
const ROLES: [&str; 3] = ["ops", "audit", "staff"];
/// Names role actions aim at or rename to: the test's roles, system roles, a spare.
const ROLE_NAMES: [&str; 6] = ["ops", "audit", "staff", SELF_ROLE, OWNER_ROLE, "spare"];
const PW: &str = "pw-123456";

/// Who acts: the admin, or one of [`USERS`].
#[derive(Debug, Clone, Copy)]
enum Actor {
    Admin,
    User(usize),
}

impl Actor {
    fn name(self) -> &'static str {
        match self {
            Actor::Admin => ADMIN,
            Actor::User(u) => USERS[u],
        }
    }
}

/// A user an action aims at: one of [`USERS`] or the built-in admin.
#[derive(Debug, Clone, Copy)]
enum Target {
    Admin,
    User(usize),
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Admin => ADMIN,
            Target::User(u) => USERS[u],
        }
    }
}

/// How a self-registration comes in.
#[derive(Debug, Clone, Copy)]
enum Path {
    /// An e-mailed code.
    Email,
    /// An owner account with an SMS code.
    Owner,
    /// Plain sign-up: no role.
    Roleless,
}

#[derive(Debug, Clone)]
enum Op {
    Grant(Actor, usize, Vec<usize>),
    SetRole(Actor, Target, Option<usize>),
    CreateUser(Actor, usize, Option<usize>),
    DeleteUser(Actor, Target),
    ResetPassword(Actor, Target),
    EditPassword(Actor, Target),
    SetUserEnabled(Actor, Target, bool),
    RenameRole(Actor, usize, usize),
    SetRoleEnabled(Actor, usize, bool),
    DeleteRole(Actor, usize),
    Register(Path, usize),
    AddMember(Actor, usize),
    Include(Actor, usize, Vec<usize>),
}

impl Op {
    fn actor(&self) -> Option<Actor> {
        match *self {
            Op::Grant(a, ..)
            | Op::SetRole(a, ..)
            | Op::CreateUser(a, ..)
            | Op::DeleteUser(a, _)
            | Op::ResetPassword(a, _)
            | Op::EditPassword(a, _)
            | Op::SetUserEnabled(a, ..)
            | Op::RenameRole(a, ..)
            | Op::SetRoleEnabled(a, ..)
            | Op::DeleteRole(a, _)
            | Op::AddMember(a, _)
            | Op::Include(a, ..) => Some(a),
            Op::Register(..) => None,
        }
    }
}

fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        1 => Just(Actor::Admin),
        4 => (0..USERS.len()).prop_map(Actor::User),
    ]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        1 => Just(Target::Admin),
        4 => (0..USERS.len()).prop_map(Target::User),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let u = 0..USERS.len();
    let r = 0..ROLE_NAMES.len();
    let codes = proptest::collection::vec(0..CODES.len(), 0..6);
    let path = prop_oneof![Just(Path::Email), Just(Path::Owner), Just(Path::Roleless)];
    prop_oneof![
        3 => (actor(), r.clone(), codes).prop_map(|(a, r, c)| Op::Grant(a, r, c)),
        3 => (actor(), target(), proptest::option::of(r.clone()))
            .prop_map(|(a, t, r)| Op::SetRole(a, t, r)),
        1 => (actor(), u.clone(), proptest::option::of(r.clone()))
            .prop_map(|(a, u, r)| Op::CreateUser(a, u, r)),
        1 => (actor(), target()).prop_map(|(a, t)| Op::DeleteUser(a, t)),
        2 => (actor(), target()).prop_map(|(a, t)| Op::ResetPassword(a, t)),
        1 => (actor(), target()).prop_map(|(a, t)| Op::EditPassword(a, t)),
        2 => (actor(), target(), any::<bool>()).prop_map(|(a, t, e)| Op::SetUserEnabled(a, t, e)),
        2 => (actor(), r.clone(), r.clone()).prop_map(|(a, r, n)| Op::RenameRole(a, r, n)),
        1 => (actor(), r.clone(), any::<bool>()).prop_map(|(a, r, e)| Op::SetRoleEnabled(a, r, e)),
        1 => (actor(), r.clone()).prop_map(|(a, r)| Op::DeleteRole(a, r)),
        2 => (path, u.clone()).prop_map(|(p, u)| Op::Register(p, u)),
        1 => (actor(), u).prop_map(|(a, u)| Op::AddMember(a, u)),
        2 => (actor(), r.clone(), proptest::collection::vec(r, 0..3))
            .prop_map(|(a, r, i)| Op::Include(a, r, i)),
    ]
}

#[path = "escalation/world.rs"]
mod world;
use world::*;

fn codes(indices: &[usize]) -> Vec<String> {
    indices.iter().map(|c| CODES[*c].to_string()).collect()
}

/// Runs one action; refusals are ignored (the invariants judge what changed).
async fn apply(w: &World, who: Option<&Principal>, op: &Op, serial: usize) {
    let rbac = &w.rbac;
    let Some(who) = who else {
        if let Op::Register(path, u) = op {
            register(w, *path, USERS[*u], serial).await;
        }
        return;
    };
    match op {
        Op::Grant(_, r, c) => {
            let _ = rbac.roles().grant(who, ROLE_NAMES[*r], &codes(c)).await;
        }
        Op::SetRole(_, t, r) => {
            let edit = UserEdit {
                roles: Some(r.map(|r| ROLE_NAMES[r].to_string()).into_iter().collect()),
                ..UserEdit::default()
            };
            let _ = rbac.users().edit(who, t.name(), edit).await;
        }
        Op::CreateUser(_, u, r) => {
            let input = UserInput {
                name: USERS[*u].into(),
                password: PW.into(),
                roles: r.map(|r| ROLE_NAMES[r].to_string()).into_iter().collect(),
                ..UserInput::default()
            };
            let _ = rbac.users().create(Some(who), input).await;
        }
        Op::DeleteUser(_, t) => {
            let _ = rbac.users().delete(who, t.name()).await;
        }
        Op::ResetPassword(_, t) => {
            let _ = rbac
                .users()
                .reset_password(who, t.name(), "taken-over-1")
                .await;
        }
        Op::EditPassword(_, t) => {
            let edit = UserEdit {
                password: Some("taken-over-2".into()),
                ..UserEdit::default()
            };
            let _ = rbac.users().edit(who, t.name(), edit).await;
        }
        Op::SetUserEnabled(_, t, e) => {
            let _ = rbac.users().set_enabled(who, t.name(), *e).await;
        }
        Op::RenameRole(_, r, n) => {
            if let Ok(role) = rbac.roles().named(ROLE_NAMES[*r]).await {
                let update = RoleUpdate {
                    id: role.id,
                    name: ROLE_NAMES[*n].to_string(),
                    remark: None,
                };
                let _ = rbac.roles().edit(who, update).await;
            }
        }
        Op::SetRoleEnabled(_, r, e) => {
            let _ = rbac.roles().set_enabled(who, ROLE_NAMES[*r], *e).await;
        }
        Op::DeleteRole(_, r) => {
            let _ = rbac.roles().delete(who, ROLE_NAMES[*r]).await;
        }
        Op::AddMember(_, u) => {
            let owner = rbac.users().named(&who.user_name).await.ok();
            let mut user = User::blank(USERS[*u], String::new());
            user.phone = format!("139{serial:08}");
            user.tenant = owner.and_then(|o| o.tenant);
            let member = Member {
                user,
                password: PW.into(),
                role: MEMBER_ROLE.into(),
                scope: None,
                notify: false,
                audit: format!("create member {}", USERS[*u]),
            };
            let _ = rbac.users().create_member(who, MEMBER_ADD, member).await;
        }
        Op::Include(_, r, included) => {
            let names: Vec<String> = included
                .iter()
                .map(|i| ROLE_NAMES[*i].to_string())
                .collect();
            let _ = rbac.roles().include(who, ROLE_NAMES[*r], &names).await;
        }
        Op::Register(..) => {}
    }
}

/// Registers `name` through `path` as a user would, reading the code from the inbox.
async fn register(w: &World, path: Path, name: &str, serial: usize) {
    let rbac = &w.rbac;
    let mut user = User::blank(name, String::new());
    let (to, role) = match path {
        Path::Roleless => {
            let input = UserInput {
                name: name.into(),
                password: PW.into(),
                ..UserInput::default()
            };
            let _ = rbac.users().create(None, input).await;
            return;
        }
        Path::Email => {
            let to = format!("r{serial}@example.com");
            user.email = Some(to.clone());
            user.email_verified = true;
            let mail = rbac.config().senders.mail.clone();
            let sent = rbac
                .codes()
                .issue(&to, "", Channel::Mail, "", |code| {
                    let mail_to = to.clone();
                    async move {
                        let message = Mail {
                            to: mail_to,
                            subject: "code".into(),
                            body: String::new(),
                            code: Some(code),
                        };
                        mail.send(&message).await
                    }
                })
                .await;
            if sent.is_err() {
                return;
            }
            (to, SELF_ROLE)
        }
        Path::Owner => {
            let to = format!("138{serial:08}");
            user.phone = to.clone();
            user.phone_verified = true;
            user.tenant = Scope::new("org", 2);
            let sms = rbac.config().senders.sms.clone();
            let sent = rbac
                .codes()
                .issue(&to, "2", Channel::Sms, "", |code| {
                    let phone = to.clone();
                    async move {
                        let message = Sms {
                            phone,
                            content: SmsContent::RegisterCode(code),
                        };
                        sms.send(&message).await
                    }
                })
                .await;
            if sent.is_err() {
                return;
            }
            (to, OWNER_ROLE)
        }
    };
    let context = if matches!(path, Path::Owner) { "2" } else { "" };
    let registration = Registration {
        user,
        password: PW.into(),
        role: role.into(),
        scope: None,
        proof: CodeProof {
            key: to.clone(),
            code: w.inbox.code(&to),
            context: context.into(),
            context_field: "tenant",
        },
        client: "127.0.0.1".into(),
        audit: format!("register {name}"),
    };
    let _ = rbac.users().register(registration).await;
}

/// Checks that every change from `before` to `after` was one `op` was entitled to make.
fn judge(w: &World, op: &Op, before: &State, after: &State) -> Result<(), TestCaseError> {
    let actor = op.actor().map(Actor::name);
    let held = actor.map(|a| before.held(a)).unwrap_or_default();
    let system = [w.registered, w.primary, w.sub];
    // Users: every change to an existing user is the actor acting within itself.
    for (name, was) in &before.users {
        let now = after.users.get(name);
        if now == Some(was) {
            continue;
        }
        let Some(actor) = actor else {
            prop_assert!(false, "{op:?}: a registration changed user {name}");
            continue;
        };
        prop_assert!(
            before.within(actor, name),
            "{op:?}: {actor} changed {name} ({was:?} -> {now:?}), which holds {:?} beyond {held:?}",
            before.codes_of(was.role),
        );
        if let Some(now) = now {
            if now.role != was.role {
                let gives = before.codes_of(now.role);
                prop_assert!(
                    gives.is_subset(&held),
                    "{op:?}: {name} got a role with {gives:?}, beyond the actor's {held:?}"
                );
            }
        }
    }
    // New users: created by an actor with a role it could give, or registered with the
    // documented role of their path.
    for (name, now) in &after.users {
        if before.users.contains_key(name) {
            continue;
        }
        match op {
            Op::CreateUser(_, u, _) if USERS[*u] == name => {
                let gives = before.codes_of(now.role);
                prop_assert!(
                    gives.is_subset(&held),
                    "{op:?}: {name} created with {gives:?}, beyond the actor's {held:?}"
                );
            }
            Op::Register(path, u) if USERS[*u] == name => {
                let documented = match path {
                    Path::Email => Some(w.registered),
                    Path::Owner => Some(w.primary),
                    Path::Roleless => None,
                };
                prop_assert_eq!(
                    now.role,
                    documented,
                    "{:?}: {} registered with role {:?}",
                    op,
                    name,
                    now.role.and_then(|r| before.roles.get(&r))
                );
            }
            Op::AddMember(_, u) if USERS[*u] == name => {
                prop_assert_eq!(now.role, Some(w.sub), "{:?}: member's role", op);
            }
            _ => prop_assert!(false, "{op:?} created user {name}"),
        }
    }
    // Roles: every change is the actor acting on a role within itself, adding and removing
    // only what it holds; system roles are renamed, deleted or grown by admin alone.
    for (id, was) in &before.roles {
        let now = after.roles.get(id);
        let (reach_was, reach_now) = (before.codes_of(Some(*id)), after.codes_of(Some(*id)));
        let (confers_was, confers_now) = (before.confers(Some(*id)), after.confers(Some(*id)));
        if now == Some(was) && reach_was == reach_now && confers_was == confers_now {
            continue;
        }
        let actor = actor.unwrap_or("a registration");
        prop_assert!(
            reach_was.is_subset(&held),
            "{op:?}: {actor} changed role {} ({was:?} -> {now:?}) reaching {reach_was:?} beyond {held:?}",
            was.name
        );
        if now.is_some() {
            prop_assert!(
                reach_now.is_subset(&held),
                "{op:?}: {actor} made {} reach {reach_now:?} holding only {held:?}",
                was.name
            );
        }
        if system.contains(id) && actor != ADMIN {
            let renamed_or_gone = now.is_none_or(|n| n.name != was.name);
            // Grown: it could grant more, or confers more now (a role it includes enabled).
            let grown = now.is_some()
                && (!reach_now.is_subset(&reach_was) || !confers_now.is_subset(&confers_was));
            prop_assert!(
                !renamed_or_gone && !grown,
                "{op:?}: {actor} renamed, deleted or grew system role {}",
                was.name
            );
        }
    }
    // The built-in admin keeps its account and role.
    let admin_now = after.users.get(ADMIN);
    prop_assert!(
        admin_now.is_some_and(|a| a.enabled && a.role == before.users[ADMIN].role),
        "{op:?}: the built-in admin changed: {admin_now:?}"
    );
    Ok(())
}

async fn run(initial: Vec<Vec<usize>>, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let world = setup(&initial).await;
    for (serial, op) in ops.iter().enumerate() {
        let before = state(&world).await;
        let who = match op.actor() {
            Some(Actor::Admin) => Some(world.admin.clone()),
            Some(Actor::User(u)) => match principal(&world.rbac, USERS[u]).await {
                Some(p) => Some(p),
                None => continue, // deleted or disabled: it cannot act
            },
            None => None,
        };
        apply(&world, who.as_ref(), op, serial).await;
        let after = state(&world).await;
        judge(&world, op, &before, &after)?;
    }
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn no_one_acts_on_someone_stronger(
        initial in proptest::collection::vec(
            proptest::collection::vec(0..CODES.len(), 0..6),
            ROLES.len(),
        ),
        ops in proptest::collection::vec(op(), 1..30),
    ) {
        runtime().block_on(run(initial, ops))?;
    }
}

/// The two takeovers of the security audit, as fixed sequences: the model must refuse
/// both (and, with the fix reverted, it reports each as an escalation).
#[test]
fn the_audited_takeovers_are_refused() {
    let user_edit = CODES
        .iter()
        .position(|c| *c == "UserEdit")
        .expect("UserEdit");
    let role_edit = CODES
        .iter()
        .position(|c| *c == "RoleEdit")
        .expect("RoleEdit");
    // ann holds ops (UserEdit only): resetting admin's password or setting it by edit.
    let eve = vec![vec![user_edit], vec![], vec![]];
    for op in [
        Op::ResetPassword(Actor::User(0), Target::Admin),
        Op::EditPassword(Actor::User(0), Target::Admin),
    ] {
        runtime()
            .block_on(run(eve.clone(), vec![op]))
            .expect("takeover of admin refused");
    }
    // bob holds audit (RoleEdit only); ops holds UserEdit: rename the self-registration
    // role away, rename ops to its name, register with an e-mailed code.
    let mallory = vec![vec![user_edit], vec![role_edit], vec![]];
    let ops = vec![
        Op::RenameRole(Actor::User(1), 3, 5),
        Op::RenameRole(Actor::User(1), 0, 3),
        Op::DeleteUser(Actor::Admin, Target::User(3)),
        Op::Register(Path::Email, 3),
    ];
    runtime()
        .block_on(run(mallory, ops))
        .expect("hijack of the self-registration role refused");
}

/// Changing a role that a stronger role includes changes the stronger role too: ann
/// (RoleAuthority, UserAccess) may not make `staff` include her own role while `audit`
/// (UserDelete, held by bob) includes `staff` (that would hand bob RoleAuthority), and may
/// once nothing stronger includes it. With the check reverted, the model reports the first.
#[test]
fn a_stronger_includer_is_not_changed_through_what_it_includes() {
    let code = |c: &str| CODES.iter().position(|x| *x == c).expect("code");
    let initial = vec![
        vec![code("RoleAuthority"), code("UserAccess")],
        vec![code("UserDelete")],
        vec![],
    ];
    let (ops, audit, staff) = (0, 1, 2);
    let refused = vec![
        Op::Include(Actor::Admin, audit, vec![staff]),
        Op::Include(Actor::User(0), staff, vec![ops]),
    ];
    runtime()
        .block_on(run(initial.clone(), refused))
        .expect("a change through an included role refused");
    // The control: with no stronger includer, ann's change is made.
    runtime().block_on(async {
        let world = setup(&initial).await;
        let ann = principal(&world.rbac, USERS[0]).await.expect("ann");
        let included = [ROLE_NAMES[ops].to_string()];
        world
            .rbac
            .roles()
            .include(&ann, ROLE_NAMES[staff], &included)
            .await
            .expect("ann includes her own role in staff");
        let staff_role = world
            .rbac
            .roles()
            .named(ROLE_NAMES[staff])
            .await
            .expect("staff");
        let ops_role = world
            .rbac
            .roles()
            .named(ROLE_NAMES[ops])
            .await
            .expect("ops");
        assert_eq!(staff_role.includes, vec![ops_role.id]);
    });
}
