//! Role administration and grants: list, create, edit, delete, enable, disable, authorise, and a role's users.

use super::*;
use crate::api::envelope::streamed_page;
use crate::api::stream::List;
use axum::response::Response;
use rbac_core::Role;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::PageReq)]
pub(super) struct PageReq {
    page_no: Option<u64>,
    page_size: Option<u64>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/list/role",
    tag = "platform",
    operation_id = "platform_list_role",
    summary = "List roles with their privileges",
    description = "Requires the privilege `RoleAccess`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleAccess"))),
    request_body = PageReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<RolePage>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn list_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<PageReq>,
) -> Result<Response> {
    let wanted = page(req.page_no, req.page_size);
    let turn = app.listings.admit(&wanted, actor.user_id).await?;
    let rows = app
        .rbac
        .roles()
        .rows(&actor, wanted)
        .await?
        .with_chunk(app.listings.chunk());
    let rbac = app.rbac.clone();
    let render = move |r: Role| {
        let role = if r.builtin {
            rbac.authorizer()
                .registry()
                .codes()
                .map(str::to_string)
                .collect()
        } else {
            r.privileges
        };
        RoleRow {
            id: r.id,
            role_name: r.name,
            create_user: r.creator,
            remark: r.remark,
            created_time: datetime(r.created_at),
            enabled: r.enabled,
            role,
        }
    };
    let data = RolePage {
        roles: List::Streamed,
    };
    streamed_page(data, rows, render, turn).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::CreateRoleReq)]
pub(super) struct CreateRoleReq {
    role_name: Option<String>,
    remark: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/create/role",
    tag = "platform",
    operation_id = "platform_create_role",
    summary = "Create a role",
    description = "Requires the privilege `RoleAdd`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleAdd"))),
    request_body = CreateRoleReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<CreatedRole>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn create_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<CreateRoleReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    role_list::check_role_name(&name)?;
    let role = app
        .rbac
        .roles()
        .create(&actor, &name, req.remark.as_deref().unwrap_or(""))
        .await?;
    Ok(Reply::of(CreatedRole { id: role.id }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::EditRoleReq)]
pub(super) struct EditRoleReq {
    id: Option<i64>,
    role_name: Option<String>,
    remark: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/edit/role",
    tag = "platform",
    operation_id = "platform_edit_role",
    summary = "Rename a role or change its remark",
    description = "Requires the privilege `RoleEdit`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleEdit"))),
    request_body = EditRoleReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn edit_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<EditRoleReq>,
) -> Result<Reply> {
    let update = RoleUpdate {
        id: required("id", req.id)?,
        name: required("role_name", req.role_name)?,
        remark: req.remark,
    };
    role_list::check_role_name(&update.name)?;
    app.rbac.roles().edit(&actor, update).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::RoleNameReq)]
pub(super) struct RoleNameReq {
    role_name: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/delete/role",
    tag = "platform",
    operation_id = "platform_delete_role",
    summary = "Delete a role no user holds",
    description = "Requires the privilege `RoleDelete`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleDelete"))),
    request_body = RoleNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn delete_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<RoleNameReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    app.rbac.roles().delete(&actor, &name).await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/enable/role",
    tag = "platform",
    operation_id = "platform_enable_role",
    summary = "Enable a role",
    description = "Requires the privilege `RoleEnableOrDisable`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleEnableOrDisable"))),
    request_body = RoleNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn enable_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<RoleNameReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    app.rbac.roles().set_enabled(&actor, &name, true).await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/disable/role",
    tag = "platform",
    operation_id = "platform_disable_role",
    summary = "Disable a role: it grants nothing until enabled",
    description = "Requires the privilege `RoleEnableOrDisable`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleEnableOrDisable"))),
    request_body = RoleNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn disable_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<RoleNameReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    app.rbac.roles().set_enabled(&actor, &name, false).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::AuthRoleReq)]
pub(super) struct AuthRoleReq {
    role_name: Option<String>,
    privilege: Option<Vec<String>>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/auth/role",
    tag = "platform",
    operation_id = "platform_auth_role",
    summary = "Set a role's privileges",
    description = "Requires the privilege `RoleAuthority`; without it, code 1000. Only privileges the caller holds can be granted.",
    extensions(("x-rbac-privilege" = json!("RoleAuthority"))),
    request_body = AuthRoleReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn auth_role(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<AuthRoleReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    let mut codes = required("privilege", req.privilege)?;
    // The document's "no check" code grants nothing.
    codes.retain(|code| code != super::NULL_PRIVILEGE);
    app.rbac.roles().grant(&actor, &name, &codes).await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/list/role-user",
    tag = "platform",
    operation_id = "platform_list_role_user",
    summary = "How many users hold a role",
    description = "Requires the privilege `RoleAccess`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("RoleAccess"))),
    request_body = RoleNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<RoleUserCount>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn list_role_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<RoleNameReq>,
) -> Result<Reply> {
    let name = required("role_name", req.role_name)?;
    let (role, count) = app.rbac.roles().user_count(&actor, &name).await?;
    Ok(Reply::of(RoleUserCount {
        role_name: role.name,
        user_count: count,
    }))
}
