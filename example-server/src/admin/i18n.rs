//! The console's words in English and Chinese, chosen by the `rbac_admin_lang` cookie (the
//! switch in the page header) or else the browser's `Accept-Language`.

use axum::http::HeaderMap;

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

/// The cookie holding the chosen language.
pub const LANG_COOKIE: &str = "rbac_admin_lang";

impl Lang {
    /// The language a request asks for.
    pub fn of(headers: &HeaderMap) -> Lang {
        if let Some(chosen) = super::cookie(headers, LANG_COOKIE) {
            return Lang::parse(&chosen).unwrap_or(Lang::En);
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // The first listed language we have (quality values aside: browsers list the
        // preferred one first).
        accept
            .split(',')
            .filter_map(|part| part.split(';').next())
            .find_map(|tag| Lang::parse(tag.trim()))
            .unwrap_or(Lang::En)
    }

    /// From a language tag (`zh`, `zh-CN`, `en-GB`).
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The tag for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// The phrase `key` in this language (the key itself if none is written).
    pub fn t(self, key: &'static str) -> &'static str {
        let found = WORDS.iter().find(|(k, _, _)| *k == key);
        match (self, found) {
            (Lang::En, Some((_, en, _))) => en,
            (Lang::Zh, Some((_, _, zh))) => zh,
            (_, None) => key,
        }
    }
}

/// `(key, English, Chinese)`.
const WORDS: &[(&str, &str, &str)] = &[
    ("console", "Admin console", "管理控制台"),
    ("sign_in", "Sign in", "登录"),
    ("sign_out", "Sign out", "退出"),
    ("user_name", "User name", "用户名"),
    ("password", "Password", "密码"),
    (
        "bad_login",
        "Wrong user name or password.",
        "用户名或密码错误。",
    ),
    ("disabled", "This account is disabled.", "该账户已被禁用。"),
    (
        "throttled",
        "Too many attempts: try again later.",
        "尝试次数过多，请稍后再试。",
    ),
    ("second_factor", "Second factor", "第二因素"),
    (
        "second_factor_hint",
        "Enter a code from your authenticator app, or a recovery code.",
        "请输入身份验证器应用中的验证码，或一个恢复码。",
    ),
    ("code", "Code", "验证码"),
    ("verify", "Verify", "验证"),
    ("use_passkey", "Use a passkey", "使用通行密钥"),
    (
        "sign_in_with_passkey",
        "Sign in with a passkey",
        "使用通行密钥登录",
    ),
    (
        "passkey_refused",
        "That passkey did not sign you in: try again.",
        "该通行密钥未能登录，请重试。",
    ),
    ("bad_code", "That code is not right.", "验证码不正确。"),
    (
        "expired",
        "The sign-in expired: start again.",
        "登录已过期，请重新开始。",
    ),
    ("overview", "Overview", "概览"),
    ("users", "Users", "用户"),
    ("active_sessions", "Active sessions", "活动会话"),
    ("last_24h", "Last 24 hours", "最近 24 小时"),
    ("logins", "Logins", "登录"),
    ("failures", "Failed logins", "登录失败"),
    ("signed_in_as", "Signed in as", "当前用户"),
    ("hours_ago", "hours ago", "小时前"),
    ("now", "now", "现在"),
    ("forbidden", "You may not do this.", "你无权执行此操作。"),
    (
        "bad_form",
        "This form expired or did not come from this console: reload and try again.",
        "表单已过期或并非来自本控制台：请刷新后重试。",
    ),
    ("language", "中文", "English"),
    ("search", "Search", "搜索"),
    ("users_found", "users", "个用户"),
    ("roles", "Roles", "角色"),
    ("role", "Role", "角色"),
    ("state", "State", "状态"),
    ("actions", "Actions", "操作"),
    ("create_user", "Create a user", "创建用户"),
    ("create", "Create", "创建"),
    ("enabled", "Enabled", "已启用"),
    ("disabled_state", "Disabled", "已禁用"),
    ("enable", "Enable", "启用"),
    ("disable", "Disable", "禁用"),
    ("new_password", "New password", "新密码"),
    ("reset_password", "Reset password", "重置密码"),
    ("delete", "Delete", "删除"),
    ("pages", "Pages", "分页"),
    ("previous", "Previous", "上一页"),
    ("next", "Next", "下一页"),
    (
        "failed",
        "That did not work: try again.",
        "操作失败，请重试。",
    ),
    (
        "step_up",
        "This asks for your second factor again: prove it, then repeat what you were doing.",
        "此操作需要再次验证第二因素：验证后请重新执行刚才的操作。",
    ),
    ("step_up_title", "Confirm it is you", "确认身份"),
    (
        "privilege_matrix",
        "Privileges of each role",
        "各角色的权限",
    ),
    ("create_role", "Create a role", "创建角色"),
    ("remark", "Remark", "备注"),
    ("save", "Save", "保存"),
    ("my_account", "My account", "我的账户"),
    ("change_password", "Change the password", "修改密码"),
    ("current_password", "Current password", "当前密码"),
    ("totp", "Authenticator app (TOTP)", "身份验证器应用（TOTP）"),
    ("totp_on", "On", "已开启"),
    (
        "totp_off",
        "Off: sign-in asks only the password.",
        "未开启：登录只需密码。",
    ),
    ("codes_left", "recovery codes left", "个恢复码可用"),
    ("new_codes", "New recovery codes", "生成新的恢复码"),
    ("enrol_totp", "Set up", "设置"),
    (
        "scan_qr",
        "Scan this code with your authenticator app",
        "请用身份验证器应用扫描此二维码",
    ),
    ("qr_alt", "QR code of the TOTP secret", "TOTP 密钥的二维码"),
    ("or_type", "or type the secret:", "或手动输入密钥："),
    ("recovery_codes", "Recovery codes", "恢复码"),
    (
        "codes_once",
        "Shown this once: keep them somewhere safe. Each signs in once.",
        "仅显示这一次，请妥善保存。每个恢复码只能使用一次。",
    ),
    ("passkeys", "Passkeys", "通行密钥"),
    (
        "passkey_name",
        "Name of the new passkey",
        "新通行密钥的名称",
    ),
    ("add_passkey", "Add a passkey", "添加通行密钥"),
    ("my_sessions", "Where you are signed in", "登录的会话"),
    ("signed_in", "Signed in", "登录时间"),
    ("address", "Address", "地址"),
    ("device", "Device", "设备"),
    ("last_used", "Last used", "最近使用"),
    ("factors", "Factors", "因素"),
    ("this_session", "This session", "当前会话"),
    ("end", "End", "结束"),
    ("log", "Operation log", "操作日志"),
    ("events", "Security events", "安全事件"),
    ("all", "All", "全部"),
    ("home", "Home", "个人"),
    ("system", "System", "系统"),
    ("projects", "Projects", "项目"),
    ("type", "Type", "类型"),
    ("from", "From", "从"),
    ("to", "To", "到"),
    ("when", "When", "时间"),
    ("what", "What", "内容"),
    ("target", "Target", "目标"),
    ("attempts", "Attempts", "尝试次数"),
    ("delivered", "Delivered", "已送达"),
    ("pending", "Pending", "待发送"),
    (
        "no_deliveries",
        "No webhook deliveries yet.",
        "暂无 Webhook 投递。",
    ),
    ("sessions", "Sessions", "会话"),
    ("sessions_of", "Sessions of", "会话："),
    ("end_all", "End all", "全部结束"),
    ("project", "Project", "项目"),
    ("create_project", "Create a project", "创建项目"),
    ("api_key", "API key", "API 密钥"),
    ("api_secret", "Secret", "密钥密文"),
    (
        "secret_once",
        "The secret is shown this once: store it now.",
        "密钥只显示这一次，请立即保存。",
    ),
    ("requests_today", "Requests today", "今日请求数"),
    ("recent_events", "The newest security events", "最近的安全事件"),
    ("subject", "Subject", "对象"),
    ("actor", "Actor", "操作者"),
    ("deliveries", "Webhook deliveries", "Webhook 投递"),
    ("no_such_user", "No such user, or not one you may see.", "没有该用户，或你无权查看。"),
    ("profile", "Profile", "资料"),
    ("alias", "Display name", "显示名称"),
    ("phone", "Phone", "电话"),
    ("email", "E-mail", "电子邮件"),
    ("scope", "Where", "范围"),
    ("everywhere", "Everywhere", "全部范围"),
    ("revoke", "Revoke", "撤销"),
    ("assign", "Assign", "分配"),
    ("includes", "Includes", "包含的角色"),
    ("included_roles", "Roles a role includes", "角色包含的角色"),
    ("included_hint", "A role confers the privileges of the roles it includes. Saving replaces what the chosen role includes with the roles ticked.", "角色同时授予其包含角色的权限。保存后，所选角色包含的角色将被替换为勾选的角色。"),
    ("scope_hint", "Within (kind:id, empty for everywhere)", "范围（类型:ID，留空表示全部）"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every phrase a page asks for is written in both languages.
    #[test]
    fn every_key_used_has_its_words() {
        let sources = [
            include_str!("account.rs"),
            include_str!("auth.rs"),
            include_str!("layout.rs"),
            include_str!("log.rs"),
            include_str!("mod.rs"),
            include_str!("overview.rs"),
            include_str!("projects.rs"),
            include_str!("roles.rs"),
            include_str!("users.rs"),
            include_str!("user_detail.rs"),
        ];
        let used = regex::Regex::new(r#"\.t\("([a-z_0-9]+)"\)"#).expect("pattern");
        let mut missing = Vec::new();
        for source in sources {
            for key in used.captures_iter(source) {
                let key = key[1].to_string();
                if !WORDS.iter().any(|(k, _, _)| *k == key) {
                    missing.push(key);
                }
            }
        }
        assert!(missing.is_empty(), "phrases without words: {missing:?}");
        assert!(used.captures_iter(include_str!("users.rs")).count() > 10);
        for (key, en, zh) in WORDS {
            assert!(!en.is_empty() && !zh.is_empty(), "{key}");
        }
    }
}
