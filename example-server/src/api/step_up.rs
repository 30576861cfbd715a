//! Which documented operations ask a recent second factor, as the OpenAPI document marks
//! them (`x-step-up`). The decision itself is rbac-core's ([`Sensitive`]): each operation
//! here only names the sensitive use-cases it can call and, when it calls them only for
//! some requests, which requests in the surface's own terms. An operation that changes
//! anything and is missing here goes unmarked, which the OpenAPI test refuses.

use rbac_core::Sensitive;
use serde_json::{json, Value};
use utoipa::openapi::path::Operation;
use utoipa::openapi::OpenApi;

/// When an operation asks a recent second factor of a user who has one.
#[derive(Debug, Clone, Copy)]
pub enum StepUp {
    /// Never: it gives or restores no access.
    Never,
    /// Always: every request calls one of these use-cases.
    Always(&'static [Sensitive]),
    /// Only for the requests the text describes, which call one of these use-cases.
    When(&'static [Sensitive], &'static str),
}

impl StepUp {
    /// The `x-step-up` mark: `true`, `false`, or the condition in the surface's words.
    pub fn mark(self) -> Value {
        match self {
            StepUp::Never => json!(false),
            StepUp::Always(_) => json!(true),
            StepUp::When(_, when) => json!(when),
        }
    }

    /// The core's sensitive use-cases the operation may call (`x-step-up-use-cases`).
    pub fn use_cases(self) -> Vec<&'static str> {
        match self {
            StepUp::Never => Vec::new(),
            StepUp::Always(cases) | StepUp::When(cases, _) => {
                cases.iter().map(|c| c.describe()).collect()
            }
        }
    }
}

use Sensitive as S;

/// Another user named: the sensitive variant of acting on users.
const ANOTHER_USER: &str = "when it names another user than the caller";

/// Every operation that changes anything, by operation id, with its step-up rule.
pub const OPERATIONS: &[(&str, StepUp)] = &[
    // Platform (seed 003).
    ("platform_login", StepUp::Never),
    ("platform_login_mfa", StepUp::Never),
    ("platform_login_passkey_begin", StepUp::Never),
    ("platform_login_passkey", StepUp::Never),
    ("platform_logout", StepUp::Never),
    ("platform_refresh_token", StepUp::Never),
    ("platform_inquire_auth", StepUp::Never),
    ("platform_change_password", StepUp::Never),
    ("platform_reset_password", StepUp::Always(&[S::SetPassword])),
    ("platform_list_user", StepUp::Never),
    (
        "platform_create_user",
        StepUp::When(&[S::CreateUserWithRoles], "when `role_name` is given"),
    ),
    (
        "platform_edit_user",
        StepUp::When(
            &[S::EditOtherUser, S::EditUserRoles, S::SetPassword],
            "when it edits another user than the caller, changes roles or sets a password",
        ),
    ),
    ("platform_delete_user", StepUp::Always(&[S::DeleteUser])),
    (
        "platform_enable_user",
        StepUp::When(&[S::SetUserEnabled], ANOTHER_USER),
    ),
    (
        "platform_disable_user",
        StepUp::Always(&[S::SetUserEnabled]),
    ),
    ("platform_list_role", StepUp::Never),
    ("platform_create_role", StepUp::Never),
    ("platform_edit_role", StepUp::Never),
    ("platform_delete_role", StepUp::Always(&[S::DeleteRole])),
    ("platform_enable_role", StepUp::Always(&[S::SetRoleEnabled])),
    (
        "platform_disable_role",
        StepUp::Always(&[S::SetRoleEnabled]),
    ),
    ("platform_auth_role", StepUp::Always(&[S::Grant])),
    ("platform_list_role_user", StepUp::Never),
    ("platform_include_role", StepUp::Always(&[S::IncludeRoles])),
    ("platform_assign_role", StepUp::Always(&[S::AssignRole])),
    ("platform_revoke_role", StepUp::Always(&[S::RevokeRole])),
    ("platform_list_user_role", StepUp::Never),
    ("platform_list_session", StepUp::Never),
    (
        "platform_end_session",
        StepUp::When(&[S::EndOthersSessions], ANOTHER_USER),
    ),
    ("platform_list_oper_log", StepUp::Never),
    ("platform_list_webhook_delivery", StepUp::Never),
    ("platform_mfa_totp_begin", StepUp::Never),
    ("platform_mfa_totp_confirm", StepUp::Never),
    ("platform_mfa_totp_remove", StepUp::Never),
    ("platform_mfa_recovery_codes", StepUp::Never),
    ("platform_inquire_mfa", StepUp::Never),
    (
        "platform_reset_mfa",
        StepUp::When(&[S::ResetSecondFactors], ANOTHER_USER),
    ),
    (
        "platform_mfa_require_role",
        StepUp::Always(&[S::RequireSecondFactor]),
    ),
    ("platform_mfa_verify", StepUp::Never),
    ("platform_mfa_passkey_begin", StepUp::Never),
    ("platform_mfa_passkey_finish", StepUp::Never),
    ("platform_mfa_passkey_list", StepUp::Never),
    ("platform_mfa_passkey_remove", StepUp::Never),
    ("platform_mfa_passkey_challenge", StepUp::Never),
    // Gateway (seed 002).
    ("gateway_auth_code", StepUp::Never),
    ("gateway_register", StepUp::Never),
    ("gateway_list", StepUp::Never),
    ("gateway_create", StepUp::Never),
    // The upstream's own operations: a project key acts on no account.
    ("gateway_rpc", StepUp::Never),
    (
        "gateway_delete",
        StepUp::When(&[S::OthersKeys], "when the project is another user's"),
    ),
    // Console (seed 001).
    ("console_existence", StepUp::Never),
    ("console_sms_code", StepUp::Never),
    ("console_register", StepUp::Never),
    (
        "console_add_sub_account",
        StepUp::Always(&[S::CreateUserWithRoles]),
    ),
    ("console_login", StepUp::Never),
    ("console_login_mfa", StepUp::Never),
    // IAM (seed 004).
    ("iam_login", StepUp::Never),
    ("iam_login_mfa", StepUp::Never),
    ("iam_logout", StepUp::Never),
    ("iam_refresh", StepUp::Never),
    ("iam_create", StepUp::Never),
    (
        "iam_update",
        StepUp::When(&[S::EditOtherUser], ANOTHER_USER),
    ),
    ("iam_delete_one", StepUp::Always(&[S::DeleteUser])),
    ("iam_delete_many", StepUp::Always(&[S::DeleteUser])),
    (
        "iam_change_password",
        StepUp::When(&[S::SetPassword], ANOTHER_USER),
    ),
    (
        "iam_change_password_underscored",
        StepUp::When(&[S::SetPassword], ANOTHER_USER),
    ),
    (
        "iam_end_sessions",
        StepUp::When(&[S::EndOthersSessions], ANOTHER_USER),
    ),
    (
        "iam_end_session",
        StepUp::When(&[S::EndOthersSessions], ANOTHER_USER),
    ),
    // Cloud (seed 000).
    ("cloud_register", StepUp::Never),
    ("cloud_login", StepUp::Never),
    ("cloud_login_mfa", StepUp::Never),
];

/// Marks every mutating operation of `doc` listed in [`OPERATIONS`] with `x-step-up`.
pub fn mark(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations: [&mut Option<Operation>; 4] = [
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in operations {
            let Some(op) = op.as_mut() else { continue };
            let rule = op
                .operation_id
                .as_deref()
                .and_then(|id| OPERATIONS.iter().find(|(name, _)| *name == id))
                .map(|(_, rule)| *rule);
            if let Some(rule) = rule {
                let extensions = op.extensions.get_or_insert_with(Default::default);
                extensions.insert("x-step-up".to_string(), rule.mark());
                let cases = rule.use_cases();
                if !cases.is_empty() {
                    extensions.insert("x-step-up-use-cases".to_string(), json!(cases));
                }
            }
        }
    }
}
