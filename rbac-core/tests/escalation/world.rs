//! The world the escalation model acts in: the real service over a memory store, an inbox
//! that captures codes, and the state the invariants compare.

use super::*;

/// A role as stored: name, its own privileges, enabled flag, the roles it includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RoleRow {
    pub(super) name: String,
    pub(super) codes: BTreeSet<String>,
    pub(super) enabled: bool,
    pub(super) includes: BTreeSet<i64>,
}

/// A user as stored: role, enabled flag, password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UserRow {
    pub(super) role: Option<i64>,
    pub(super) enabled: bool,
    pub(super) hash: String,
}

/// The real state, roles by id (so renames are followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct State {
    pub(super) roles: BTreeMap<i64, RoleRow>,
    pub(super) users: BTreeMap<String, UserRow>,
}

pub(super) fn all_codes() -> BTreeSet<String> {
    CODES.iter().map(|p| p.to_string()).collect()
}

impl State {
    /// Everything a role could confer: its own codes and every included role's,
    /// transitively, enabled or not (what containment compares).
    pub(super) fn codes_of(&self, role: Option<i64>) -> BTreeSet<String> {
        self.closure(role, false)
    }

    /// What a role confers now: nothing while disabled, else its own codes and those of
    /// the enabled roles it includes, transitively.
    pub(super) fn confers(&self, role: Option<i64>) -> BTreeSet<String> {
        self.closure(role, true)
    }

    fn closure(&self, role: Option<i64>, enabled_only: bool) -> BTreeSet<String> {
        let mut codes = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut todo: Vec<i64> = role.into_iter().collect();
        while let Some(id) = todo.pop() {
            if !seen.insert(id) {
                continue;
            }
            let Some(r) = self.roles.get(&id) else {
                continue;
            };
            if enabled_only && !r.enabled {
                continue;
            }
            codes.extend(r.codes.iter().cloned());
            todo.extend(r.includes.iter().copied());
        }
        codes
    }

    /// What `actor` holds now: its role's privileges while the role is enabled.
    pub(super) fn held(&self, actor: &str) -> BTreeSet<String> {
        if actor == ADMIN {
            return all_codes();
        }
        let Some(user) = self.users.get(actor) else {
            return BTreeSet::new();
        };
        self.confers(user.role)
    }

    /// Whether `target` lies within `actor`: everything assigned to it (enabled or not) is
    /// held by the actor; the built-in admin lies within admin alone; everyone within itself.
    pub(super) fn within(&self, actor: &str, target: &str) -> bool {
        if actor == target {
            return true;
        }
        if target == ADMIN {
            return false;
        }
        let assigned = self
            .users
            .get(target)
            .map(|u| self.codes_of(u.role))
            .unwrap_or_default();
        assigned.is_subset(&self.held(actor))
    }
}

/// Captures the codes the service sends, so the test can register like a user would.
#[derive(Default)]
pub(super) struct Inbox(Mutex<HashMap<String, String>>);

impl Inbox {
    pub(super) fn code(&self, to: &str) -> String {
        self.0
            .lock()
            .expect("inbox")
            .get(to)
            .cloned()
            .unwrap_or_default()
    }
}

#[async_trait]
impl MailSender for Inbox {
    async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        if let Some(code) = &mail.code {
            self.0
                .lock()
                .expect("inbox")
                .insert(mail.to.clone(), code.clone());
        }
        Ok(())
    }
}

#[async_trait]
impl SmsSender for Inbox {
    async fn send(&self, sms: &Sms) -> Result<(), SendError> {
        if let SmsContent::RegisterCode(code) = &sms.content {
            self.0
                .lock()
                .expect("inbox")
                .insert(sms.phone.clone(), code.clone());
        }
        Ok(())
    }
}

pub(super) const UNTHROTTLED: ThrottlePolicy = ThrottlePolicy {
    free: u32::MAX,
    max_failures: u32::MAX,
    window: 1,
    lockout: 0,
    backoff: 0,
};

/// The service, the admin's principal, the inbox, and the ids of the documented roles of
/// each registration path (as bootstrap made them, before any action).
pub(super) struct World {
    pub(super) rbac: Rbac,
    pub(super) admin: Principal,
    pub(super) inbox: Arc<Inbox>,
    pub(super) registered: i64,
    pub(super) primary: i64,
    pub(super) sub: i64,
}

pub(super) async fn setup(initial: &[Vec<usize>]) -> World {
    let inbox = Arc::new(Inbox::default());
    let config = RbacConfig {
        hasher: HasherConfig {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            workers: 2,
            queue: 64,
        },
        throttle: LoginThrottle {
            account: UNTHROTTLED,
            address: UNTHROTTLED,
            ..LoginThrottle::default()
        },
        system_roles: SYSTEM_ROLES.to_vec(),
        senders: Senders {
            sms: inbox.clone(),
            mail: inbox.clone(),
        },
        ..RbacConfig::default()
    };
    let rbac = Rbac::new(
        Arc::new(MemoryStore::new()),
        Arc::new(PrivilegeRegistry::new(CODES)),
        JwtCodec::new(JwtKey::from_secret("escalation-test-secret-escalation"), []),
        config,
    )
    .await
    .expect("rbac");
    rbac.bootstrap(Some("admin-pw")).await.expect("bootstrap");
    let admin = principal(&rbac, ADMIN).await.expect("admin");
    // The documented roles, found the way an operator would: by name, on a fresh store.
    let id_of = |name: &'static str| {
        let rbac = rbac.clone();
        async move { rbac.roles().named(name).await.expect("system role").id }
    };
    let (registered, primary, sub) = (
        id_of(SELF_ROLE).await,
        id_of(OWNER_ROLE).await,
        id_of(MEMBER_ROLE).await,
    );
    // Roles with random starting grants, and every user in one of them.
    for (r, codes) in ROLES.iter().zip(initial) {
        rbac.roles().create(&admin, r, "").await.expect("role");
        let codes: Vec<String> = codes.iter().map(|c| CODES[*c].to_string()).collect();
        rbac.roles().grant(&admin, r, &codes).await.expect("grant");
    }
    for (i, u) in USERS.iter().enumerate() {
        let input = UserInput {
            name: u.to_string(),
            password: PW.into(),
            roles: vec![ROLES[i % ROLES.len()].to_string()],
            ..UserInput::default()
        };
        rbac.users()
            .create(Some(&admin), input)
            .await
            .expect("user");
    }
    World {
        rbac,
        admin,
        inbox,
        registered,
        primary,
        sub,
    }
}

/// A principal for a stored, enabled user, as authentication would build it now.
pub(super) async fn principal(rbac: &Rbac, name: &str) -> Option<Principal> {
    let user = rbac.users().named(name).await.ok()?;
    if !user.enabled {
        return None; // a disabled user cannot authenticate
    }
    Some(Principal {
        user_id: user.id,
        user_name: Arc::from(user.name.as_str()),
        grants: rbac.authorizer().grants_for(&user.roles).await.ok()?,
        session_id: Arc::from("escalation-test"),
        kind: SessionKind::Jwt,
        factors: rbac_core::factors::Factors::PASSWORD,
        verified_at: 0,
        enrolment_required: false,
        second_factor_enrolled: false,
    })
}

pub(super) async fn state(w: &World) -> State {
    let roles = w
        .rbac
        .store()
        .list_roles(Page::ALL)
        .await
        .expect("roles")
        .rows
        .into_iter()
        .map(|r| {
            let codes = if r.builtin {
                all_codes()
            } else {
                r.privileges.into_iter().collect()
            };
            let row = RoleRow {
                name: r.name,
                codes,
                enabled: r.enabled,
                includes: r.includes.into_iter().collect(),
            };
            (r.id, row)
        })
        .collect();
    let users = w
        .rbac
        .users()
        .list(&w.admin, &UserQuery::default())
        .await
        .expect("list users")
        .rows
        .into_iter()
        .map(|v| {
            let row = UserRow {
                role: v.user.global_roles().next(),
                enabled: v.user.enabled,
                hash: v.user.password_hash.clone(),
            };
            (v.user.name, row)
        })
        .collect();
    State { roles, users }
}
