//! The layer's checks: what a store implementing only [`AuthorizerStore`] must do. A full
//! store runs them through its own ports ([`Ports`]); an application's own store runs them
//! with [`run_layer`] and a [`LayerFixture`] that writes its own tables.

use async_trait::async_trait;

use super::{uniq, Ctx, Outcome, Report};
use crate::model::*;
use crate::store::*;

/// Writes what the layer's checks read, the application's own way.
#[async_trait]
pub trait LayerFixture: Send + Sync {
    /// Stores an enabled role granting `privileges` and including `includes`; its id.
    async fn put_role(
        &self,
        name: &str,
        privileges: &[&str],
        includes: &[RoleId],
    ) -> Result<RoleId, String>;
    /// Stores an enabled user holding `roles` (global assignments); its id.
    async fn put_user(&self, name: &str, roles: &[RoleId]) -> Result<UserId, String>;
    /// Replaces the global roles a user holds.
    async fn set_roles(&self, user: UserId, roles: &[RoleId]) -> Result<(), String>;
    /// Stores a session.
    async fn put_session(&self, session: &Session) -> Result<(), String>;
}

/// A full [`Store`] as the layer's fixture: it writes through its own ports.
pub struct Ports<'a, S: ?Sized>(pub &'a S);

#[async_trait]
impl<S: Store + ?Sized> LayerFixture for Ports<'_, S> {
    async fn put_role(
        &self,
        name: &str,
        privileges: &[&str],
        includes: &[RoleId],
    ) -> Result<RoleId, String> {
        let mut role = Role::new(name, "", "");
        role.privileges = privileges.iter().map(|c| c.to_string()).collect();
        let id = self.0.create_role(&role, &Journal::default()).await;
        let id = id.ctx("create_role")?.id;
        if !includes.is_empty() {
            let journal = Journal::default();
            let set = self.0.set_role_includes(id, includes, &journal);
            set.await.ctx("set_role_includes")?;
        }
        Ok(id)
    }
    async fn put_user(&self, name: &str, roles: &[RoleId]) -> Result<UserId, String> {
        let mut user = User::blank(name, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
        user.set_global_roles(roles.iter().copied());
        let created = self.0.create_user(&user, &Journal::default()).await;
        Ok(created.ctx("create_user")?.id)
    }
    async fn set_roles(&self, user: UserId, roles: &[RoleId]) -> Result<(), String> {
        let mut stored = self.0.user(user).await.ctx("user")?.ctx("user")?;
        stored.set_global_roles(roles.iter().copied());
        let journal = Journal::default();
        let write = self
            .0
            .update_user_roles(&stored, None, usize::MAX, Revoke::Nothing, &journal);
        write.await.ctx("update_user_roles")
    }
    async fn put_session(&self, session: &Session) -> Result<(), String> {
        let created = self.0.create_session(session, &Journal::default()).await;
        created.ctx("create_session")
    }
}

/// The name of every layer check, in the order [`run_layer`] runs them.
pub const LAYER_CHECKS: &[&str] = &["layer_reads", "layer_reads_fresh", "layer_optional"];

/// Runs the layer's checks against a store that implements its port, writing through
/// `fixture`.
pub async fn run_layer<S: AuthorizerStore + ?Sized>(
    store: &S,
    fixture: &dyn LayerFixture,
) -> Report {
    let mut report = Report::default();
    report.record("layer_reads", reads(store, fixture).await);
    report.record("layer_reads_fresh", reads_fresh(store, fixture).await);
    report.record("layer_optional", optional(store, fixture).await);
    report
}

/// A user with its roles, a role with its codes and inclusions, every role, a session; and
/// nothing for ids that name nothing.
pub(super) async fn reads<S: AuthorizerStore + ?Sized>(s: &S, f: &dyn LayerFixture) -> Outcome {
    let base = f.put_role(&uniq("reader"), &["UserAccess"], &[]).await?;
    let top = f.put_role(&uniq("editor"), &["UserEdit"], &[base]).await?;
    let name = uniq("layer-user");
    let user = f.put_user(&name, &[top]).await?;
    let got = s.user(user).await.ctx("user")?.ctx("user")?;
    ensure_eq!(got.name, name);
    ensure_eq!(got.roles, vec![Assignment::global(top)]);
    ensure!(got.enabled, "a stored user reads as disabled");
    ensure!(
        s.user(i64::MAX - 7).await.ctx("user")?.is_none(),
        "a user from nowhere"
    );
    let role = s.role(top).await.ctx("role")?.ctx("role")?;
    ensure_eq!(role.privileges, vec!["UserEdit".to_string()]);
    ensure_eq!(role.includes, vec![base]);
    ensure!(role.enabled, "a stored role reads as disabled");
    ensure!(
        s.role(i64::MAX - 7).await.ctx("role")?.is_none(),
        "a role from nowhere"
    );
    let all = s.roles().await.ctx("roles")?;
    ensure!(
        all.iter().any(|r| r.id == base) && all.iter().any(|r| r.id == top),
        "roles() misses a role"
    );
    let session = Session::new(uniq("sid"), user, SessionKind::Opaque, now() + 3600);
    f.put_session(&session).await?;
    let read = s
        .session(&session.id)
        .await
        .ctx("session")?
        .ctx("session")?;
    ensure_eq!(read.user_id, user);
    ensure_eq!(read.kind, SessionKind::Opaque);
    ensure_eq!(read.expires_at, session.expires_at);
    ensure!(!read.revoked, "a new session reads as revoked");
    let absent = s.session(&uniq("no-such-session")).await.ctx("session")?;
    ensure!(absent.is_none(), "a session from nowhere: {absent:?}");
    Ok(())
}

/// Each read sees the latest write: the store keeps no cache of its own (the authorizer does,
/// and is told of changes).
pub(super) async fn reads_fresh<S: AuthorizerStore + ?Sized>(
    s: &S,
    f: &dyn LayerFixture,
) -> Outcome {
    let role = f.put_role(&uniq("fresh"), &["UserAccess"], &[]).await?;
    let user = f.put_user(&uniq("fresh-user"), &[role]).await?;
    ensure_eq!(s.user(user).await.ctx("user")?.ctx("user")?.roles.len(), 1);
    f.set_roles(user, &[]).await?;
    let after = s.user(user).await.ctx("user")?.ctx("user")?;
    ensure!(
        after.roles.is_empty(),
        "a revoked role still reads: {:?}",
        after.roles
    );
    let later = f.put_role(&uniq("later"), &["UserEdit"], &[role]).await?;
    let all = s.roles().await.ctx("roles")?;
    ensure!(
        all.iter().any(|r| r.id == later),
        "roles() misses a role stored since"
    );
    Ok(())
}

/// The optional reads answer without granting more: no second factor and no parent for a
/// new user's and an unknown scope's sake, a refusal's entry accepted, a touch of a missing
/// session harmless.
pub(super) async fn optional<S: AuthorizerStore + ?Sized>(s: &S, f: &dyn LayerFixture) -> Outcome {
    let user = f.put_user(&uniq("optional-user"), &[]).await?;
    let enrolled = s
        .second_factor_enrolled(user)
        .await
        .ctx("second_factor_enrolled")?;
    ensure!(!enrolled, "a new user reads as enrolled");
    let scope = Scope::new("tenant", i64::MAX - 11).ctx("scope")?;
    ensure!(
        s.scope_parent(scope).await.ctx("scope_parent")?.is_none(),
        "a parent from nowhere"
    );
    let parents = s.scope_parents().await.ctx("scope_parents")?;
    ensure!(
        !parents.iter().any(|(child, _)| *child == scope),
        "a parent from nowhere"
    );
    let entry = NewAudit {
        user_id: Some(user),
        user_name: uniq("refused"),
        category: AuditCategory::System,
        content: "refused: UserEdit".into(),
        success: false,
    };
    s.append_audit(&entry).await.ctx("append_audit")?;
    let missing = uniq("no-such-session");
    s.touch_session(&missing, now() + 60, now())
        .await
        .ctx("touch_session")?;
    ensure!(
        s.session(&missing).await.ctx("session")?.is_none(),
        "a touch made a session"
    );
    Ok(())
}

/// [`reads`] on a full store, writing through its ports.
pub(super) async fn layer_reads<S: Store + ?Sized>(s: &S) -> Outcome {
    reads(s, &Ports(s)).await
}

/// [`reads_fresh`] on a full store.
pub(super) async fn layer_reads_fresh<S: Store + ?Sized>(s: &S) -> Outcome {
    reads_fresh(s, &Ports(s)).await
}

/// [`optional`] on a full store.
pub(super) async fn layer_optional<S: Store + ?Sized>(s: &S) -> Outcome {
    optional(s, &Ports(s)).await
}
