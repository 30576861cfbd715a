//! JWT forging, for the token tests.

use crate::*;

pub(crate) fn b64url() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// The decoded header and payload of a JWT.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut decode = |what: &str| -> Value {
        let seg = parts
            .next()
            .unwrap_or_else(|| panic!("token {token:?} has no {what}"));
        let bytes = b64url()
            .decode(seg.trim_end_matches('='))
            .unwrap_or_else(|e| panic!("token {what} is not base64url: {e}"));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("token {what} is not JSON: {e}"))
    };
    let header = decode("header");
    let payload = decode("payload");
    (header, payload)
}

/// Sign `claims` with HMAC and `secret`, copying `alg` (HS256/HS384/HS512), `typ` and `kid`
/// from `like_header` (the header of a genuine token), so that only what the caller changed
/// differs from a real token.
pub fn sign_jwt(like_header: &Value, claims: &Value, secret: &[u8]) -> String {
    let alg = match like_header["alg"].as_str() {
        Some("HS384") => jsonwebtoken::Algorithm::HS384,
        Some("HS512") => jsonwebtoken::Algorithm::HS512,
        _ => jsonwebtoken::Algorithm::HS256,
    };
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = like_header["kid"].as_str().map(str::to_string);
    header.typ = like_header["typ"].as_str().map(str::to_string);
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("jwt encoding")
}

/// An unsigned token with `alg` set to `alg_value` (e.g. "none"), `kid`/`typ` copied from
/// `like_header`, and an empty signature.
pub fn alg_none_jwt(like_header: &Value, alg_value: &str, claims: &Value) -> String {
    let mut header = json!({"alg": alg_value, "typ": "JWT"});
    if let Some(kid) = like_header.get("kid") {
        header["kid"] = kid.clone();
    }
    let header = b64url().encode(header.to_string());
    let payload = b64url().encode(claims.to_string());
    format!("{header}.{payload}.")
}

/// A copy of `claims` whose expiry (`exp` and any other `*exp*` number) lies an hour in the
/// past, and whose `iat`/`nbf` lie two hours in the past.
pub fn expired_claims(claims: &Value) -> Value {
    let mut c = claims.clone();
    let now = unix_now();
    if let Some(obj) = c.as_object_mut() {
        let keys: Vec<String> = obj.keys().cloned().collect();
        for k in keys {
            let lk = k.to_ascii_lowercase();
            if lk.contains("exp") && obj[&k].is_number() {
                obj.insert(k, json!(now - 3600));
            } else if (lk == "iat" || lk == "nbf" || lk.contains("iat")) && obj[&k].is_number() {
                obj.insert(k, json!(now - 7200));
            }
        }
        obj.entry("exp").or_insert(json!(now - 3600));
    }
    c
}
