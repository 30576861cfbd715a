//! The console's CSRF check, in one place: every form it posts carries the token of a
//! secret the browser holds in an HttpOnly cookie, and every form handler takes its form
//! through [`CheckedForm`] (signed in) or [`SignInForm`] (the sign-in forms), which refuse
//! a missing or wrong token with the console's "bad form" page before the form is read.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Form;
use base64::Engine;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::{cookie, Lang, PRE_COOKIE, SESSION_COOKIE};

/// The CSRF token of a secret the browser holds in an HttpOnly cookie (the session token,
/// or the sign-in forms' pre-session value): a page of this console can print it, another
/// site can neither read the cookie nor compute it.
pub fn csrf_token(secret: &str) -> String {
    let digest = Sha256::digest(format!("rbac-admin-csrf:{secret}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// Whether a script's request carries, in its `X-CSRF-Token` header, the CSRF token of the
/// secret in cookie `cookie_name` (the session's, or the sign-in's before there is one).
pub fn header_csrf_ok(headers: &HeaderMap, cookie_name: &str) -> bool {
    let given = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    csrf_ok(cookie(headers, cookie_name).as_deref(), given)
}

/// Whether `given` is the CSRF token of `secret` (in constant time).
fn csrf_ok(secret: Option<&str>, given: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    match (secret, given) {
        (Some(secret), Some(given)) => csrf_token(secret).as_bytes().ct_eq(given.as_bytes()).into(),
        _ => false,
    }
}

/// A form posted by a signed-in page, its CSRF token checked against the session's.
pub struct CheckedForm<T>(pub T);

/// A sign-in form, its CSRF token checked against the pre-session cookie's.
pub struct SignInForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CheckedForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        checked(req, state, SESSION_COOKIE).await.map(CheckedForm)
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for SignInForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        checked(req, state, PRE_COOKIE).await.map(SignInForm)
    }
}

/// Reads the form once: its `csrf` field must be the token of the secret in cookie
/// `cookie_name`; then the form as `T` (refused as axum's `Form` refuses it).
async fn checked<S: Send + Sync, T: DeserializeOwned>(
    req: Request,
    state: &S,
    cookie_name: &str,
) -> Result<T, Response> {
    let lang = Lang::of(req.headers());
    let secret = cookie(req.headers(), cookie_name);
    let (parts, body) = req.into_parts();
    let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
        .await
        .map_err(IntoResponse::into_response)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let given = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    if !csrf_ok(secret.as_deref(), given) {
        return Err(super::auth::bad_form(lang));
    }
    let Form(form) = Form::<T>::from_request(Request::from_parts(parts, bytes.into()), state)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(form)
}
