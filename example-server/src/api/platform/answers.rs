//! The platform's answer types (the envelope they travel in is `api::envelope`).

use super::*;
use crate::api::stream::List;

/// `login`: the session and what it may do.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::LoginData)]
pub struct LoginData {
    /// The server's version.
    pub(crate) version: String,
    pub(crate) user_name: String,
    /// The JWT, for `Auth-Token` or `Authorization`.
    pub(crate) auth_token: String,
    pub(crate) login_ip: String,
    /// Unix seconds of this login.
    pub(crate) login_time: i64,
    /// The role's name.
    pub(crate) role: String,
    /// The privilege codes the role grants.
    pub(crate) privilege: Vec<String>,
}

/// One row of `list/user` (`password` is always empty).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::UserRow)]
pub struct UserRow {
    pub(crate) user_id: i64,
    pub(crate) user_did: String,
    pub(crate) user_name: String,
    pub(crate) user_alias: String,
    pub(crate) phone_number: String,
    pub(crate) email: String,
    /// Who created the user.
    pub(crate) create_user: String,
    /// Unix seconds of the last login, 0 for never.
    pub(crate) login_time: i64,
    pub(crate) role_name: String,
    pub(crate) remark: String,
    pub(crate) enabled: bool,
    pub(crate) password: String,
}

/// `list/user`: a page of users.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::UserPage)]
pub struct UserPage {
    #[schema(value_type = Vec<UserRow>)]
    pub(crate) users: List<UserRow>,
}

/// `create/user`: the new user's id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::CreatedUser)]
pub struct CreatedUser {
    pub(crate) user_id: i64,
}

/// One row of `list/role`; `role` lists the privilege codes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::RoleRow)]
pub struct RoleRow {
    pub(crate) id: i64,
    pub(crate) role_name: String,
    pub(crate) create_user: String,
    pub(crate) remark: String,
    /// `YYYY-MM-DD HH:MM:SS` (UTC).
    pub(crate) created_time: String,
    pub(crate) enabled: bool,
    pub(crate) role: Vec<String>,
}

/// `list/role`: a page of roles.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::RolePage)]
pub struct RolePage {
    #[schema(value_type = Vec<RoleRow>)]
    pub(crate) roles: List<RoleRow>,
}

/// `create/role`: the new role's id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::CreatedRole)]
pub struct CreatedRole {
    pub(crate) id: i64,
}

/// `inquire/auth`: the privilege codes a user or role holds.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::Privileges)]
pub struct Privileges {
    pub(crate) privilege: Vec<String>,
}

/// `list/role-user`: how many users hold the role.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::RoleUserCount)]
pub struct RoleUserCount {
    pub(crate) role_name: String,
    pub(crate) user_count: u64,
}

/// `refresh/token`: the new token (the old one has ended).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::Refreshed)]
pub struct Refreshed {
    pub(crate) auth_token: String,
}

/// One operation-log entry.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::LogRow)]
pub struct LogRow {
    pub(crate) oper_user: String,
    /// The operation's category code.
    pub(crate) oper_type: i32,
    /// `YYYY-MM-DD HH:MM:SS` (UTC).
    pub(crate) oper_time: String,
    pub(crate) oper_content: String,
}

/// `list/oper-log`: a page of entries.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::LogPage)]
pub struct LogPage {
    #[schema(value_type = Vec<LogRow>)]
    pub(crate) list: List<LogRow>,
}
