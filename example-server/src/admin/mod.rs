//! The admin console at `/admin`: pages rendered on the server (maud, escaped by
//! construction), a little JavaScript of our own, everything compiled into the binary.
//!
//! Signing in opens a session like every token's (an opaque sliding one), carried in an
//! `HttpOnly`, `SameSite=Strict` cookie (`Secure` when the relying-party origin is https),
//! read by the layer's cookie credential source: logout, disabling, a password reset or an
//! ended session act on the console's next request too. Every state-changing form carries
//! a CSRF token derived from the session, and every page a Content-Security-Policy with no
//! inline script or style. Actions go through the same use-cases, and so the same
//! containment rule, as the API.

mod account;
mod auth;
mod csrf;
mod i18n;
mod layout;
mod log;
mod overview;
mod projects;
mod roles;
mod step_up;
mod user_detail;
mod users;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use rbac_tower::{CredentialSource, RbacLayer, Rejection, RenderRejection};

use crate::state::AppState;

pub use csrf::{csrf_token, header_csrf_ok, CheckedForm, SignInForm};
pub use i18n::Lang;

/// The cookie carrying the console's session token.
pub const SESSION_COOKIE: &str = "rbac_admin";
/// The cookie tying the sign-in forms to one browser before there is a session.
pub const PRE_COOKIE: &str = "rbac_admin_pre";
/// The form field (and header) carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// The console's policy: our own script and style only, nothing framed, forms posted here.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The console's routes (not in the OpenAPI document: they answer HTML).
pub fn router(state: &AppState) -> Router<AppState> {
    let session = RbacLayer::new(state.rbac.authorizer().clone())
        .sources([CredentialSource::Cookie(SESSION_COOKIE)])
        .renderer(SignInFirst {
            secure: state.secure_cookies,
        })
        .authenticated();
    // Reachable before a required second factor is enrolled: enrolment, sessions, logout.
    let enrolment = Router::new()
        .route("/admin/account", get(account::account))
        .route("/admin/account/totp/begin", post(account::act))
        .route("/admin/account/totp/confirm", post(account::act))
        .route("/admin/account/sessions/end", post(account::act))
        .route("/admin/account/passkey/begin", post(account::passkey_begin))
        .route(
            "/admin/account/passkey/finish",
            post(account::passkey_finish),
        )
        .route("/admin/logout", post(auth::logout))
        .route_layer(session.clone().enrolment());
    let signed_in = Router::new()
        .route("/admin", get(overview::overview))
        .route("/admin/users", get(users::users))
        .route("/admin/user", get(user_detail::user))
        .route("/admin/users/create", post(users::create))
        .route("/admin/users/enabled", post(users::set_enabled))
        .route("/admin/account/password", post(account::act))
        .route("/admin/account/totp/codes", post(account::act))
        .route("/admin/account/passkey/remove", post(account::act))
        .route("/admin/roles", get(roles::roles))
        .route("/admin/log", get(log::log))
        .route("/admin/projects", get(projects::projects))
        .route("/admin/projects/create", post(projects::create))
        .route("/admin/projects/delete", post(projects::delete))
        .route("/admin/events", get(log::deliveries))
        .route("/admin/sessions", get(log::user_sessions))
        .route("/admin/sessions/end", post(log::end_sessions))
        .route("/admin/roles/create", post(roles::create))
        .route("/admin/roles/delete", post(roles::delete))
        // Which of these ask a recent second factor is the use-cases' decision (rbac-core's
        // `Sensitive`); a refusal sends the browser to the step-up page.
        .route("/admin/users/password", post(users::reset_password))
        .route("/admin/users/delete", post(users::delete))
        .route("/admin/roles/grant", post(roles::grant))
        .route("/admin/roles/include", post(roles::include))
        .route("/admin/users/edit", post(user_detail::edit))
        .route("/admin/users/assign", post(user_detail::assign))
        .route("/admin/users/revoke", post(user_detail::revoke))
        .route(
            "/admin/step-up",
            get(step_up::page_for).post(step_up::prove),
        )
        .route_layer(session)
        .merge(enrolment);
    Router::new()
        .route("/admin/login", get(auth::login_page).post(auth::login))
        .route("/admin/login/mfa", post(auth::second_factor))
        .route("/admin/login/passkey/begin", post(auth::passkey_begin))
        .route("/admin/login/passkey", post(auth::passkey_sign_in))
        .route("/admin/lang", get(auth::switch_language))
        .route("/admin/static/admin.css", get(stylesheet))
        .route("/admin/static/admin.js", get(script))
        .merge(signed_in)
        .layer(axum::middleware::from_fn_with_state(
            state.secure_cookies,
            security_headers,
        ))
}

/// Headers on every console answer: the policy, no sniffing, no caching of pages, and
/// over https (`secure`) HSTS, so a browser never sends the session cookie's page in clear.
async fn security_headers(State(secure): State<bool>, req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/admin/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !is_static {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    resp
}

/// The layer's refusals as the console answers them: to the sign-in page when there is no
/// live session, a plain page otherwise.
#[derive(Debug, Clone, Copy)]
struct SignInFirst {
    /// Whether the console's cookies are `Secure`.
    secure: bool,
}

impl RenderRejection<axum::body::Body> for SignInFirst {
    fn render(&self, rejection: &Rejection) -> Response {
        match rejection {
            Rejection::Unauthenticated(failure) => {
                let mut resp = Redirect::to("/admin/login").into_response();
                // A dead session's cookie goes with it; a request that carried none (a link
                // from another site, without the SameSite=Strict cookie) clears nothing.
                if *failure != rbac_core::AuthFailure::Missing {
                    resp.headers_mut()
                        .insert(header::SET_COOKIE, session_cookie("", self.secure, Some(0)));
                }
                resp
            }
            Rejection::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable").into_response()
            }
            Rejection::EnrolmentRequired => Redirect::to("/admin/account").into_response(),
            // Proven in a page of its own, in the reader's language, then done again.
            Rejection::StepUpRequired { .. } => to_step_up(),
            _ => (StatusCode::FORBIDDEN, "forbidden").into_response(),
        }
    }
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", include_str!("static/admin.css"))
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("static/admin.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// A page the signed-in user may not open: the refusal alone, answered 403 (the navigation
/// does not offer it, and its forms would be refused anyway).
fn forbidden_page(
    app: &AppState,
    actor: &rbac_core::Principal,
    lang: Lang,
    csrf: &str,
    title: &str,
    e: &rbac_core::Error,
) -> Response {
    let viewer = layout::Viewer::of(&app.rbac, actor, csrf);
    let body = maud::html! { h1 { (title) } (layout::notice(&e.to_string())) };
    let mut resp = layout::page(lang, title, Some(&viewer), body);
    *resp.status_mut() = StatusCode::FORBIDDEN;
    resp
}

/// The use-case asks a second factor proven recently (its `Sensitive` rule).
fn needs_step_up(e: &rbac_core::Error) -> bool {
    matches!(e, rbac_core::Error::StepUpRequired { .. })
}

/// Sends the browser to prove a second factor anew.
fn to_step_up() -> Response {
    Redirect::to("/admin/step-up").into_response()
}

/// A use-case's refusal as a page shows it: the status and the reason in words.
fn refusal(lang: Lang, e: &rbac_core::Error) -> (StatusCode, String) {
    use rbac_core::Error;
    let status = match e {
        Error::Forbidden { .. }
        | Error::Outranked { .. }
        | Error::NotGrantable(_)
        | Error::Violation(_) => StatusCode::FORBIDDEN,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::AlreadyExists(_) => StatusCode::CONFLICT,
        Error::Internal(_) | Error::Busy => StatusCode::SERVICE_UNAVAILABLE,
        Error::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    };
    let text = match e {
        Error::Internal(_) | Error::Busy => lang.t("failed").to_string(),
        Error::Throttled { .. } => lang.t("throttled").to_string(),
        other => other.to_string(),
    };
    (status, text)
}

/// The value of cookie `name` in the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
        .filter(|v| !v.is_empty())
}

/// The session cookie (`max_age` 0 clears it; none: until the browser closes): HttpOnly,
/// SameSite=Strict, for `/admin` only.
pub(super) fn session_cookie(token: &str, secure: bool, max_age: Option<i64>) -> HeaderValue {
    cookie_header(SESSION_COOKIE, token, secure, max_age)
}

pub(super) fn cookie_header(
    name: &str,
    value: &str,
    secure: bool,
    max_age: Option<i64>,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let max_age = max_age.map_or_else(String::new, |s| format!("; Max-Age={s}"));
    let text = format!("{name}={value}; Path=/admin; HttpOnly; SameSite=Strict{max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}
