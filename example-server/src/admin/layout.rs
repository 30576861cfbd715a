//! The page shell: head, header with the signed-in user and the language switch, and the
//! forms every page shares. Values are escaped by maud; nothing inline is scripted or
//! styled (the policy forbids it).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use super::{Lang, CSRF_FIELD};

/// Who is signed in, for the header: their name and the CSRF token of their session.
pub struct Viewer<'a> {
    /// The user's name.
    pub name: &'a str,
    /// The session's CSRF token.
    pub csrf: &'a str,
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
                        @if viewer.is_some() {
                            a href="/admin" { (lang.t("overview")) }
                            a href="/admin/users" { (lang.t("users")) }
                            a href="/admin/roles" { (lang.t("roles")) }
                            a href="/admin/log" { (lang.t("log")) }
                            a href="/admin/projects" { (lang.t("projects")) }
                            a href="/admin/events" { (lang.t("events")) }
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
