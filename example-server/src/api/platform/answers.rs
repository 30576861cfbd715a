//! The platform's envelope and answer types, its errors and its rejection renderer.

use super::*;

/// The platform's response header.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::Header)]
pub struct Header {
    /// 0 on success, else the refusal's code (1001 not logged in, 1003 no privilege, 1004
    /// bad request, ...).
    pub(crate) code: i32,
    /// The code in words.
    pub(crate) message: String,
    /// Rows matching, for lists (1 for a single answer, 0 on a refusal).
    pub(crate) total: u64,
    /// Rows in this answer.
    pub(crate) count: u64,
}

/// The platform envelope, shared by the gateway surface; `T` is the answer's data.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::Envelope)]
pub struct Envelope<T> {
    /// The outcome.
    pub(crate) header: Header,
    /// The answer (`{}` on a refusal).
    pub(crate) data: T,
}

/// No data: `{}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = platform::Empty)]
pub struct Empty {}

/// A typed answer as the envelope's data (plain structs with string keys always serialize).
fn to_data<T: Serialize>(data: T) -> Value {
    serde_json::to_value(data).unwrap_or(Value::Null)
}

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
    pub(crate) users: Vec<UserRow>,
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
    pub(crate) roles: Vec<RoleRow>,
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
    pub(crate) list: Vec<LogRow>,
}

/// A success: data with its total and count.
#[derive(Debug)]
pub struct Reply {
    pub(crate) data: Value,
    pub(crate) total: u64,
    pub(crate) count: u64,
}

impl Reply {
    pub(crate) fn one(data: Value) -> Self {
        Reply {
            data,
            total: 1,
            count: 1,
        }
    }

    pub(crate) fn empty() -> Self {
        Reply::one(json!({}))
    }

    pub(crate) fn list(data: Value, total: u64, count: usize) -> Self {
        Reply {
            data,
            total,
            count: count as u64,
        }
    }

    /// A single answer of a typed shape.
    pub(crate) fn of<T: Serialize>(data: T) -> Self {
        Reply::one(to_data(data))
    }

    /// A page of a typed shape: `count` rows here of `total`.
    pub(crate) fn page_of<T: Serialize>(data: T, total: u64, count: usize) -> Self {
        Reply::list(to_data(data), total, count)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let header = Header {
            code: Code::Ok.value(),
            message: Code::Ok.message().to_string(),
            total: self.total,
            count: self.count,
        };
        Json(Envelope {
            header,
            data: self.data,
        })
        .into_response()
    }
}

/// A refusal in the platform envelope.
#[derive(Debug)]
pub struct PlatformError {
    pub(crate) code: Code,
    pub(crate) message: String,
    /// The HTTP status when it is not the code's usual one.
    pub(crate) status: Option<StatusCode>,
}

impl PlatformError {
    /// A refusal with this code and message.
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        PlatformError {
            code,
            message: message.into(),
            status: None,
        }
    }

    /// The same refusal with another HTTP status.
    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }
}

impl From<Error> for PlatformError {
    fn from(e: Error) -> Self {
        let message = match &e {
            Error::Internal(_) => "internal server error".to_string(),
            other => other.to_string(),
        };
        let refusal = PlatformError::new(e.code(), message);
        match e {
            Error::QuotaExceeded { .. } => refusal.with_status(StatusCode::TOO_MANY_REQUESTS),
            _ => refusal,
        }
    }
}

impl From<BodyError> for PlatformError {
    fn from(e: BodyError) -> Self {
        PlatformError::new(Code::InvalidJsonOrRequiredParams, e.to_string())
    }
}

impl IntoResponse for PlatformError {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or(match self.code {
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::OK,
        });
        let header = Header {
            code: self.code.value(),
            message: self.message,
            total: 0,
            count: 0,
        };
        let data = json!({});
        (status, Json(Envelope { header, data })).into_response()
    }
}

/// Renders the layer's refusals in the platform envelope.
#[derive(Debug, Clone, Copy)]
pub struct PlatformRejection;

impl RenderRejection<Body> for PlatformRejection {
    fn render(&self, rejection: &Rejection) -> Response {
        PlatformError::from(rejection.to_error()).into_response()
    }
}

pub(crate) type Result<T, E = PlatformError> = std::result::Result<T, E>;
