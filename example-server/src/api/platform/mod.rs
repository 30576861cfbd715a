//! The platform surface (seed 003, shared paths of seed 002): login, logout, user and role
//! administration, grants, password change and reset, token refresh, operation log.
//!
//! Envelope `{"header":{"code","message","total","count"},"data":{}}`. A missing or bad
//! token answers HTTP 401 with code 1001; every other answer is HTTP 200 with its code in
//! `header.code`.

use axum::extract::State;
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rbac_core::service::{
    as_data, AuditFilter, InquiryTarget, LoginInput, RoleUpdate, UserEdit, UserInput,
};
use rbac_core::{AdminPrivileges, Error, Order, UserQuery};
use rbac_tower::{CredentialSource, RbacLayer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::codes::Code;
use super::{datetime, guarded, parse_datetime, Actor, ClientAddr, RenderAs, UserAgent};
use crate::state::AppState;

/// The document's privilege code meaning "no check" (无权限校验): it grants nothing.
pub const NULL_PRIVILEGE: &str = "Null";

mod answers;
mod assignments;
mod factors;
mod inclusion;
mod oper_log;
mod passkeys;
mod role_list;
mod roles;
mod session;
mod sessions;
pub(crate) mod users;

pub use super::envelope::*;
pub use answers::*;

/// The privilege codes of the platform document (table 2, `Null` aside), as the
/// administrative use-cases check them: the document names them as the library does.
pub fn admin_privileges() -> AdminPrivileges {
    AdminPrivileges::default()
}

/// Where the platform reads a credential: `Auth-Token`, then `Authorization`.
pub fn credential_sources() -> Vec<CredentialSource> {
    vec![
        CredentialSource::auth_token(),
        CredentialSource::Header(header::AUTHORIZATION),
    ]
}

/// The platform routes, each with its privilege requirement.
pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    let layer = RbacLayer::new(state.rbac.authorizer().clone())
        .sources(credential_sources())
        .renderer(RenderAs::<PlatformError>::new());
    let need = |code: &str| layer.clone().require_code(code);
    let authenticated = || layer.clone().authenticated();
    // Reachable before a required second factor is enrolled: enrolment, one's sessions,
    // logout.
    let enrolment = || layer.clone().authenticated().enrolment();
    OpenApiRouter::new()
        .routes(routes!(session::login))
        .routes(routes!(factors::login_mfa))
        .routes(routes!(passkeys::begin_passkey_login))
        .routes(routes!(passkeys::login_passkey))
        .routes(guarded(routes!(passkeys::begin_passkey), enrolment()))
        .routes(guarded(routes!(passkeys::finish_passkey), enrolment()))
        .routes(guarded(routes!(passkeys::list_passkey), enrolment()))
        .routes(guarded(routes!(passkeys::remove_passkey), authenticated()))
        .routes(guarded(
            routes!(passkeys::passkey_challenge),
            authenticated(),
        ))
        .routes(guarded(routes!(factors::begin_totp), enrolment()))
        .routes(guarded(routes!(factors::confirm_totp), enrolment()))
        .routes(guarded(routes!(factors::remove_totp), authenticated()))
        .routes(guarded(routes!(factors::recovery_codes), authenticated()))
        .routes(guarded(routes!(factors::verify), authenticated()))
        .routes(guarded(routes!(factors::inquire_mfa), enrolment()))
        .routes(guarded(routes!(factors::reset_mfa), need("UserEdit")))
        .routes(guarded(routes!(factors::require_role), need("RoleEdit")))
        // Another user's sessions need UserAccess or UserEdit: the use-case checks them.
        .routes(guarded(routes!(sessions::list_session), enrolment()))
        .routes(guarded(routes!(sessions::end_session), enrolment()))
        .routes(guarded(routes!(session::logout), enrolment()))
        .routes(guarded(routes!(users::list_user), need("UserAccess")))
        .routes(guarded(routes!(users::create_user), need("UserAdd")))
        .routes(guarded(routes!(users::edit_user), need("UserEdit")))
        .routes(guarded(routes!(users::delete_user), need("UserDelete")))
        .routes(guarded(
            routes!(users::enable_user),
            need("UserEnableOrDisable"),
        ))
        .routes(guarded(
            routes!(users::disable_user),
            need("UserEnableOrDisable"),
        ))
        .routes(guarded(routes!(roles::list_role), need("RoleAccess")))
        .routes(guarded(routes!(roles::create_role), need("RoleAdd")))
        .routes(guarded(routes!(roles::edit_role), need("RoleEdit")))
        .routes(guarded(routes!(roles::delete_role), need("RoleDelete")))
        .routes(guarded(
            routes!(roles::enable_role),
            need("RoleEnableOrDisable"),
        ))
        .routes(guarded(
            routes!(roles::disable_role),
            need("RoleEnableOrDisable"),
        ))
        .routes(guarded(routes!(roles::auth_role), need("RoleAuthority")))
        .routes(guarded(
            routes!(inclusion::include_role),
            need("RoleAuthority"),
        ))
        // RoleAuthority may be held within a scope only: the use-case checks it where the
        // assignment holds.
        .routes(guarded(routes!(assignments::assign_role), authenticated()))
        .routes(guarded(routes!(assignments::revoke_role), authenticated()))
        .routes(guarded(
            routes!(assignments::list_user_role),
            authenticated(),
        ))
        .routes(guarded(routes!(session::inquire_auth), authenticated()))
        .routes(guarded(routes!(session::change_password), authenticated()))
        .routes(guarded(routes!(session::reset_password), need("UserEdit")))
        .routes(guarded(routes!(roles::list_role_user), need("RoleAccess")))
        .routes(guarded(routes!(session::refresh_token), authenticated()))
        .routes(guarded(routes!(oper_log::list_oper_log), authenticated()))
        .routes(guarded(
            routes!(oper_log::list_webhook_delivery),
            authenticated(),
        ))
}

/// Unknown paths: HTTP 404 in the platform envelope.
pub async fn not_found() -> Response {
    let mut resp = PlatformError::new(Code::NotFound, "no such endpoint").into_response();
    *resp.status_mut() = StatusCode::NOT_FOUND;
    resp
}
