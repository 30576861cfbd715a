//! User administration: list, create, edit, delete, enable, disable.

use super::*;
use crate::api::envelope::streamed_page;
use crate::api::stream::List;
use axum::response::Response;
use rbac_core::service::UserView;

/// The profile attribute the platform's `user_did` is kept in.
pub const DID: &str = "did";

/// Each user's digital identity becomes its `did` attribute, read from the column the
/// library kept until its migration 22 (written against schema 21).
pub const DID_MIGRATION: rbac_sqlx::AppMigration = rbac_sqlx::AppMigration {
    version: rbac_sqlx::APP_VERSIONS + 3,
    description: "platform digital identities become attributes",
    after: 21,
    sqlite: "UPDATE rbac_users SET attributes = json_set(CASE WHEN attributes = '' THEN '{}' \
             ELSE attributes END, '$.did', did) WHERE did <> ''",
    postgres: "UPDATE rbac_users SET attributes = ((CASE WHEN attributes = '' THEN '{}' \
               ELSE attributes END)::jsonb || jsonb_build_object('did', did))::text \
               WHERE did <> ''",
    mysql: "UPDATE rbac_users SET attributes = JSON_SET(CASE WHEN attributes = '' THEN '{}' \
            ELSE attributes END, '$.did', did) WHERE did <> ''",
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::ListUserReq)]
pub(super) struct ListUserReq {
    name: Option<String>,
    page_no: Option<u64>,
    page_size: Option<u64>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/list/user",
    tag = "platform",
    operation_id = "platform_list_user",
    summary = "List users, optionally by name, a page at a time",
    description = "Requires the privilege `UserAccess`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("UserAccess"))),
    request_body = ListUserReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<UserPage>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn list_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<ListUserReq>,
) -> Result<Response> {
    let query = UserQuery {
        name_contains: req.name.filter(|n| !n.is_empty()),
        member_of: None,
        order: Order::OldestFirst,
        page: page(req.page_no, req.page_size),
    };
    let turn = app.listings.admit(&query.page, actor.user_id).await?;
    let rows = app.rbac.users().rows(&actor, &query).await?;
    let rows = rows.with_chunk(app.listings.chunk());
    let data = UserPage {
        users: List::Streamed,
    };
    streamed_page(data, rows, user_row, turn).await
}

/// A `list/user` row.
fn user_row(v: UserView) -> UserRow {
    let u = v.user;
    UserRow {
        user_id: u.id,
        user_did: u.attributes.get(DID).cloned().unwrap_or_default(),
        user_name: u.name,
        user_alias: u.alias,
        phone_number: u.phone,
        email: u.email.unwrap_or_default(),
        create_user: u.creator,
        login_time: u.login_time.unwrap_or(0),
        role_name: role_list::render(&v.role_names),
        remark: u.remark,
        enabled: u.enabled,
        password: String::new(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::CreateUserReq)]
pub(super) struct CreateUserReq {
    user_name: Option<String>,
    user_alias: Option<String>,
    phone_number: Option<String>,
    password: Option<String>,
    remark: Option<String>,
    role_name: Option<String>,
    email: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/create/user",
    tag = "platform",
    operation_id = "platform_create_user",
    summary = "Create a user with a role",
    description = "Requires the privilege `UserAdd`; without it, code 1000. The role may grant only privileges the caller holds.",
    extensions(("x-rbac-privilege" = json!("UserAdd"))),
    request_body = CreateUserReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<CreatedUser>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn create_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<CreateUserReq>,
) -> Result<Reply> {
    let input = UserInput {
        name: required("user_name", req.user_name)?,
        alias: required("user_alias", req.user_alias)?,
        phone: required("phone_number", req.phone_number)?,
        password: required("password", req.password)?,
        remark: req.remark.unwrap_or_default(),
        roles: role_list::parse(&req.role_name.unwrap_or_default())?,
        email: req.email.unwrap_or_default(),
        ..UserInput::default()
    };
    let user = app.rbac.users().create(Some(&actor), input).await?;
    Ok(Reply::of(CreatedUser { user_id: user.id }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::EditUserReq)]
pub(super) struct EditUserReq {
    user_name: Option<String>,
    user_alias: Option<String>,
    phone_number: Option<String>,
    password: Option<String>,
    remark: Option<String>,
    role_name: Option<String>,
    email: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/edit/user",
    tag = "platform",
    operation_id = "platform_edit_user",
    summary = "Edit a user's details or role",
    description = "Requires the privilege `UserEdit`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("UserEdit"))),
    request_body = EditUserReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn edit_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<EditUserReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    let edit = UserEdit {
        alias: req.user_alias,
        phone: req.phone_number,
        email: req.email,
        password: req.password,
        remark: req.remark,
        roles: req.role_name.as_deref().map(role_list::parse).transpose()?,
    };
    app.rbac.users().edit(&actor, &name, edit).await?;
    Ok(Reply::empty())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = platform::UserNameReq)]
pub(super) struct UserNameReq {
    user_name: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/delete/user",
    tag = "platform",
    operation_id = "platform_delete_user",
    summary = "Delete a user (not the built-in admin)",
    description = "Requires the privilege `UserDelete`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("UserDelete"))),
    request_body = UserNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn delete_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<UserNameReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    app.rbac.users().delete(&actor, &name).await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/enable/user",
    tag = "platform",
    operation_id = "platform_enable_user",
    summary = "Enable a user and clear its login lock",
    description = "Requires the privilege `UserEnableOrDisable`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("UserEnableOrDisable"))),
    request_body = UserNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn enable_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<UserNameReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    app.rbac.users().set_enabled(&actor, &name, true).await?;
    Ok(Reply::empty())
}

#[utoipa::path(
    post,
    path = "/api/v1/platform/disable/user",
    tag = "platform",
    operation_id = "platform_disable_user",
    summary = "Disable a user: its sessions end at once",
    description = "Requires the privilege `UserEnableOrDisable`; without it, code 1000.",
    extensions(("x-rbac-privilege" = json!("UserEnableOrDisable"))),
    request_body = UserNameReq,
    security(("auth_token" = []), ("authorization" = [])),
    responses(
        (status = 200, description = "Success (`header.code` 0), or a refusal in `header.code` (then `data` is `{}`)", body = Envelope<Empty>),
        (status = 401, description = "Missing, invalid, expired or revoked token (code 1001)", body = Envelope<Empty>),
    )
)]
pub(super) async fn disable_user(
    State(app): State<AppState>,
    Actor(actor): Actor,
    JsonBody(req): JsonBody<UserNameReq>,
) -> Result<Reply> {
    let name = required("user_name", req.user_name)?;
    app.rbac.users().set_enabled(&actor, &name, false).await?;
    Ok(Reply::empty())
}
