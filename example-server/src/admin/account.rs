//! My account: the password, TOTP enrolment (its QR code and secret shown once, then the
//! recovery codes once), passkeys (registered through `navigator.credentials.create`), and
//! the sessions signed in, each of which can be ended.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use base64::Engine;
use maud::{html, Markup};
use rbac_core::service::SecondFactorStatus;
use rbac_core::Principal;
use serde::Deserialize;
use serde_json::{json, Value};

use super::layout::{csrf_field, notice, page, Viewer};
use super::{cookie, csrf_token, header_csrf_ok, CheckedForm, Lang, SESSION_COOKIE};
use crate::http::{Actor, ClientAddr};
use crate::state::AppState;

/// What a page shows once, after an action.
enum Shown {
    Nothing,
    /// A TOTP enrolment begun: its QR code (SVG) and secret.
    Totp {
        qr_svg: String,
        secret: String,
    },
    /// Recovery codes, each usable once.
    Codes(Vec<String>),
}

/// The account page.
pub(super) async fn account(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
) -> Response {
    render(&app, &actor, &headers, Shown::Nothing, None).await
}

async fn render(
    app: &AppState,
    actor: &Principal,
    headers: &HeaderMap,
    shown: Shown,
    refusal: Option<(StatusCode, String)>,
) -> Response {
    let lang = Lang::of(headers);
    let csrf = csrf_token(&cookie(headers, SESSION_COOKIE).unwrap_or_default());
    let status = app.rbac.factors().status(actor).await.ok();
    let passkeys = app.rbac.factors().passkeys(actor).await.unwrap_or_default();
    let sessions = app.rbac.sessions().mine(actor).await.unwrap_or_default();
    let code = refusal.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let body = html! {
        h1 { (lang.t("my_account")) }
        @if let Some((_, text)) = &refusal { (notice(text)) }
        (once(lang, &csrf, &shown))
        section.card #password {
            h2 { (lang.t("change_password")) }
            form method="post" action="/admin/account/password" {
                (csrf_field(&csrf))
                label for="old-password" { (lang.t("current_password")) }
                input #old-password name="old" type="password" autocomplete="current-password" required;
                label for="new-password" { (lang.t("new_password")) }
                input #new-password name="new" type="password" autocomplete="new-password" required;
                button type="submit" { (lang.t("save")) }
            }
        }
        section.card #totp {
            h2 { (lang.t("totp")) }
            (totp_section(lang, &csrf, status.as_ref()))
        }
        section.card #passkeys {
            h2 { (lang.t("passkeys")) }
            ul.passkeys {
                @for p in &passkeys {
                    li data-passkey=(p.id) {
                        strong { (p.name) }
                        form.inline method="post" action="/admin/account/passkey/remove" {
                            (csrf_field(&csrf))
                            input type="hidden" name="id" value=(p.id);
                            label.visually-hidden for={ "pk-pw-" (p.id) } { (lang.t("password")) }
                            input id={ "pk-pw-" (p.id) } name="password" type="password" placeholder=(lang.t("password")) required;
                            button.danger type="submit" { (lang.t("delete")) }
                        }
                    }
                }
            }
            form #add-passkey {
                label for="passkey-name" { (lang.t("passkey_name")) }
                input #passkey-name name="name" type="text" value="passkey" required;
                label for="passkey-password" { (lang.t("password")) }
                input #passkey-password name="password" type="password" autocomplete="current-password";
                button.secondary type="button" data-register-passkey="/admin/account/passkey" data-csrf=(csrf) {
                    (lang.t("add_passkey"))
                }
                p.status role="status" {}
            }
        }
        section.card #sessions {
            h2 { (lang.t("my_sessions")) }
            table {
                thead { tr {
                    th scope="col" { (lang.t("signed_in")) }
                    th scope="col" { (lang.t("address")) }
                    th scope="col" { (lang.t("device")) }
                    th scope="col" { (lang.t("last_used")) }
                    th scope="col" { (lang.t("factors")) }
                    th scope="col" { (lang.t("actions")) }
                } }
                tbody {
                    @for s in &sessions {
                        tr data-session=(s.handle) {
                            td { (crate::http::datetime(s.created_at)) }
                            td { (s.ip) }
                            td.device { (s.user_agent) }
                            td { (crate::http::datetime(s.last_seen)) }
                            td { (s.factors.names().join(" + ")) }
                            td {
                                @if s.current { (lang.t("this_session")) } @else {
                                    form.inline method="post" action="/admin/account/sessions/end" {
                                        (csrf_field(&csrf))
                                        input type="hidden" name="handle" value=(s.handle);
                                        button.secondary type="submit" { (lang.t("end")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let viewer = Viewer::of(&app.rbac, actor, &csrf);
    let mut resp = page(lang, lang.t("my_account"), Some(&viewer), body);
    *resp.status_mut() = code;
    resp
}

fn totp_section(lang: Lang, csrf: &str, status: Option<&SecondFactorStatus>) -> Markup {
    let enrolled = status.is_some_and(|s| s.totp);
    html! {
        @if enrolled {
            p #totp-state { (lang.t("totp_on")) " · " (status.map_or(0, |s| s.recovery_codes_left)) " " (lang.t("codes_left")) }
            form method="post" action="/admin/account/totp/codes" {
                (csrf_field(csrf))
                label for="codes-code" { (lang.t("code")) }
                input #codes-code name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required;
                button.secondary type="submit" { (lang.t("new_codes")) }
            }
        } @else {
            p #totp-state { (lang.t("totp_off")) }
            form method="post" action="/admin/account/totp/begin" {
                (csrf_field(csrf))
                label for="totp-password" { (lang.t("password")) }
                input #totp-password name="password" type="password" autocomplete="current-password";
                button type="submit" { (lang.t("enrol_totp")) }
            }
        }
    }
}

fn once(lang: Lang, csrf: &str, shown: &Shown) -> Markup {
    match shown {
        Shown::Nothing => html! {},
        Shown::Totp { qr_svg, secret } => {
            // An image, not inline SVG: nothing inline to style.
            let data = base64::engine::general_purpose::STANDARD.encode(qr_svg.as_bytes());
            html! {
                section.card.once #totp-enrolment {
                    h2 { (lang.t("scan_qr")) }
                    img.qr src={ "data:image/svg+xml;base64," (data) } alt=(lang.t("qr_alt")) width="200" height="200";
                    p { (lang.t("or_type")) " " code #totp-secret { (secret) } }
                    form method="post" action="/admin/account/totp/confirm" {
                        (csrf_field(csrf))
                        label for="confirm-code" { (lang.t("code")) }
                        input #confirm-code name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required autofocus;
                        button type="submit" { (lang.t("verify")) }
                    }
                }
            }
        }
        Shown::Codes(codes) => html! {
            section.card.once #recovery-codes {
                h2 { (lang.t("recovery_codes")) }
                p { (lang.t("codes_once")) }
                ol { @for c in codes { li { code { (c) } } } }
            }
        },
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct AccountForm {
    old: Option<String>,
    new: Option<String>,
    password: Option<String>,
    code: Option<String>,
    handle: Option<String>,
    id: Option<i64>,
}

/// Every form of the page: checks the CSRF token, runs the action, shows the result.
pub(super) async fn act(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    addr: ClientAddr,
    uri: axum::http::Uri,
    CheckedForm(form): CheckedForm<AccountForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let rbac = &app.rbac;
    let ip = addr.ip();
    let text = |v: Option<String>| v.unwrap_or_default();
    let done: Result<Shown, rbac_core::Error> = match uri.path() {
        "/admin/account/password" => rbac
            .users()
            .change_password(&actor, &text(form.old), &text(form.new), &ip)
            .await
            .map(|()| Shown::Nothing),
        "/admin/account/totp/begin" => rbac
            .factors()
            .begin_totp(
                &actor,
                form.password.as_deref().filter(|p| !p.is_empty()),
                &ip,
            )
            .await
            .map(|e| Shown::Totp {
                qr_svg: e.qr_svg,
                secret: e.secret,
            }),
        "/admin/account/totp/confirm" => rbac
            .factors()
            .confirm_totp(&actor, text(form.code).trim())
            .await
            .map(Shown::Codes),
        "/admin/account/totp/codes" => rbac
            .factors()
            .regenerate_recovery_codes(&actor, text(form.code).trim(), &ip)
            .await
            .map(Shown::Codes),
        "/admin/account/passkey/remove" => rbac
            .factors()
            .remove_passkey(&actor, form.id.unwrap_or(0), &text(form.password), &ip)
            .await
            .map(|()| Shown::Nothing),
        "/admin/account/sessions/end" => rbac
            .sessions()
            .end(&actor, None, form.handle.as_deref())
            .await
            .map(|_| Shown::Nothing),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match done {
        Ok(Shown::Nothing) => Redirect::to("/admin/account").into_response(),
        Ok(shown) => render(&app, &actor, &headers, shown, None).await,
        Err(e) => {
            let (status, text) = super::refusal(lang, &e);
            render(&app, &actor, &headers, Shown::Nothing, Some((status, text))).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct BeginPasskey {
    password: Option<String>,
}

/// Begins registering a passkey (the page's script, with the CSRF token in a header); a
/// session that signed in longer ago than the enrolment window gives the password.
pub(super) async fn passkey_begin(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    addr: ClientAddr,
    Json(body): Json<BeginPasskey>,
) -> Response {
    if !header_csrf_ok(&headers, SESSION_COOKIE) {
        return (StatusCode::FORBIDDEN, Json(json!({"error": "csrf"}))).into_response();
    }
    let password = body.password.filter(|p| !p.is_empty());
    match app
        .rbac
        .factors()
        .begin_passkey_registration(&actor, password.as_deref(), &addr.ip())
        .await
    {
        Ok(o) => Json(json!({"passkey_token": o.token, "options": o.options})).into_response(),
        Err(e) => script_refusal(Lang::of(&headers), &e),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct FinishPasskey {
    passkey_token: Option<String>,
    name: Option<String>,
    credential: Option<Value>,
}

/// Finishes registering a passkey with the browser's new credential.
pub(super) async fn passkey_finish(
    State(app): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    Json(body): Json<FinishPasskey>,
) -> Response {
    if !header_csrf_ok(&headers, SESSION_COOKIE) {
        return (StatusCode::FORBIDDEN, Json(json!({"error": "csrf"}))).into_response();
    }
    let (Some(token), Some(credential)) = (body.passkey_token, body.credential) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "passkey_token and credential"})),
        )
            .into_response();
    };
    let name = body.name.unwrap_or_else(|| "passkey".into());
    match app
        .rbac
        .factors()
        .finish_passkey_registration(&actor, &token, &name, &credential)
        .await
    {
        Ok(view) => Json(json!({"id": view.id, "name": view.name})).into_response(),
        Err(e) => script_refusal(Lang::of(&headers), &e),
    }
}

fn script_refusal(lang: Lang, e: &rbac_core::Error) -> Response {
    let (status, text) = super::refusal(lang, e);
    (status, Json(json!({"error": text}))).into_response()
}
