//! Step-up, decided once in rbac-core, through every surface. The OpenAPI document marks
//! every operation that changes anything `x-step-up` (`true`, `false`, or the condition);
//! each sensitive one (its sensitive variant where conditional) is refused to a second
//! factor proven longer ago than `--step-up-secs`, in the surface's own terms, and succeeds
//! right after a step-up on the same session (the positive control). A helper without a
//! second factor prepares every target with the same sensitive actions: users without
//! factors see the documented answers.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use tests::*;

use crate::console_support::*;
use crate::gateway_support::{create_project, gw};

/// The step-up window the servers here run with, in seconds.
pub(crate) const WINDOW: u64 = 3;

/// How a surface refuses a stale factor and answers success.
#[derive(Debug, Clone, Copy)]
enum Surface {
    /// Platform and gateway: code 1033 in the envelope, 0 on success.
    Platform,
    /// IAM: 403 with code 100213, a 2xx on success.
    Iam,
    /// Console (seed 001): 403, `code` 200 on success.
    Console,
}

impl Surface {
    #[track_caller]
    fn refused(self, r: &(u16, Value), ctx: &str) {
        match self {
            Surface::Platform => {
                expect_code(r, 200, 1033, ctx);
            }
            Surface::Iam => expect_iam_error(r, 403, 100213, ctx),
            Surface::Console => {
                expect_console_error(r, 403, ctx);
            }
        }
    }

    #[track_caller]
    fn succeeded(self, r: &(u16, Value), ctx: &str) {
        match self {
            Surface::Platform => {
                expect_ok(r, ctx);
            }
            Surface::Iam => assert!((200..300).contains(&r.0), "{ctx}: {r:?}"),
            Surface::Console => {
                expect_console_ok(r, ctx);
            }
        }
    }
}

const PLATFORM_USERS: &[&str] = &[
    "platform_reset_password",
    "platform_create_user",
    "platform_edit_user",
    "platform_delete_user",
    "platform_enable_user",
    "platform_disable_user",
    "platform_end_session",
    "platform_reset_mfa",
];

const PLATFORM_ROLES: &[&str] = &[
    "platform_delete_role",
    "platform_enable_role",
    "platform_disable_role",
    "platform_auth_role",
    "platform_include_role",
    "platform_assign_role",
    "platform_revoke_role",
    "platform_mfa_require_role",
];

const IAM_AND_GATEWAY: &[&str] = &[
    "iam_update",
    "iam_delete_one",
    "iam_delete_many",
    "iam_change_password",
    "iam_change_password_underscored",
    "iam_end_sessions",
    "iam_end_session",
    "gateway_delete",
];

const CONSOLE: &[&str] = &["console_add_sub_account"];

/// An actor with TOTP enrolled, its session, and the recovery codes it steps up with.
struct Actor {
    token: String,
    codes: Vec<String>,
    proven: Instant,
}

impl Actor {
    /// Enrols TOTP with `token` (a password-only session) and signs in anew with a code.
    async fn enrol(s: &TestServer, name: &str, password: &str, token: &str) -> Actor {
        let enrolled = s.enrol_totp(token).await;
        let token = s
            .login_with_code(name, password, &totp_now(&enrolled.secret, 1))
            .await;
        Actor {
            token,
            codes: enrolled.recovery_codes,
            proven: Instant::now(),
        }
    }

    /// Waits until the session's second factor is older than the window.
    async fn go_stale(&self) {
        let stale_at = self.proven + Duration::from_millis(WINDOW * 1000 + 1200);
        tokio::time::sleep_until(stale_at.into()).await;
    }

    /// Proves a second factor anew on the same session (a recovery code).
    async fn step_up(&mut self, s: &TestServer) {
        let code = self.codes.pop().expect("a recovery code left");
        let r = s
            .post(
                "platform/mfa/verify",
                &json!({"code": code}),
                Some(&self.token),
            )
            .await;
        expect_ok(&r, "step-up with a recovery code");
        self.proven = Instant::now();
    }
}

/// A user created by `helper` with no role, and its password.
async fn target(s: &TestServer, helper: &str) -> (String, String) {
    let name = unique_name("target");
    let password = gen_password();
    s.create_user(helper, &name, &password, None).await;
    (name, password)
}

/// The target of one request: what `send` needs, prepared before the step-up so the
/// request right after it is quick.
pub(crate) async fn prepare(s: &TestServer, helper: &str, op: &str) -> Value {
    let post = |path: &'static str, body: Value| async move {
        let r = s.post(path, &body, Some(helper)).await;
        expect_ok(&r, path);
    };
    match op {
        "platform_create_user" => {
            let role = unique_name("given");
            s.create_role(helper, &role).await;
            s.grant(helper, &role, &["UserAccess"]).await;
            json!({"role": role})
        }
        "platform_enable_user" => {
            let (name, _) = target(s, helper).await;
            post("platform/disable/user", json!({"user_name": name})).await;
            json!({"user": name})
        }
        "platform_end_session" | "iam_end_sessions" => {
            let (name, password) = target(s, helper).await;
            s.login(&name, &password).await;
            json!({"user": name})
        }
        "iam_end_session" => {
            let (name, password) = target(s, helper).await;
            s.login(&name, &password).await;
            let path = format!("/v1/users/{name}/sessions");
            let r = s.iam("GET", &path, Auth::Bearer(helper), None).await;
            assert_eq!(r.0, 200, "sessions of {name}: {}", r.1);
            let id = r.1["items"][0]["id"].as_str().expect("a session id");
            json!({"user": name, "session": id})
        }
        "platform_reset_mfa" => {
            let (name, password) = target(s, helper).await;
            let token = s.login(&name, &password).await;
            s.enrol_totp(&token).await;
            json!({"user": name})
        }
        "platform_delete_role"
        | "platform_disable_role"
        | "platform_auth_role"
        | "platform_mfa_require_role" => {
            let role = unique_name("acted");
            s.create_role(helper, &role).await;
            json!({"role": role})
        }
        "platform_enable_role" => {
            let role = unique_name("acted");
            s.create_role(helper, &role).await;
            post("platform/disable/role", json!({"role_name": role})).await;
            json!({"role": role})
        }
        "platform_include_role" => {
            let (a, b) = (unique_name("outer"), unique_name("inner"));
            s.create_role(helper, &a).await;
            s.create_role(helper, &b).await;
            s.grant(helper, &b, &["UserAccess"]).await;
            json!({"role": a, "included": b})
        }
        "platform_assign_role" | "platform_revoke_role" => {
            let (name, _) = target(s, helper).await;
            let role = unique_name("held");
            s.create_role(helper, &role).await;
            s.grant(helper, &role, &["UserAccess"]).await;
            if op == "platform_revoke_role" {
                post(
                    "platform/assign/role",
                    json!({"user_name": name, "role_name": role}),
                )
                .await;
            }
            json!({"user": name, "role": role})
        }
        "gateway_delete" => {
            let (name, password) = target(s, helper).await;
            let owner = s.login(&name, &password).await;
            let (key, _) = create_project(s, &owner, "walked").await;
            let r = gw(s, "project/list", &json!({}), &owner).await;
            let id = expect_ok(&r, "project/list")["list"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["project_key"] == key)
                .and_then(|p| p["id"].as_i64())
                .expect("the project is listed");
            json!({"project": id})
        }
        _ => {
            let (name, password) = target(s, helper).await;
            json!({"user": name, "password": password})
        }
    }
}

/// The operation's sensitive variant, as `token`.
async fn send(s: &TestServer, op: &str, fx: &Value, token: &str) -> (u16, Value) {
    let user = fx["user"].as_str().unwrap_or_default();
    let role = fx["role"].as_str().unwrap_or_default();
    let platform =
        |path: &'static str, body: Value| async move { s.post(path, &body, Some(token)).await };
    let bearer = Auth::Bearer(token);
    match op {
        "platform_reset_password" => {
            platform(
                "platform/reset/password",
                json!({"user_name": user, "new_password": gen_password()}),
            )
            .await
        }
        "platform_create_user" => {
            let body = json!({
                "user_name": unique_name("minted"),
                "user_alias": "minted",
                "phone_number": gen_phone(),
                "password": gen_password(),
                "role_name": role,
            });
            platform("platform/create/user", body).await
        }
        "platform_edit_user" => {
            platform(
                "platform/edit/user",
                json!({"user_name": user, "user_alias": "edited"}),
            )
            .await
        }
        "platform_delete_user" => {
            platform("platform/delete/user", json!({"user_name": user})).await
        }
        "platform_enable_user" => {
            platform("platform/enable/user", json!({"user_name": user})).await
        }
        "platform_disable_user" => {
            platform("platform/disable/user", json!({"user_name": user})).await
        }
        "platform_end_session" => {
            platform("platform/end/session", json!({"user_name": user})).await
        }
        "platform_reset_mfa" => platform("platform/reset/mfa", json!({"user_name": user})).await,
        "platform_delete_role" => {
            platform("platform/delete/role", json!({"role_name": role})).await
        }
        "platform_enable_role" => {
            platform("platform/enable/role", json!({"role_name": role})).await
        }
        "platform_disable_role" => {
            platform("platform/disable/role", json!({"role_name": role})).await
        }
        "platform_auth_role" => {
            platform(
                "platform/auth/role",
                json!({"role_name": role, "privilege": ["UserAccess"]}),
            )
            .await
        }
        "platform_include_role" => {
            platform(
                "platform/include/role",
                json!({"role_name": role, "include": [fx["included"]]}),
            )
            .await
        }
        "platform_assign_role" => {
            platform(
                "platform/assign/role",
                json!({"user_name": user, "role_name": role}),
            )
            .await
        }
        "platform_revoke_role" => {
            platform(
                "platform/revoke/role",
                json!({"user_name": user, "role_name": role}),
            )
            .await
        }
        "platform_mfa_require_role" => {
            platform(
                "platform/mfa/require/role",
                json!({"role_name": role, "required": true}),
            )
            .await
        }
        "iam_update" => {
            let path = format!("/v1/users/{user}");
            s.iam("PUT", &path, bearer, Some(&json!({"nickname": "edited", "email": format!("{}@example.com", unique_name("e"))})))
                .await
        }
        "iam_delete_one" => {
            s.iam("DELETE", &format!("/v1/users/{user}"), bearer, None)
                .await
        }
        "iam_delete_many" => {
            s.iam("DELETE", &format!("/v1/users?name={user}"), bearer, None)
                .await
        }
        "iam_change_password" | "iam_change_password_underscored" => {
            let tail = if op == "iam_change_password" {
                "change-password"
            } else {
                "change_password"
            };
            let body = json!({"oldPassword": fx["password"], "newPassword": "Next@2021"});
            s.iam(
                "PUT",
                &format!("/v1/users/{user}/{tail}"),
                bearer,
                Some(&body),
            )
            .await
        }
        "iam_end_sessions" => {
            s.iam(
                "DELETE",
                &format!("/v1/users/{user}/sessions"),
                bearer,
                None,
            )
            .await
        }
        "iam_end_session" => {
            let id = fx["session"].as_str().unwrap_or_default();
            let path = format!("/v1/users/{user}/sessions/{id}");
            s.iam("DELETE", &path, bearer, None).await
        }
        "gateway_delete" => gw(s, "project/delete", &json!({"id": fx["project"]}), token).await,
        other => panic!("no sensitive request for {other}"),
    }
}

/// The surface an operation answers in.
fn surface(op: &str) -> Surface {
    if op.starts_with("iam_") {
        Surface::Iam
    } else if op.starts_with("console_") {
        Surface::Console
    } else {
        Surface::Platform
    }
}

/// Walks `ops` as the built-in admin with TOTP: each refused stale, then done fresh.
async fn walk(ops: &[&str]) {
    let s = TestServer::start_with(&["--step-up-secs", &WINDOW.to_string()]).await;
    let admin = s.admin_token().await;
    // The helper holds every privilege and no second factor: never asked to step up.
    let helper = s.new_user(&admin, &ALL_PRIVILEGES).await.token;
    let mut actor = Actor::enrol(&s, "admin", s.admin_password(), &admin).await;
    for op in ops {
        let (stale_fx, fresh_fx) = (
            prepare(&s, &helper, op).await,
            prepare(&s, &helper, op).await,
        );
        actor.go_stale().await;
        let r = send(&s, op, &stale_fx, &actor.token).await;
        surface(op).refused(&r, &format!("{op} with a stale second factor"));
        actor.step_up(&s).await;
        let r = send(&s, op, &fresh_fx, &actor.token).await;
        surface(op).succeeded(&r, &format!("{op} right after a step-up"));
    }
}

#[tokio::test]
async fn platform_user_actions_ask_a_fresh_factor() {
    walk(PLATFORM_USERS).await;
}

#[tokio::test]
async fn platform_role_actions_ask_a_fresh_factor() {
    walk(PLATFORM_ROLES).await;
}

#[tokio::test]
async fn iam_and_gateway_actions_ask_a_fresh_factor() {
    walk(IAM_AND_GATEWAY).await;
}

#[tokio::test]
async fn a_console_primary_account_creates_sub_accounts_with_a_fresh_factor() {
    let hook = Webhook::start().await;
    let s = console_server(&hook, &["--step-up-secs", &WINDOW.to_string()]).await;
    let department = 2;
    let (name, password, _) = register(&s, &hook, department).await;
    // Without a second factor, the documented answer (the control for users without).
    let plain = console_login(&s, &name, &password, department).await;
    let body = || {
        sub_account(
            &unique_name("sub"),
            "Sub@2024pw",
            &gen_phone(),
            department,
            "算力互联",
        )
    };
    let r = console_post(&s, "user/addition", &body(), Some(&plain)).await;
    expect_console_ok(&r, "a sub-account by a primary without a second factor");
    let platform = s.login(&name, &password).await;
    let enrolled = s.enrol_totp(&platform).await;
    let r = console_post(
        &s,
        "auth/login",
        &login_body(&name, &password, department),
        None,
    )
    .await;
    assert_eq!(r.0, 428, "a console login with a second factor: {}", r.1);
    let challenge = r.1["data"].as_str().expect("the challenge").to_string();
    let r = console_post(
        &s,
        "auth/login/mfa",
        &json!({"mfaToken": challenge, "code": totp_now(&enrolled.secret, 1), "departmentId": department}),
        None,
    )
    .await;
    let token = expect_console_ok(&r, "complete the login")
        .as_str()
        .expect("token")
        .to_string();
    let mut actor = Actor {
        token,
        codes: enrolled.recovery_codes,
        proven: Instant::now(),
    };
    for op in CONSOLE {
        assert_eq!(*op, "console_add_sub_account");
        actor.go_stale().await;
        let r = console_post(&s, "user/addition", &body(), Some(&actor.token)).await;
        Surface::Console.refused(&r, "a sub-account with a stale second factor");
        actor.step_up(&s).await;
        let r = console_post(&s, "user/addition", &body(), Some(&actor.token)).await;
        Surface::Console.succeeded(&r, "a sub-account right after a step-up");
    }
}

#[tokio::test]
async fn every_mutating_operation_is_marked_and_every_sensitive_one_walked() {
    let s = TestServer::start().await;
    let (status, text) = s.get_text("/openapi.json", &[]).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&text).expect("the document is JSON");
    let mut sensitive = BTreeSet::new();
    let mut unmarked = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            let id = op["operationId"].as_str().unwrap_or(path).to_string();
            match op.get("x-step-up") {
                None => unmarked.push(format!("{} {path} ({id})", method.to_uppercase())),
                Some(Value::Bool(false)) => {}
                Some(Value::Bool(true)) => {
                    sensitive.insert(id.clone());
                }
                Some(Value::String(when)) => {
                    assert!(!when.is_empty(), "{id}: an empty condition");
                    sensitive.insert(id.clone());
                }
                Some(other) => panic!("{id}: x-step-up is {other}"),
            }
            if op.get("x-step-up").is_some_and(|m| m != &json!(false)) {
                assert!(
                    op["x-step-up-use-cases"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty()),
                    "{id}: a sensitive operation names its use-cases: {op}"
                );
            }
        }
    }
    assert!(
        unmarked.is_empty(),
        "operations without x-step-up: {unmarked:#?}"
    );
    let walked: BTreeSet<String> = [PLATFORM_USERS, PLATFORM_ROLES, IAM_AND_GATEWAY, CONSOLE]
        .concat()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        sensitive, walked,
        "every sensitive operation is walked, and only those"
    );
}
