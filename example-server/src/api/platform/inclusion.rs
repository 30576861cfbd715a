//! Composite roles, beyond the document: which roles a role includes.

use super::*;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::IncludeRoleReq)]
pub(super) struct IncludeRoleReq {
    /// The role that includes.
    role_name: Option<String>,
    /// The names of the roles it includes from now on (empty: none).
    include: Option<Vec<String>>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/include/role",
    tag = "platform",
    operation_id = "platform_include_role",
    summary = "Set the roles a role includes (beyond the document)",
    description = "Requires the privilege `RoleAuthority`; without it, code 1000. Replaces the included set: the role then confers its own privileges and those of every enabled role it includes, transitively. At most 64 roles; an unknown role is 1006, a cycle or more than 64 names 1003; the role, each role added or removed, and every role that includes it must hold only privileges the caller holds (else 1021).",
    extensions(("x-rbac-privilege" = json!("RoleAuthority"))),
    request_body = IncludeRoleReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn include_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<IncludeRoleReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    let include = required("include", req.include)?;
    app.rbac.roles().include(&actor, &name, &include).await?;
    Ok(Reply::empty())
}
