//! The page shell: head, header with the signed-in user and the language switch, and the
//! forms every page shares. Values are escaped by maud; nothing inline is scripted or
//! styled (the policy forbids it).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use rbac_core::{Principal, Rbac};

use super::{Lang, CSRF_FIELD};

/// Who is signed in, for the header: their name, the CSRF token of their session, and the
/// pages the navigation offers them.
pub struct Viewer<'a> {
    /// The user's name.
    pub name: &'a str,
    /// The session's CSRF token.
    pub csrf: &'a str,
    /// The pages they may open.
    pub may: MayOpen,
}

/// The pages beyond one's own (overview, log, projects, account) a user may open.
#[derive(Debug, Clone, Copy, Default)]
pub struct MayOpen {
    /// The users page (UserAccess).
    pub users: bool,
    /// The roles page (RoleAccess).
    pub roles: bool,
    /// The security events and their deliveries (the built-in admin).
    pub events: bool,
}

impl<'a> Viewer<'a> {
    /// The header of `actor`'s pages, with the CSRF token of its session.
    pub fn of(rbac: &Rbac, actor: &'a Principal, csrf: &'a str) -> Viewer<'a> {
        let holds = |code: &str| rbac.authorizer().require_code(actor, code).is_ok();
        Viewer {
            name: &actor.user_name,
            csrf,
            may: MayOpen {
                users: holds("UserAccess"),
                roles: holds("RoleAccess"),
                events: actor.is_builtin_admin(),
            },
        }
    }
}

/// A whole page.
pub fn page(lang: Lang, title: &str, viewer: Option<&Viewer<'_>>, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (lang.t("console")) }
                link rel="stylesheet" href="/admin/static/admin.css";
                script src="/admin/static/admin.js" defer {}
            }
            body {
                header.bar {
                    a.brand href="/admin" { (lang.t("console")) }
                    nav {
                        @if let Some(v) = viewer {
                            a href="/admin" { (lang.t("overview")) }
                            @if v.may.users { a href="/admin/users" { (lang.t("users")) } }
                            @if v.may.roles { a href="/admin/roles" { (lang.t("roles")) } }
                            a href="/admin/log" { (lang.t("log")) }
                            a href="/admin/projects" { (lang.t("projects")) }
                            @if v.may.events { a href="/admin/events" { (lang.t("events")) } }
                            a href="/admin/account" { (lang.t("my_account")) }
                        }
                        @if let Some(v) = viewer {
                            span.who { (lang.t("signed_in_as")) " " strong { (v.name) } }
                            form.inline method="post" action="/admin/logout" {
                                (csrf_field(v.csrf))
                                button type="submit" { (lang.t("sign_out")) }
                            }
                        }
                        a.lang href={ "/admin/lang?to=" (other(lang)) } hreflang=(other(lang)) {
                            (lang.t("language"))
                        }
                    }
                }
                main { (body) }
            }
        }
    };
    html_response(markup)
}

/// The hidden CSRF field of a form.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

/// A second factor's fields: a TOTP or recovery code, or, given the options of a passkey
/// ceremony, a button the page's script turns into an assertion in the `passkey` field.
pub fn second_factor_fields(lang: Lang, passkey_options: Option<&str>) -> Markup {
    html! {
        input type="hidden" name="passkey" value="";
        label for="code" { (lang.t("code")) }
        input #code name="code" type="text" inputmode="numeric" autocomplete="one-time-code" autofocus;
        button type="submit" { (lang.t("verify")) }
        @if let Some(options) = passkey_options {
            button.secondary type="button" data-passkey-options=(options) { (lang.t("use_passkey")) }
        }
    }
}

/// A refusal shown in a page.
pub fn notice(text: &str) -> Markup {
    html! { p.notice role="alert" { (text) } }
}

fn other(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "zh",
        Lang::Zh => "en",
    }
}

/// A rendered page as a response.
pub fn html_response(markup: Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}
