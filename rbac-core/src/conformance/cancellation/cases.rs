//! One call per port method, with what it needs made first (and not abandoned).

use super::*;

/// The call, moved into a future the sweep can abandon; its result is not looked at.
macro_rules! call {
    ($e:expr) => {
        Some(Box::pin(async move {
            let _ = $e.await;
        }) as Call<'_>)
    };
}

fn passkey(user: UserId, credential_id: &str) -> PasskeyRecord {
    PasskeyRecord {
        id: 0,
        user_id: user,
        credential_id: credential_id.to_string(),
        user_handle: "aGFuZGxl".to_string(),
        name: "key".to_string(),
        credential: "{\"cred\":{}}".to_string(),
        counter: 3,
        backup_eligible: true,
        backup_state: false,
        created_at: 1_700_000_000,
        last_used_at: 0,
    }
}

fn ceremony(id: &str) -> Ceremony {
    Ceremony {
        id: id.to_string(),
        user_id: None,
        purpose: CeremonyPurpose::Assert,
        state: "{\"ast\":{}}".to_string(),
        expires_at: now() + 300,
    }
}

fn totp(user: UserId) -> TotpFactor {
    TotpFactor {
        user_id: user,
        sealed: "sealed".to_string(),
        confirmed: false,
        last_step: 0,
        created_at: 1_700_000_000,
    }
}

fn code(key: &str) -> VerificationCode {
    VerificationCode {
        key: key.into(),
        digest: "d".into(),
        context: "c".into(),
        sent_at: now(),
        expires_at: now() + 300,
    }
}

const POLICY: ThrottlePolicy = ThrottlePolicy {
    free: 1,
    max_failures: 3,
    window: 100,
    lockout: 1000,
    backoff: 10,
};

/// A user made for one run (to delete, or to enrol).
async fn fresh_user<S: Store + ?Sized>(s: &S, run: &Run) -> Result<User, String> {
    s.create_user(&new_user(&format!("{}-u", run.marker)), &Journal::default())
        .await
        .ctx("create user")
}

/// The call of `method`, made ready; `None` for a method the sweep does not know.
pub(super) async fn call<'a, S: Store + ?Sized>(
    s: &'a S,
    fx: &'a Fixture,
    run: &'a Run,
    method: &str,
) -> Result<Option<Call<'a>>, String> {
    let j = run.journal(fx);
    let m = run.marker.clone();
    let at = now();
    Ok(match method {
        "UserStore::import_users" => {
            let users = vec![new_user(&format!("{m}-a")), new_user(&format!("{m}-b"))];
            call!(s.import_users(&users, &j))
        }
        "UserStore::create_user" => {
            let name = format!("{m}-new");
            run.expect(Effect::User(name.clone()));
            call!(s.create_user(&new_user(&name), &j))
        }
        "UserStore::create_user_claiming" => {
            let name = format!("{m}-claim");
            run.expect(Effect::User(name.clone()));
            call!(s.create_user_claiming(&new_user(&name), &j))
        }
        "AuthorizerStore::user" => call!(s.user(fx.user)),
        "AuthorizerStore::roles" => call!(s.roles()),
        "AuthorizerStore::second_factor_enrolled" => call!(s.second_factor_enrolled(fx.user)),
        "UserStore::user_by_name" => call!(s.user_by_name("nobody")),
        "UserStore::user_by_email" => call!(s.user_by_email("nobody@example.com")),
        "UserStore::users_by_phone" => call!(s.users_by_phone("13800000000", 5)),
        "UserStore::list_users" => call!(s.list_users(&UserQuery::default())),
        "UserStore::count_users" => {
            let q = UserQuery {
                name_contains: Some("sweep".into()),
                ..UserQuery::default()
            };
            call!(s.count_users(&q))
        }
        "UserStore::user_rows" => call!(s.user_rows(&UserQuery::default(), None)),
        "UserStore::update_user" => {
            let mut user = s.user(fx.user).await.ctx("user")?.ctx("the user")?;
            user.remark = m.clone();
            call!(s.update_user(&user, None, Revoke::Nothing, &j))
        }
        "AssignmentStore::update_user_roles" => {
            let mut user = s.user(fx.user).await.ctx("user")?.ctx("the user")?;
            user.roles = if user.roles.len() == 1 {
                vec![Assignment::global(fx.role), Assignment::global(fx.included)]
            } else {
                vec![Assignment::global(fx.role)]
            };
            call!(s.update_user_roles(&user, None, 32, Revoke::AllBut(&fx.session), &j))
        }
        "AssignmentStore::assign_role" => {
            let a = Assignment::within(fx.included, fx.scope);
            s.revoke_role(fx.user, a, &Journal::default())
                .await
                .ctx("revoke first")?;
            call!(s.assign_role(fx.user, a, 32, &j))
        }
        "AssignmentStore::revoke_role" => {
            let a = Assignment::within(fx.included, fx.scope);
            s.assign_role(fx.user, a, 32, &Journal::default())
                .await
                .ctx("assign first")?;
            call!(s.revoke_role(fx.user, a, &j))
        }
        "UserStore::set_user_enabled" => {
            let u = fresh_user(s, run).await?;
            call!(s.set_user_enabled(u.id, false, Revoke::All, &j))
        }
        "UserStore::set_password" => {
            call!(s.set_password(fx.user, "$argon2id$v=19$x", None, Some(&fx.session), &j))
        }
        "UserStore::delete_user" => {
            let u = fresh_user(s, run).await?;
            call!(s.delete_user(u.id, &j))
        }
        "UserStore::record_login" => call!(s.record_login(fx.user, at, "192.0.2.9", None)),
        "AssignmentStore::count_users_with_role" => call!(s.count_users_with_role(fx.role)),
        "AssignmentStore::scope_role_by_tenant" => {
            call!(s.scope_role_by_tenant(fx.included, &j))
        }
        "RoleStore::create_role" => {
            let name = format!("{m}-role");
            run.expect(Effect::Role(name.clone()));
            call!(s.create_role(&Role::new(name, "", ""), &j))
        }
        "AuthorizerStore::role" => call!(s.role(fx.role)),
        "RoleStore::role_by_name" => call!(s.role_by_name("nobody")),
        "RoleStore::role_by_key" => call!(s.role_by_key("nobody")),
        "RoleStore::list_roles" => call!(s.list_roles(Page::ALL)),
        "RoleStore::count_roles" => call!(s.count_roles()),
        "RoleStore::role_rows" => call!(s.role_rows(Page::ALL, None)),
        "RoleStore::update_role" => {
            let mut role = s.role(fx.included).await.ctx("role")?.ctx("the role")?;
            role.remark = m.clone();
            call!(s.update_role(&role, &j))
        }
        "RoleStore::set_role_requires_second_factor" => {
            call!(s.set_role_requires_second_factor(fx.included, false, &j))
        }
        "RoleStore::set_role_privileges" => {
            let codes = vec!["SweepA".to_string(), format!("Sweep{}", m.len())];
            call!(s.set_role_privileges(fx.included, &codes, &j))
        }
        "RoleStore::set_role_includes" => {
            call!(s.set_role_includes(fx.role, &[fx.included], &j))
        }
        "RoleStore::delete_role" => {
            let role = s
                .create_role(&Role::new(format!("{m}-gone"), "", ""), &Journal::default())
                .await
                .ctx("create role")?;
            call!(s.delete_role(role.id, &j))
        }
        "SessionStore::create_session" => {
            let id = format!("{m}-s");
            run.expect(Effect::Session(id.clone()));
            call!(s.create_session(&new_session(&id, fx.user, at + 60), &j))
        }
        "AuthorizerStore::session" => call!(s.session(&fx.session)),
        "SessionStore::revoke_session" => {
            let id = format!("{m}-s");
            s.create_session(&new_session(&id, fx.user, at + 60), &Journal::default())
                .await
                .ctx("create session")?;
            call!(s.revoke_session(&id, &j))
        }
        "SessionStore::rotate_session" => {
            let old = format!("{m}-old");
            s.create_session(&new_session(&old, fx.user, at + 60), &Journal::default())
                .await
                .ctx("create session")?;
            let new = new_session(&format!("{m}-new"), fx.user, at + 60);
            call!(s.rotate_session(&old, &new, &j))
        }
        "SessionStore::revoke_user_sessions" => {
            let u = fresh_user(s, run).await?;
            call!(s.revoke_user_sessions(u.id, None, &j))
        }
        "SessionStore::mark_session_verified" => {
            call!(s.mark_session_verified(&fx.session, Factors::PASSWORD, at, &j))
        }
        "AuthorizerStore::touch_session" => call!(s.touch_session(&fx.session, at + 3600, at)),
        "SessionStore::purge_sessions" => call!(s.purge_sessions(0)),
        "SessionStore::count_live_sessions" => call!(s.count_live_sessions(at)),
        "SessionStore::user_sessions" => call!(s.user_sessions(fx.user, at, 10)),
        "EventStore::append_events" => {
            let events = vec![NewEvent::new("sweep", m.clone(), "sweeper")];
            call!(s.append_events(&events))
        }
        "EventStore::claim_deliveries" => {
            call!(s.claim_deliveries(&fx.target, &m, at, at + 30, 5, 3))
        }
        "EventStore::settle_delivery" => {
            call!(s.settle_delivery(0, &fx.target, &m, &Attempt::Delivered(at)))
        }
        "EventStore::deliveries" => call!(s.deliveries(5)),
        "EventStore::recent_events" => call!(s.recent_events(5)),
        "EventStore::prune_events" => call!(s.prune_events(0, 5)),
        "SecondFactorStore::totp" => call!(s.totp(fx.user)),
        "SecondFactorStore::put_pending_totp" => {
            let u = fresh_user(s, run).await?;
            call!(s.put_pending_totp(&totp(u.id), &j))
        }
        "SecondFactorStore::confirm_totp" => {
            let u = fresh_user(s, run).await?;
            s.put_pending_totp(&totp(u.id), &Journal::default())
                .await
                .ctx("pending")?;
            let codes = vec![format!("{m}-1"), format!("{m}-2")];
            call!(s.confirm_totp(u.id, 7, &codes, None, &j))
        }
        "SecondFactorStore::claim_totp_step" => call!(s.claim_totp_step(fx.user, 9)),
        "SecondFactorStore::use_recovery_code" => call!(s.use_recovery_code(fx.user, &m)),
        "SecondFactorStore::recovery_codes_left" => call!(s.recovery_codes_left(fx.user)),
        "SecondFactorStore::replace_recovery_codes" => {
            let codes = vec![format!("{m}-r")];
            call!(s.replace_recovery_codes(fx.user, &codes, &j))
        }
        "SecondFactorStore::remove_totp" => {
            let u = fresh_user(s, run).await?;
            s.put_pending_totp(&totp(u.id), &Journal::default())
                .await
                .ctx("pending")?;
            call!(s.remove_totp(u.id, &j))
        }
        "AuthorizerStore::append_audit" => {
            let entry = NewAudit {
                user_id: None,
                user_name: "sweeper".into(),
                category: AuditCategory::System,
                content: format!("{m} alone"),
                success: true,
            };
            call!(s.append_audit(&entry))
        }
        "AuditStore::list_audit" => call!(s.list_audit(&AuditQuery::default())),
        "AuditStore::count_audit" => call!(s.count_audit(&AuditQuery::default())),
        "AuditStore::audit_rows" => call!(s.audit_rows(&AuditQuery::default(), None)),
        "AuditStore::prune_audit" => call!(s.prune_audit(0, 5)),
        "SettingStore::setting" => call!(s.setting("sweep")),
        "SettingStore::setting_or_insert" => call!(s.setting_or_insert(&m, "v")),
        "ThrottleStore::login_blocked" => call!(s.login_blocked(&[m.as_str()], at)),
        "ThrottleStore::record_login_failure" => {
            call!(s.record_login_failure(&m, at, &POLICY))
        }
        "ThrottleStore::reserve_login_attempt" => {
            call!(s.reserve_login_attempt(&m, at, &POLICY))
        }
        "ThrottleStore::clear_login_failures" => {
            s.record_login_failure(&m, at, &POLICY)
                .await
                .ctx("a failure")?;
            call!(s.clear_login_failures(&m))
        }
        "ThrottleStore::clear_login_failures_under" => {
            call!(s.clear_login_failures_under(&m))
        }
        "ThrottleStore::remember_login_address" => {
            call!(s.remember_login_address(&m, "192.0.2.3", at))
        }
        "ThrottleStore::login_address_known" => {
            call!(s.login_address_known(&m, "192.0.2.3", 0))
        }
        "CodeStore::put_code" => call!(s.put_code(&code(&m), at - 60)),
        "CodeStore::take_code" => {
            s.put_code(&code(&m), at - 60).await.ctx("put code")?;
            call!(s.take_code(&m, "d", "c", at, 3))
        }
        "CodeStore::withdraw_code" => {
            s.put_code(&code(&m), at - 60).await.ctx("put code")?;
            call!(s.withdraw_code(&m, "d"))
        }
        "CodeStore::purge_codes" => call!(s.purge_codes(0)),
        "ApiKeyStore::create_api_key" => {
            run.expect(Effect::ApiKey(m.clone()));
            call!(s.create_api_key(&new_api_key(fx.user, &m), &j))
        }
        "ApiKeyStore::api_key" => call!(s.api_key(fx.api_key)),
        "ApiKeyStore::find_api_key" => call!(s.find_api_key(&m)),
        "ApiKeyStore::list_api_keys" => call!(s.list_api_keys(fx.user, Page::ALL)),
        "ApiKeyStore::count_api_keys" => call!(s.count_api_keys(fx.user)),
        "ApiKeyStore::api_key_rows" => call!(s.api_key_rows(fx.user, Page::ALL, None)),
        "ApiKeyStore::revoke_api_key" => {
            let p = s
                .create_api_key(&new_api_key(fx.user, &m), &Journal::default())
                .await
                .ctx("create key")?;
            call!(s.revoke_api_key(p.id, &j))
        }
        "ApiKeyStore::add_key_requests" => {
            let counts = vec![RequestCount {
                key: fx.api_key,
                day: 100,
                requests: 1,
            }];
            call!(s.add_key_requests(&counts))
        }
        "ApiKeyStore::reserve_key_quota" => {
            call!(s.reserve_key_quota(fx.api_key, 200, 1))
        }
        "ApiKeyStore::release_key_quota" => {
            call!(s.release_key_quota(fx.api_key, 200, 1))
        }
        "ChangeLog::change_cursor" => call!(s.change_cursor()),
        "ChangeLog::changes_since" => call!(s.changes_since(run.cursor, 100)),
        "ChangeLog::prune_changes" => call!(s.prune_changes(0)),
        "ChangeLog::settled" => call!(async {
            s.settled().await;
            Ok::<(), StoreError>(())
        }),
        "AuthorizerStore::scope_parents" => call!(s.scope_parents()),
        "AuthorizerStore::scope_parent" => call!(s.scope_parent(fx.scope)),
        "ScopeStore::set_scope_parent" => {
            let child = Scope::new("desk", i64::from(rand::random::<u32>()) + 1).ctx("scope")?;
            call!(s.set_scope_parent(child, Some(fx.scope), &j))
        }
        "PasskeyStore::passkeys" => call!(s.passkeys(fx.user)),
        "PasskeyStore::count_passkeys" => call!(s.count_passkeys(fx.user)),
        "PasskeyStore::passkey_by_credential" => call!(s.passkey_by_credential(&m)),
        "PasskeyStore::add_passkey" => {
            let u = fresh_user(s, run).await?;
            call!(s.add_passkey(&passkey(u.id, &m), None, &j))
        }
        "PasskeyStore::record_passkey_use" => {
            let u = fresh_user(s, run).await?;
            let mut record = passkey(u.id, &m);
            record.id = s
                .add_passkey(&record, None, &Journal::default())
                .await
                .ctx("add passkey")?;
            call!(s.record_passkey_use(&record, 5))
        }
        "PasskeyStore::remove_passkey" => {
            let u = fresh_user(s, run).await?;
            let id = s
                .add_passkey(&passkey(u.id, &m), None, &Journal::default())
                .await
                .ctx("add passkey")?;
            call!(s.remove_passkey(u.id, id, &j))
        }
        "PasskeyStore::remove_second_factors" => {
            let u = fresh_user(s, run).await?;
            s.add_passkey(&passkey(u.id, &m), None, &Journal::default())
                .await
                .ctx("add passkey")?;
            call!(s.remove_second_factors(u.id, &j))
        }
        "PasskeyStore::put_ceremony" => call!(s.put_ceremony(&ceremony(&m))),
        "PasskeyStore::purge_ceremonies" => call!(s.purge_ceremonies(0)),
        "PasskeyStore::take_ceremony" => {
            s.put_ceremony(&ceremony(&m)).await.ctx("put ceremony")?;
            call!(s.take_ceremony(&m))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    /// Every `async fn` of every port trait, read from the ports' sources (each in its
    /// capability's folder): the sweep must name each one.
    #[test]
    fn the_sweep_names_every_port_method() {
        let sources = [
            include_str!("../../store.rs"),
            include_str!("../../admin/port.rs"),
            include_str!("../../audit/port.rs"),
            include_str!("../../authn/port.rs"),
            include_str!("../../authz/port.rs"),
            include_str!("../../codes/port.rs"),
            include_str!("../../events.rs"),
            include_str!("../../factors/port.rs"),
            include_str!("../../keys/port.rs"),
            include_str!("../../factors/passkeys.rs"),
        ];
        let mut found = Vec::new();
        for src in sources {
            let mut port: Option<&str> = None;
            for line in src.lines() {
                if let Some(rest) = line.strip_prefix("pub trait ") {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    port = Some(Box::leak(name.into_boxed_str()));
                } else if line.starts_with('}') {
                    port = None;
                } else if let (Some(p), Some(rest)) =
                    (port, line.trim_start().strip_prefix("async fn "))
                {
                    let method: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    found.push(format!("{p}::{method}"));
                }
            }
        }
        // The change sink is what the feed calls, not a port of the store.
        found.retain(|m| !m.starts_with("ChangeSink::"));
        let missing: Vec<&String> = found
            .iter()
            .filter(|m| !super::PORT_METHODS.contains(&m.as_str()))
            .collect();
        assert!(missing.is_empty(), "the sweep misses {missing:?}");
        assert_eq!(found.len(), super::PORT_METHODS.len(), "found {found:?}");
    }
}
