//! Assignments, beyond the document: a user's roles, globally or within a scope.

use super::*;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::AssignRoleReq)]
pub(super) struct AssignRoleReq {
    /// The user.
    user_name: Option<String>,
    /// The role.
    role_name: Option<String>,
    /// Where the role holds: `kind:id` (`org:2`, `project:17`); absent or empty: everywhere.
    scope: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/assign/role",
    tag = "platform",
    operation_id = "platform_assign_role",
    summary = "Give a user a role, everywhere or within a scope (beyond the document)",
    description = "Requires the privilege `RoleAuthority` where the role is assigned: globally for a global assignment, or within the scope (held globally, in the scope or in one of its ancestors); without it, code 1000. The role and everything the user holds must lie within the caller's privileges there (else 1021). An unknown user or role is 1006, a malformed scope 1003, more than 32 roles per user 1009. Assigning an assignment held already succeeds and changes nothing.",
    request_body = AssignRoleReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn assign_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<AssignRoleReq>,
) -> Result<Reply> {
    let (user, role, scope) = assignment(&app, req)?;
    app.rbac
        .assignments()
        .assign(&actor, &user, &role, scope)
        .await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/revoke/role",
    tag = "platform",
    operation_id = "platform_revoke_role",
    summary = "Take a role from a user, everywhere or within a scope (beyond the document)",
    description = "Requires the privilege `RoleAuthority` where the role was assigned (as for `assign/role`); without it, code 1000. The role and everything the user holds must lie within the caller's privileges there (else 1021); the built-in admin keeps its role (1009). Revoking an assignment not held succeeds and changes nothing.",
    request_body = AssignRoleReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn revoke_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<AssignRoleReq>,
) -> Result<Reply> {
    let (user, role, scope) = assignment(&app, req)?;
    app.rbac
        .assignments()
        .revoke(&actor, &user, &role, scope)
        .await?;
    Ok(Reply::empty())
}

/// The user, role and scope of an assignment request.
fn assignment(
    app: &AppState,
    req: AssignRoleReq,
) -> Result<(String, String, Option<rbac_core::Scope>)> {
    let user = required("user_name", req.user_name)?;
    let role = required("role_name", req.role_name)?;
    let scope = scope_of(app, req.scope)?;
    Ok((user, role, scope))
}

/// An optional `scope` field: absent or empty is everywhere.
pub(super) fn scope_of(app: &AppState, scope: Option<String>) -> Result<Option<rbac_core::Scope>> {
    match scope.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => Ok(Some(app.rbac.assignments().parse_scope("scope", text)?)),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::UserRolesReq)]
pub(super) struct UserRolesReq {
    /// The user.
    user_name: Option<String>,
}

/// One role a user holds.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::UserRole)]
pub(super) struct UserRole {
    /// The role's name.
    role_name: String,
    /// Where it holds: `kind:id`, or empty for everywhere.
    scope: String,
}

/// `list/user-role`: every role a user holds, in the order assigned.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::UserRoles)]
pub(super) struct UserRoles {
    roles: Vec<UserRole>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/list/user-role",
    tag = "platform",
    operation_id = "platform_list_user_role",
    summary = "The roles a user holds, each with its scope (beyond the document)",
    description = "About oneself, any logged-in user; about another, the privilege `UserAccess` (else 1000). An unknown user is 1006.",
    request_body = UserRolesReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<UserRoles>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn list_user_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<UserRolesReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    // The document's rule: another user's roles need UserAccess held everywhere (the
    // library would show a scoped administrator the assignments in its scopes).
    if app.rbac.users().named(&name).await?.id != actor.user_id {
        app.rbac.authorizer().require_code(&actor, "UserAccess")?;
    }
    let held = app.rbac.assignments().of_user(&actor, &name).await?;
    let roles: Vec<UserRole> = held
        .into_iter()
        .map(|h| UserRole {
            role_name: h.role_name,
            scope: h.scope.map(|s| s.to_string()).unwrap_or_default(),
        })
        .collect();
    let count = roles.len();
    Ok(Reply::page_of(UserRoles { roles }, count as u64, count))
}
