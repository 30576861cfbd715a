//! The privilege codes the administrative use-cases check, as the application names them.

/// The privilege codes the administrative use-cases check. The application declares them
/// (with the rest of its vocabulary) and fills this value once; no use-case spells a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminPrivileges {
    /// Read users (lists, other users' records, their audit entries).
    pub user_access: String,
    /// Create users.
    pub user_add: String,
    /// Change other users and users' roles.
    pub user_edit: String,
    /// Delete users.
    pub user_delete: String,
    /// Enable and disable users.
    pub user_enable: String,
    /// Read roles.
    pub role_access: String,
    /// Create roles.
    pub role_add: String,
    /// Change roles.
    pub role_edit: String,
    /// Delete roles.
    pub role_delete: String,
    /// Enable and disable roles.
    pub role_enable: String,
    /// Grant and revoke privileges.
    pub role_authority: String,
}

impl AdminPrivileges {
    /// Every administrative use-case checks the one application code `code` (a service
    /// whose administrators hold, say, `DeskAdmin`).
    pub fn all(code: &str) -> Self {
        let code = code.to_string();
        AdminPrivileges {
            user_access: code.clone(),
            user_add: code.clone(),
            user_edit: code.clone(),
            user_delete: code.clone(),
            user_enable: code.clone(),
            role_access: code.clone(),
            role_add: code.clone(),
            role_edit: code.clone(),
            role_delete: code.clone(),
            role_enable: code.clone(),
            role_authority: code,
        }
    }

    /// Every code, for declaring them to the privilege registry.
    pub fn codes(&self) -> [&str; 11] {
        [
            &self.user_access,
            &self.user_add,
            &self.user_edit,
            &self.user_delete,
            &self.user_enable,
            &self.role_access,
            &self.role_add,
            &self.role_delete,
            &self.role_edit,
            &self.role_enable,
            &self.role_authority,
        ]
    }
}

impl Default for AdminPrivileges {
    /// The conventional names: `UserAccess`, `UserAdd`, `UserEdit`, `UserDelete`,
    /// `UserEnableOrDisable`, `RoleAccess`, `RoleAdd`, `RoleEdit`, `RoleDelete`,
    /// `RoleEnableOrDisable`, `RoleAuthority`.
    fn default() -> Self {
        AdminPrivileges {
            user_access: "UserAccess".into(),
            user_add: "UserAdd".into(),
            user_edit: "UserEdit".into(),
            user_delete: "UserDelete".into(),
            user_enable: "UserEnableOrDisable".into(),
            role_access: "RoleAccess".into(),
            role_add: "RoleAdd".into(),
            role_edit: "RoleEdit".into(),
            role_delete: "RoleDelete".into(),
            role_enable: "RoleEnableOrDisable".into(),
            role_authority: "RoleAuthority".into(),
        }
    }
}
