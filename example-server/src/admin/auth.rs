//! Signing in (the password, then a second factor when the account has one), signing out,
//! and the language switch.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use maud::html;
use rbac_core::service::{Challenge, LoginInput, LoginStep, SecondFactorInput};
use rbac_core::{Error, SessionKind};
use serde::Deserialize;
use serde_json::json;

use super::layout::{csrf_field, notice, page, second_factor_fields};
use super::{
    cookie, cookie_header, csrf_token, header_csrf_ok, session_cookie, CheckedForm, Lang,
    SignInForm, PRE_COOKIE,
};
use crate::http::{Actor, ClientAddr, UserAgent};
use crate::state::AppState;

/// The sign-in form.
pub(super) async fn login_page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let (pre, fresh) = match cookie(&headers, PRE_COOKIE) {
        Some(pre) => (pre, false),
        None => (rbac_core::service::random_token(24), true),
    };
    let mut resp = login_form(lang, &pre, "", None);
    if fresh {
        resp.headers_mut().append(
            header::SET_COOKIE,
            cookie_header(PRE_COOKIE, &pre, app.secure_cookies, None),
        );
    }
    resp
}

fn login_form(lang: Lang, pre: &str, name: &str, refusal: Option<&str>) -> Response {
    let csrf = csrf_token(pre);
    let body = html! {
        section.card.narrow {
            h1 { (lang.t("sign_in")) }
            @if let Some(text) = refusal { (notice(text)) }
            form method="post" action="/admin/login" {
                (csrf_field(&csrf))
                label for="name" { (lang.t("user_name")) }
                input #name name="name" type="text" value=(name) autocomplete="username" required autofocus;
                label for="password" { (lang.t("password")) }
                input #password name="password" type="password" autocomplete="current-password" required;
                button type="submit" { (lang.t("sign_in")) }
            }
            form #passkey-sign-in method="post" action="/admin/login/passkey" {
                (csrf_field(&csrf))
                input type="hidden" name="passkey_token" value="";
                input type="hidden" name="passkey" value="";
                button.secondary type="button" data-passkey-sign-in="/admin/login/passkey/begin" data-csrf=(csrf) {
                    (lang.t("sign_in_with_passkey"))
                }
            }
        }
    };
    page(lang, lang.t("sign_in"), None, body)
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    name: Option<String>,
    password: Option<String>,
}

/// The password step: a session, or the second-factor form.
pub(super) async fn login(
    State(app): State<AppState>,
    headers: HeaderMap,
    addr: ClientAddr,
    UserAgent(user_agent): UserAgent,
    SignInForm(form): SignInForm<LoginForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let pre = cookie(&headers, PRE_COOKIE).unwrap_or_default();
    let name = form.name.unwrap_or_default();
    let input = LoginInput {
        audience: "admin".into(),
        name: name.clone(),
        password: form.password.unwrap_or_default(),
        ip: addr.ip(),
        user_agent,
        tenant: None,
    };
    match app
        .rbac
        .sessions()
        .login_with(&input, SessionKind::Opaque)
        .await
    {
        Ok(LoginStep::SecondFactor(challenge)) => second_factor_form(lang, &pre, &challenge, None),
        step => match step.and_then(LoginStep::signed_in) {
            Ok(outcome) => signed_in(&app, &headers, &outcome.token.token).await,
            Err(e) => {
                let (status, text) = refusal(lang, &e);
                with_status(status, login_form(lang, &pre, &name, Some(text)))
            }
        },
    }
}

fn second_factor_form(
    lang: Lang,
    pre: &str,
    challenge: &Challenge,
    refusal: Option<&str>,
) -> Response {
    let options = challenge.passkey.as_ref().map(|o| o.to_string());
    let body = html! {
        section.card.narrow {
            h1 { (lang.t("second_factor")) }
            @if let Some(text) = refusal { (notice(text)) }
            p { (lang.t("second_factor_hint")) }
            form #mfa method="post" action="/admin/login/mfa" {
                (csrf_field(&csrf_token(pre)))
                input type="hidden" name="mfa_token" value=(challenge.token);
                (second_factor_fields(lang, options.as_deref()))
            }
        }
    };
    page(lang, lang.t("second_factor"), None, body)
}

#[derive(Debug, Deserialize)]
pub(super) struct SecondFactorForm {
    mfa_token: Option<String>,
    code: Option<String>,
    /// A passkey's assertion as JSON (filled in by the page's script).
    passkey: Option<String>,
}

/// The second step: a TOTP or recovery code, or a passkey's assertion.
pub(super) async fn second_factor(
    State(app): State<AppState>,
    headers: HeaderMap,
    addr: ClientAddr,
    UserAgent(user_agent): UserAgent,
    SignInForm(form): SignInForm<SecondFactorForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let pre = cookie(&headers, PRE_COOKIE).unwrap_or_default();
    let passkey = form
        .passkey
        .filter(|p| !p.trim().is_empty())
        .and_then(|p| serde_json::from_str(&p).ok());
    let input = SecondFactorInput {
        audience: "admin".into(),
        mfa_token: form.mfa_token.unwrap_or_default(),
        code: form.code.unwrap_or_default().trim().to_string(),
        passkey,
        ip: addr.ip(),
        user_agent,
        tenant: None,
    };
    match app
        .rbac
        .sessions()
        .complete_login(&input, SessionKind::Opaque)
        .await
    {
        Ok(outcome) => signed_in(&app, &headers, &outcome.token.token).await,
        Err(Error::BadSecondFactor) => {
            // The challenge stays open until it expires: ask again.
            let challenge = Challenge {
                token: input.mfa_token,
                expires_at: 0,
                methods: Vec::new(),
                passkey: None,
            };
            with_status(
                StatusCode::UNAUTHORIZED,
                second_factor_form(lang, &pre, &challenge, Some(lang.t("bad_code"))),
            )
        }
        Err(Error::Unauthenticated(_)) => with_status(
            StatusCode::UNAUTHORIZED,
            login_form(lang, &pre, "", Some(lang.t("expired"))),
        ),
        Err(e) => {
            let (status, text) = refusal(lang, &e);
            with_status(status, login_form(lang, &pre, "", Some(text)))
        }
    }
}

/// Begins a passwordless sign-in (the page's script, with the sign-in forms' CSRF token
/// in a header): a ceremony any passkey of this site answers.
pub(super) async fn passkey_begin(
    State(app): State<AppState>,
    headers: HeaderMap,
    addr: ClientAddr,
) -> Response {
    let lang = Lang::of(&headers);
    if !header_csrf_ok(&headers, PRE_COOKIE) {
        return (StatusCode::FORBIDDEN, Json(json!({"error": "csrf"}))).into_response();
    }
    match app.rbac.factors().begin_passkey_sign_in(&addr.ip()).await {
        Ok(o) => Json(json!({"passkey_token": o.token, "options": o.options})).into_response(),
        Err(e) => {
            let (status, text) = refusal(lang, &e);
            (status, Json(json!({"error": text}))).into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct PasskeySignInForm {
    passkey_token: Option<String>,
    /// The passkey's assertion as JSON (filled in by the page's script).
    passkey: Option<String>,
}

/// Completes a passwordless sign-in with the passkey's assertion.
pub(super) async fn passkey_sign_in(
    State(app): State<AppState>,
    headers: HeaderMap,
    addr: ClientAddr,
    UserAgent(user_agent): UserAgent,
    SignInForm(form): SignInForm<PasskeySignInForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let pre = cookie(&headers, PRE_COOKIE).unwrap_or_default();
    let refused = |status| {
        with_status(
            status,
            login_form(lang, &pre, "", Some(lang.t("passkey_refused"))),
        )
    };
    let Some(assertion) = form
        .passkey
        .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
    else {
        return refused(StatusCode::BAD_REQUEST);
    };
    let token = form.passkey_token.unwrap_or_default();
    match app
        .rbac
        .factors()
        .finish_passkey_sign_in(
            &token,
            &assertion,
            &addr.ip(),
            &user_agent,
            SessionKind::Opaque,
            None,
        )
        .await
    {
        Ok(outcome) => signed_in(&app, &headers, &outcome.token.token).await,
        Err(Error::BadSecondFactor | Error::Unauthenticated(_) | Error::InvalidParam { .. }) => {
            refused(StatusCode::UNAUTHORIZED)
        }
        Err(e) => {
            let (status, text) = refusal(lang, &e);
            with_status(status, login_form(lang, &pre, "", Some(text)))
        }
    }
}

/// Ends the console's session (with its CSRF token).
pub(super) async fn logout(
    State(app): State<AppState>,
    Actor(actor): Actor,
    _: CheckedForm<serde::de::IgnoredAny>,
) -> Response {
    if let Err(e) = app.rbac.sessions().logout(&actor).await {
        tracing::warn!(error = %e, "console logout failed");
        return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
    }
    let mut resp = Redirect::to("/admin/login").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", app.secure_cookies, Some(0)),
    );
    resp
}

#[derive(Debug, Deserialize)]
pub(super) struct LanguageQuery {
    to: Option<String>,
}

/// Remembers the chosen language and goes back to the console.
pub(super) async fn switch_language(Query(q): Query<LanguageQuery>) -> Response {
    let lang = q.to.as_deref().and_then(Lang::parse).unwrap_or(Lang::En);
    let mut resp = Redirect::to("/admin").into_response();
    let value = format!(
        "{}={}; Path=/admin; SameSite=Strict; Max-Age=31536000",
        super::i18n::LANG_COOKIE,
        match lang {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// The answer of a completed sign-in: the session cookie (the session it replaces, if
/// any, ends), the sign-in forms' value retired, and on to the overview.
async fn signed_in(app: &AppState, headers: &HeaderMap, token: &str) -> Response {
    if let Some(previous) = cookie(headers, super::SESSION_COOKIE) {
        if let Ok(principal) = app.rbac.sessions().authenticate(&previous).await {
            if let Err(e) = app.rbac.sessions().logout(&principal).await {
                tracing::warn!(error = %e, "ending the session a console sign-in replaces failed");
            }
        }
    }
    let mut resp = Redirect::to("/admin").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(token, app.secure_cookies, None),
    );
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(PRE_COOKIE, "", app.secure_cookies, Some(0)),
    );
    resp
}

/// A form whose CSRF token is missing or wrong.
pub(super) fn bad_form(lang: Lang) -> Response {
    let body = html! { section.card.narrow { (notice(lang.t("bad_form"))) a href="/admin/login" { (lang.t("sign_in")) } } };
    with_status(
        StatusCode::FORBIDDEN,
        page(lang, lang.t("console"), None, body),
    )
}

fn refusal(lang: Lang, e: &Error) -> (StatusCode, &'static str) {
    match e {
        Error::BadCredentials | Error::WrongPassword | Error::InvalidParam { .. } => {
            (StatusCode::UNAUTHORIZED, lang.t("bad_login"))
        }
        Error::AccountDisabled => (StatusCode::FORBIDDEN, lang.t("disabled")),
        Error::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, lang.t("throttled")),
        _ => {
            tracing::warn!(error = %e, "console sign-in failed");
            (StatusCode::SERVICE_UNAVAILABLE, lang.t("failed"))
        }
    }
}

fn with_status(status: StatusCode, mut resp: Response) -> Response {
    *resp.status_mut() = status;
    resp
}
