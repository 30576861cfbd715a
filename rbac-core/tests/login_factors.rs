//! No sequence of login steps yields a session with a factor it did not prove: random
//! sequences of password logins (right or wrong), completions (a TOTP code of a step not
//! yet used or already used, a recovery code fresh or used, garbage, a used or foreign
//! challenge) and refreshes, checked against a model of what was proven.

use rbac_core::store::AuthorizerStore;
use std::collections::HashSet;
use std::sync::Arc;

use proptest::prelude::*;
use rbac_core::factors::Factors;
use rbac_core::factors::{decode_totp_secret, totp_code, totp_step};
use rbac_core::service::{LoginInput, LoginThrottle, SecondFactorInput};
use rbac_core::store::{Store, UserStore};
use rbac_core::{
    now, AdminPrivileges, Error, HasherConfig, JwtCodec, JwtKey, MemoryStore, PrivilegeRegistry,
    Rbac, RbacConfig, SecretsKey, SessionKind, ThrottlePolicy, User,
};

#[derive(Debug, Clone)]
enum Proof {
    /// The TOTP code of the step now plus 0 or 1 (both stay valid across one step change).
    Totp(i64),
    /// A recovery code by index (used ones included).
    Recovery(usize),
    /// Six digits that are no code of the steps around now, or other garbage.
    Garbage(bool),
    /// A passkey assertion the account never made (it has no passkey), well-formed or not.
    ForgedPasskey(bool),
}

#[derive(Debug, Clone)]
enum Op {
    /// A password login of alice (second factor) or bob (none), right or wrong.
    Login { alice: bool, right: bool },
    /// Completes challenge `index` (of those handed out, used ones included).
    Complete { index: usize, proof: Proof },
    /// Uses a challenge token as a bearer token.
    ChallengeAsToken { index: usize },
    /// Refreshes session `index`.
    Refresh { index: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let proof = prop_oneof![
        (0i64..2).prop_map(Proof::Totp),
        (0usize..12).prop_map(Proof::Recovery),
        any::<bool>().prop_map(Proof::Garbage),
        any::<bool>().prop_map(Proof::ForgedPasskey),
    ];
    prop_oneof![
        (any::<bool>(), any::<bool>()).prop_map(|(alice, right)| Op::Login { alice, right }),
        (0usize..6, proof).prop_map(|(index, proof)| Op::Complete { index, proof }),
        (0usize..6).prop_map(|index| Op::ChallengeAsToken { index }),
        (0usize..8).prop_map(|index| Op::Refresh { index }),
    ]
}

struct World {
    rbac: Rbac,
    store: Arc<MemoryStore>,
    secret: Vec<u8>,
    recovery: Vec<String>,
}

async fn world() -> World {
    let loose = ThrottlePolicy {
        free: 100_000,
        max_failures: 100_000,
        window: 900,
        lockout: 1,
        backoff: 0,
    };
    world_with(loose).await
}

async fn world_with(loose: ThrottlePolicy) -> World {
    let store = Arc::new(MemoryStore::new());
    let config = RbacConfig {
        hasher: HasherConfig {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            workers: 2,
            queue: 64,
        },
        throttle: LoginThrottle {
            account: loose,
            address: loose,
            ..LoginThrottle::default()
        },
        secrets_key: Some(SecretsKey::generate()),
        relying_party: Some(rbac_core::RelyingParty {
            id: "localhost".into(),
            origin: "http://localhost:8088".into(),
            name: "rbac".into(),
            any_port: false,
        }),
        ..RbacConfig::default()
    };
    let dyn_store: Arc<dyn Store> = store.clone();
    let rbac = Rbac::new(
        dyn_store,
        Arc::new(PrivilegeRegistry::new(AdminPrivileges::default().codes())),
        JwtCodec::new(JwtKey::from_secret("factor-test-secret-factor-test-s"), []),
        config,
    )
    .await
    .expect("rbac");
    for name in ["alice", "bob"] {
        let user = User::blank(name, rbac.users().hasher().hash("pw").await.expect("hash"));
        store
            .create_user(&user, &Default::default())
            .await
            .expect("user");
    }
    let login = rbac
        .sessions()
        .login(&input("alice", "pw"))
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)
        .expect("login");
    let me = rbac
        .sessions()
        .authenticate(&login.token.token)
        .await
        .expect("me");
    let enrolment = rbac
        .factors()
        .begin_totp(&me, None, "127.0.0.1")
        .await
        .expect("begin");
    let secret = decode_totp_secret(&enrolment.secret).expect("secret");
    let recovery = rbac
        .factors()
        .confirm_totp(&me, &totp_code(&secret, totp_step(now())))
        .await
        .expect("confirm");
    World {
        rbac,
        store,
        secret,
        recovery,
    }
}

fn input(name: &str, password: &str) -> LoginInput {
    LoginInput {
        audience: String::new(),
        name: name.into(),
        password: password.into(),
        ip: "127.0.0.1".into(),
        user_agent: String::new(),
        tenant: None,
    }
}

/// The model: what each handed-out token proved.
#[derive(Default)]
struct Model {
    /// Challenges: (token, used).
    challenges: Vec<(String, bool)>,
    /// Sessions: (token, the factors the model says it proved).
    sessions: Vec<(String, Factors)>,
    /// The last TOTP step accepted (confirmation included).
    last_step: i64,
    used_codes: HashSet<usize>,
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let w = world().await;
    let mut m = Model {
        last_step: totp_step(now()),
        ..Model::default()
    };
    for op in ops {
        match op {
            Op::Login { alice, right } => {
                let name = if alice { "alice" } else { "bob" };
                let password = if right { "pw" } else { "wrong" };
                match w
                    .rbac
                    .sessions()
                    .login(&input(name, password))
                    .await
                    .and_then(rbac_core::service::LoginStep::signed_in)
                {
                    Ok(outcome) => {
                        prop_assert!(right && !alice, "a token for {name} from a password");
                        m.sessions.push((outcome.token.token, Factors::PASSWORD));
                    }
                    Err(Error::SecondFactorRequired(c)) => {
                        prop_assert!(right && alice, "a challenge for {name}");
                        m.challenges.push((c.token, false));
                    }
                    Err(Error::BadCredentials) => prop_assert!(!right),
                    Err(e) => prop_assert!(false, "login: {e}"),
                }
            }
            Op::Complete { index, proof } => {
                let Some((token, used)) = m.challenges.get(index).cloned() else {
                    continue;
                };
                let step = totp_step(now());
                let passkey = match &proof {
                    Proof::ForgedPasskey(true) => Some(serde_json::json!({
                        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
                        "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA",
                                     "signature": "AAAA", "userHandle": null},
                        "extensions": {}
                    })),
                    Proof::ForgedPasskey(false) => Some(serde_json::json!({"not": "webauthn"})),
                    _ => None,
                };
                let (code, valid, factor, claim) = match &proof {
                    Proof::Totp(offset) => {
                        let s = step + offset;
                        (
                            totp_code(&w.secret, s),
                            s > m.last_step,
                            Factors::TOTP,
                            Some(s),
                        )
                    }
                    Proof::Recovery(i) => match w.recovery.get(*i) {
                        Some(c) => (
                            c.clone(),
                            !m.used_codes.contains(i),
                            Factors::RECOVERY_CODE,
                            None,
                        ),
                        None => ("zzzzz-zzzzz".into(), false, Factors::NONE, None),
                    },
                    Proof::Garbage(digits) => {
                        let near: Vec<String> =
                            (-2..=2).map(|o| totp_code(&w.secret, step + o)).collect();
                        let code = if *digits {
                            (0..1_000_000)
                                .map(|n| format!("{n:06}"))
                                .find(|c| !near.contains(c))
                                .unwrap_or_default()
                        } else {
                            "not a code".to_string()
                        };
                        (code, false, Factors::NONE, None)
                    }
                    Proof::ForgedPasskey(_) => (String::new(), false, Factors::NONE, None),
                };
                let second = SecondFactorInput {
                    audience: String::new(),
                    mfa_token: token.clone(),
                    code,
                    passkey,
                    ip: "127.0.0.1".into(),
                    user_agent: String::new(),
                    tenant: None,
                };
                match w
                    .rbac
                    .sessions()
                    .complete_login(&second, SessionKind::Jwt)
                    .await
                {
                    Ok(outcome) => {
                        prop_assert!(!used, "a used challenge completed");
                        prop_assert!(valid, "completed with {proof:?}");
                        m.challenges[index].1 = true;
                        if let Some(s) = claim {
                            m.last_step = s;
                        }
                        if let Proof::Recovery(i) = proof {
                            m.used_codes.insert(i);
                        }
                        m.sessions
                            .push((outcome.token.token, Factors::PASSWORD | factor));
                    }
                    Err(Error::Unauthenticated(_)) => {
                        prop_assert!(used, "a live challenge refused")
                    }
                    Err(Error::BadSecondFactor) => {
                        // A used challenge is refused before any code is looked at.
                        prop_assert!(!used && !valid, "a valid proof refused: {proof:?}");
                    }
                    Err(e) => prop_assert!(false, "complete: {e}"),
                }
            }
            Op::ChallengeAsToken { index } => {
                if let Some((token, _)) = m.challenges.get(index) {
                    prop_assert!(w.rbac.sessions().authenticate(token).await.is_err());
                }
            }
            Op::Refresh { index } => {
                let Some((token, factors)) = m.sessions.get(index).cloned() else {
                    continue;
                };
                if let Ok(me) = w.rbac.sessions().authenticate(&token).await {
                    let fresh = w
                        .rbac
                        .sessions()
                        .refresh(&me, "127.0.0.1")
                        .await
                        .expect("refresh");
                    m.sessions.push((fresh.token, factors));
                }
            }
        }
        // Every live session proved exactly what the model says, and nothing more.
        for (token, factors) in &m.sessions {
            if let Ok(me) = w.rbac.sessions().authenticate(token).await {
                prop_assert_eq!(me.factors, *factors);
                let stored = w
                    .store
                    .session(&me.session_id)
                    .await
                    .expect("store")
                    .expect("session");
                prop_assert_eq!(stored.factors, *factors);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn no_login_sequence_yields_a_factor_it_did_not_prove(ops in proptest::collection::vec(op(), 1..24)) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run(ops))?;
    }
}

#[tokio::test]
async fn an_old_session_gives_the_password_to_begin_enrolment() {
    let w = world().await;
    let bob = w
        .rbac
        .sessions()
        .login(&input("bob", "pw"))
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)
        .expect("login");
    let me = w
        .rbac
        .sessions()
        .authenticate(&bob.token.token)
        .await
        .expect("me");
    // Fresh: no password needed (positive control).
    w.rbac
        .factors()
        .begin_totp(&me, None, "127.0.0.1")
        .await
        .expect("a fresh session begins");
    // The same session, seen as signed in 11 minutes ago.
    let old = rbac_core::Principal {
        verified_at: now() - 660,
        ..me.clone()
    };
    assert!(matches!(
        w.rbac.factors().begin_totp(&old, None, "127.0.0.1").await,
        Err(Error::InvalidParam {
            field: "password",
            ..
        })
    ));
    assert!(matches!(
        w.rbac
            .factors()
            .begin_totp(&old, Some("wrong"), "127.0.0.1")
            .await,
        Err(Error::WrongPassword)
    ));
    w.rbac
        .factors()
        .begin_totp(&old, Some("pw"), "127.0.0.1")
        .await
        .expect("with the password");
}

#[tokio::test]
async fn a_right_password_alone_does_not_clear_the_failures_of_an_account_with_a_factor() {
    // Two failures are free; the third blocks the account for a minute.
    let strict = ThrottlePolicy {
        free: 2,
        max_failures: 100,
        window: 900,
        lockout: 900,
        backoff: 60,
    };
    let w = world_with(strict).await;
    // Positive control: bob (no second factor) logs in again and again; each right
    // password clears his count.
    for _ in 0..5 {
        w.rbac
            .sessions()
            .login(&input("bob", "pw"))
            .await
            .and_then(rbac_core::service::LoginStep::signed_in)
            .expect("bob logs in");
    }
    // alice's right password opens a challenge each time, but counts until a code
    // completes one: the third leaves her blocked.
    for _ in 0..3 {
        match w
            .rbac
            .sessions()
            .login(&input("alice", "pw"))
            .await
            .and_then(rbac_core::service::LoginStep::signed_in)
        {
            Err(Error::SecondFactorRequired(_)) => {}
            other => panic!("expected a challenge, got {other:?}"),
        }
    }
    assert!(matches!(
        w.rbac
            .sessions()
            .login(&input("alice", "pw"))
            .await
            .and_then(rbac_core::service::LoginStep::signed_in),
        Err(Error::Throttled { .. })
    ));
}

#[tokio::test]
async fn a_right_old_password_does_not_clear_them_either() {
    let strict = ThrottlePolicy {
        free: 2,
        max_failures: 100,
        window: 900,
        lockout: 900,
        backoff: 60,
    };
    let w = world_with(strict).await;
    // alice signs in with her password and a code (which clears her count) ...
    let challenge = match w
        .rbac
        .sessions()
        .login(&input("alice", "pw"))
        .await
        .and_then(rbac_core::service::LoginStep::signed_in)
    {
        Err(Error::SecondFactorRequired(c)) => c,
        other => panic!("expected a challenge, got {other:?}"),
    };
    let second = SecondFactorInput {
        audience: String::new(),
        mfa_token: challenge.token,
        code: totp_code(&w.secret, totp_step(now()) + 1),
        passkey: None,
        ip: "127.0.0.1".into(),
        user_agent: String::new(),
        tenant: None,
    };
    let token = w
        .rbac
        .sessions()
        .complete_login(&second, SessionKind::Jwt)
        .await
        .expect("complete")
        .token
        .token;
    let me = w.rbac.sessions().authenticate(&token).await.expect("me");
    // ... then changes her password three times with the right old one: each counts.
    let passwords = ["pw", "pw-2", "pw-3", "pw-4"];
    for pair in passwords.windows(2) {
        w.rbac
            .users()
            .change_password(&me, pair[0], pair[1], "127.0.0.1")
            .await
            .expect("change");
    }
    assert!(matches!(
        w.rbac
            .sessions()
            .login(&input("alice", "pw-4"))
            .await
            .and_then(rbac_core::service::LoginStep::signed_in),
        Err(Error::Throttled { .. })
    ));
}
