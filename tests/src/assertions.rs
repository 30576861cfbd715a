//! Assertions on answers.

use crate::*;

/// `header.code`, or `i64::MIN` when absent.
pub fn code(v: &Value) -> i64 {
    v["header"]["code"].as_i64().unwrap_or(i64::MIN)
}

/// Assert the HTTP status and envelope code; returns `data`. For code 0 the message must be
/// `CODE_OK` and `total`/`count` present; for any other code `data` must be `{}` and the
/// message non-empty.
#[track_caller]
pub fn expect_code(resp: &(u16, Value), status: u16, expected: i64, ctx: &str) -> Value {
    let (st, body) = resp;
    assert!(
        *st == status && code(body) == expected,
        "{ctx}: expected HTTP {status} code {expected}, got HTTP {st} body {body}"
    );
    check_envelope(resp, ctx);
    body["data"].clone()
}

/// Assert HTTP 200 and one of `codes`; returns the code.
#[track_caller]
pub fn expect_one_of(resp: &(u16, Value), codes: &[i64], ctx: &str) -> i64 {
    let (st, body) = resp;
    assert!(
        *st == 200 && codes.contains(&code(body)),
        "{ctx}: expected HTTP 200 with a code in {codes:?}, got HTTP {st} body {body}"
    );
    check_envelope(resp, ctx);
    code(body)
}

#[track_caller]
pub(crate) fn check_envelope(resp: &(u16, Value), ctx: &str) {
    let (_, body) = resp;
    let message = body["header"]["message"].as_str();
    assert!(
        message.is_some(),
        "{ctx}: header.message missing or not a string: {body}"
    );
    if code(body) == 0 {
        assert_eq!(
            message,
            Some("CODE_OK"),
            "{ctx}: success message must be CODE_OK: {body}"
        );
        assert!(
            body["header"]["total"].is_number() && body["header"]["count"].is_number(),
            "{ctx}: header.total/count missing: {body}"
        );
        assert!(
            body["data"].is_object(),
            "{ctx}: data not an object: {body}"
        );
    } else {
        assert!(
            !message.unwrap_or_default().is_empty(),
            "{ctx}: error message empty: {body}"
        );
        assert_eq!(
            body["data"],
            json!({}),
            "{ctx}: on errors data must be {{}}: {body}"
        );
    }
}

/// HTTP 200, code 0; returns `data`.
#[track_caller]
pub fn expect_ok(resp: &(u16, Value), ctx: &str) -> Value {
    expect_code(resp, 200, 0, ctx)
}

/// HTTP 401, code 1001.
#[track_caller]
pub fn expect_unauthorized(resp: &(u16, Value), ctx: &str) {
    expect_code(resp, 401, 1001, ctx);
}

/// HTTP 200, code 1000, and the message names `privilege`.
#[track_caller]
pub fn expect_denied(resp: &(u16, Value), privilege: &str, ctx: &str) {
    expect_code(resp, 200, 1000, ctx);
    let msg = resp.1["header"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains(privilege),
        "{ctx}: the 1000 message should name {privilege}: {}",
        resp.1
    );
}
