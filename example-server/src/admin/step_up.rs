//! Proving a second factor anew (a step-up) when what resets, grants or deletes asks for
//! a recent one: a TOTP or recovery code, or a passkey through the page's script; then
//! back to the page the action came from, to do it again.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use rbac_core::{Error, Principal};
use serde::Deserialize;

use super::layout::{csrf_field, notice, page, second_factor_fields, Viewer};
use super::{cookie, csrf_token, CheckedForm, Lang, SESSION_COOKIE};
use crate::http::{Actor, ClientAddr};
use crate::state::AppState;

/// The step-up form.
pub(super) async fn page_for(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
) -> Response {
    let referer = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    render(&app, &actor, &headers, &back_path(referer), None).await
}

async fn render(
    app: &AppState,
    actor: &Principal,
    headers: &HeaderMap,
    back: &str,
    refusal: Option<(StatusCode, String)>,
) -> Response {
    let lang = Lang::of(headers);
    let csrf = csrf_token(&cookie(headers, SESSION_COOKIE).unwrap_or_default());
    // A fresh assertion ceremony per page, when the user has a passkey.
    let passkey = app.rbac.factors().begin_passkey_step_up(actor).await.ok();
    let options = passkey.as_ref().map(|p| p.options.to_string());
    let code = refusal.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let body = html! {
        section.card.narrow {
            h1 { (lang.t("step_up_title")) }
            @if let Some((_, text)) = &refusal { (notice(text)) }
            p { (lang.t("step_up")) }
            form #step-up method="post" action="/admin/step-up" {
                (csrf_field(&csrf))
                input type="hidden" name="back" value=(back);
                input type="hidden" name="passkey_token" value=(passkey.as_ref().map_or("", |p| p.token.as_str()));
                (second_factor_fields(lang, options.as_deref()))
            }
        }
    };
    let viewer = Viewer::of(&app.rbac, actor, &csrf);
    let mut resp = page(lang, lang.t("step_up_title"), Some(&viewer), body);
    *resp.status_mut() = code;
    resp
}

#[derive(Debug, Deserialize)]
pub(super) struct StepUpForm {
    code: Option<String>,
    passkey_token: Option<String>,
    /// A passkey's assertion as JSON (filled in by the page's script).
    passkey: Option<String>,
    back: Option<String>,
}

/// Proves the code or passkey on the console's session, then goes back.
pub(super) async fn prove(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    addr: ClientAddr,
    CheckedForm(form): CheckedForm<StepUpForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let back = back_path(form.back.as_deref().unwrap_or(""));
    let assertion = form
        .passkey
        .filter(|p| !p.trim().is_empty())
        .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok());
    let ip = addr.ip();
    let proven = match assertion {
        Some(assertion) => {
            let token = form.passkey_token.unwrap_or_default();
            app.rbac
                .sessions()
                .step_up_with_passkey(&actor, &token, &assertion, &ip)
                .await
        }
        None => {
            let code = form.code.unwrap_or_default();
            app.rbac.sessions().step_up(&actor, code.trim(), &ip).await
        }
    };
    match proven {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(Error::BadSecondFactor) => {
            let refusal = (StatusCode::UNAUTHORIZED, lang.t("bad_code").to_string());
            render(&app, &actor, &headers, &back, Some(refusal)).await
        }
        Err(e) => {
            let refusal = super::refusal(lang, &e);
            render(&app, &actor, &headers, &back, Some(refusal)).await
        }
    }
}

/// Where to go once proven: the console page named by `from` (a URL or a path), or the
/// overview; never another site, nor the sign-in or step-up pages themselves.
fn back_path(from: &str) -> String {
    let path = match from.find("://") {
        Some(i) => from[i + 3..].find('/').map_or("", |j| &from[i + 3 + j..]),
        None => from,
    };
    let console = path == "/admin" || path.starts_with("/admin/") || path.starts_with("/admin?");
    let excluded = ["/admin/login", "/admin/step-up", "/admin/static/"]
        .iter()
        .any(|p| path.starts_with(p));
    let odd = path.contains(['\\', '\r', '\n']) || path.contains("//") || path.contains("/..");
    if console && !excluded && !odd {
        path.to_string()
    } else {
        "/admin".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::back_path;

    #[test]
    fn goes_back_only_within_the_console() {
        for (from, to) in [
            (
                "http://localhost:3000/admin/users?page=2",
                "/admin/users?page=2",
            ),
            ("/admin/user?name=a", "/admin/user?name=a"),
            ("https://h/admin", "/admin"),
            ("", "/admin"),
            ("https://evil.example/elsewhere", "/admin"),
            ("//evil.example/admin", "/admin"),
            ("/admin//evil.example", "/admin"),
            ("/admin/../api", "/admin"),
            ("/administrator", "/admin"),
            ("/admin/login", "/admin"),
            ("/admin/step-up", "/admin"),
            ("/admin/x\\y", "/admin"),
        ] {
            assert_eq!(back_path(from), to, "{from}");
        }
    }
}
