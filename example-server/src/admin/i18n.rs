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
        "Sign in again with your second factor to do this.",
        "请使用第二因素重新登录后再执行此操作。",
    ),
];
