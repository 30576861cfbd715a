//! The IAM surface (seed 004): `Authorization` credentials, any method, `{code, message}` errors.

use crate::*;

/// How an IAM request authenticates.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(&'a str),
    /// `Authorization: Basic base64(user:password)`.
    Basic(&'a str, &'a str),
    /// `Authorization: <value>` verbatim.
    Raw(&'a str),
}

impl TestServer {
    /// Send `method path` (path taken as given, e.g. `/v1/users?name=a&name=b`) with `auth`
    /// and, when given, a JSON body.
    pub async fn iam(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let bytes = body.map(|b| b.to_string().into_bytes());
        self.iam_raw(method, path, auth, bytes, true).await
    }

    /// Send `method path` with `auth` and an optional raw body (with
    /// `Content-Type: application/json` when `json_content_type`).
    pub async fn iam_raw(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<Vec<u8>>,
        json_content_type: bool,
    ) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut req = self.client.request(m, self.url(path));
        req = match auth {
            Auth::None => req,
            Auth::Bearer(t) => req.header("Authorization", format!("Bearer {t}")),
            Auth::Basic(user, password) => req.basic_auth(user, Some(password)),
            Auth::Raw(v) => req.header("Authorization", v),
        };
        if let Some(b) = body {
            if json_content_type {
                req = req.header(JSON_CT.0, JSON_CT.1);
            }
            req = req.body(b);
        }
        self.send(req, path).await
    }

    /// `POST /login` with a JSON `{username, password}`; asserts 200 and returns the token.
    pub async fn iam_login(&self, name: &str, password: &str) -> String {
        let r = self
            .iam(
                "POST",
                "/login",
                Auth::None,
                Some(&json!({"username": name, "password": password})),
            )
            .await;
        assert_eq!(r.0, 200, "POST /login as {name}: {}", r.1);
        r.1["token"]
            .as_str()
            .unwrap_or_else(|| panic!("POST /login as {name}: no token in {}", r.1))
            .to_string()
    }

    /// `POST /login` as the built-in `admin`; returns the token.
    pub async fn iam_admin_token(&self) -> String {
        let pw = self.admin_password.clone();
        self.iam_login("admin", &pw).await
    }
}

/// Assert an IAM error: the HTTP status and a `{"code": code, "message": "<non-empty>"}` body.
#[track_caller]
pub fn expect_iam_error(resp: &(u16, Value), status: u16, code: i64, ctx: &str) {
    let (st, body) = resp;
    assert!(
        *st == status && body["code"].as_i64() == Some(code),
        "{ctx}: expected HTTP {status} code {code}, got HTTP {st} body {body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{ctx}: error message missing or empty: {body}"
    );
}

/// Assert HTTP 200 with a JSON `null` body.
#[track_caller]
pub fn expect_iam_null(resp: &(u16, Value), ctx: &str) {
    assert!(
        resp.0 == 200 && resp.1.is_null(),
        "{ctx}: expected HTTP 200 `null`, got HTTP {} body {}",
        resp.0,
        resp.1
    );
}

/// Assert HTTP 200; returns the body.
#[track_caller]
pub fn expect_iam_ok(resp: &(u16, Value), ctx: &str) -> Value {
    assert_eq!(resp.0, 200, "{ctx}: expected HTTP 200, got body {}", resp.1);
    resp.1.clone()
}

/// Whether `s` parses as an RFC 3339 date-time.
pub fn is_rfc3339(s: &str) -> bool {
    ::time::OffsetDateTime::parse(s, &::time::format_description::well_known::Rfc3339).is_ok()
}

/// Parse an RFC 3339 date-time to unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    ::time::OffsetDateTime::parse(s, &::time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// A user created by [`TestServer::new_user`].
#[derive(Clone, Debug)]
pub struct TestUser {
    pub name: String,
    pub password: String,
    pub role: String,
    pub token: String,
}

/// Sorted privilege codes of a JSON array, `Null` dropped.
pub fn privileges_of(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("expected an array of privilege codes, got {v}"))
        .iter()
        .filter_map(|p| p.as_str().map(str::to_string))
        .filter(|p| p != "Null")
        .collect();
    out.sort();
    out
}

/// Sorted owned copy of some codes.
pub fn sorted(codes: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
    out.sort();
    out
}
