//! Where a request's credential comes from.

use base64::Engine;
use http::header::{HeaderName, AUTHORIZATION};
use http::Request;
use rbac_core::Credential;

/// One place a surface reads its token from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// A header carrying the token itself (`Auth-Token`, `X-Auth-Token`, `token`); a
    /// `Bearer ` prefix is tolerated.
    Header(HeaderName),
    /// A query-string parameter (`?token=`).
    Query(&'static str),
    /// `Authorization: Basic base64(user:password)`.
    Basic,
    /// An API key and its secret, in the two headers named (see
    /// [`api_key`](Self::api_key)), or as `Authorization: Basic base64(key:secret)`.
    ApiKey {
        /// The header carrying the key.
        key: HeaderName,
        /// The header carrying the secret.
        secret: HeaderName,
    },
    /// A cookie holding the token, for a browser app. Browsers send cookies with requests
    /// other sites make, so pair it with `SameSite=Strict` (or `Lax`) on the cookie and a
    /// CSRF check of state-changing requests; set it `HttpOnly` so scripts cannot read it.
    Cookie(&'static str),
}

impl CredentialSource {
    /// The `Auth-Token` header.
    pub fn auth_token() -> Self {
        CredentialSource::Header(HeaderName::from_static("auth-token"))
    }

    /// An API key in header `key` and its secret in header `secret` (lowercase names, as
    /// `x-api-key`), or both in `Authorization: Basic`.
    pub fn api_key(key: &'static str, secret: &'static str) -> Self {
        CredentialSource::ApiKey {
            key: HeaderName::from_static(key),
            secret: HeaderName::from_static(secret),
        }
    }

    /// Reads this source's credential from a request, if present and non-empty.
    pub fn read<B>(&self, req: &Request<B>) -> Option<Credential> {
        match self {
            CredentialSource::Basic => return read_basic(req),
            CredentialSource::ApiKey { key, secret } => return read_api_key(req, key, secret),
            _ => {}
        }
        let token = match self {
            CredentialSource::Basic | CredentialSource::ApiKey { .. } => return None,
            CredentialSource::Bearer => {
                let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
                strip_bearer(value)?.to_string()
            }
            CredentialSource::Header(name) => {
                let value = req.headers().get(name)?.to_str().ok()?.trim();
                strip_bearer(value).unwrap_or(value).to_string()
            }
            CredentialSource::Query(name) => query_param(req.uri().query()?, name)?,
            CredentialSource::Cookie(name) => cookie(req, name)?,
        };
        // Trimmed in place: a token read cleanly is not copied twice.
        let trimmed = token.trim();
        let token = if trimmed.len() == token.len() {
            token
        } else {
            trimmed.to_string()
        };
        (!token.is_empty()).then_some(Credential::Token(token))
    }
}

fn read_basic<B>(req: &Request<B>) -> Option<Credential> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some(Credential::Basic {
        user: user.to_string(),
        password: password.to_string(),
    })
}

fn read_api_key<B>(
    req: &Request<B>,
    key_header: &HeaderName,
    secret_header: &HeaderName,
) -> Option<Credential> {
    let header = |name: &HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if let (Some(key), Some(secret)) = (header(key_header), header(secret_header)) {
        return Some(Credential::ApiKey {
            key: key.to_string(),
            secret: secret.to_string(),
        });
    }
    match read_basic(req)? {
        Credential::Basic { user, password } if !user.is_empty() => Some(Credential::ApiKey {
            key: user,
            secret: password,
        }),
        _ => None,
    }
}

/// The value of cookie `name` in the request's `Cookie` headers (the first one sent).
pub fn cookie<B>(req: &Request<B>, name: &str) -> Option<String> {
    req.headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k.trim() == name).then(|| v.trim().trim_matches('"').to_string())
        })
}

fn strip_bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_decode(v))
    })
}

/// Decodes the `%XX` escapes and `+` of a query-string value.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                // Two hex digits exactly (`from_str_radix` alone would take "+1").
                out.push(hex_value(bytes[i + 1]) << 4 | hex_value(bytes[i + 2]));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

/// Reads the first credential any source yields.
pub fn first_credential<B>(sources: &[CredentialSource], req: &Request<B>) -> Option<Credential> {
    sources.iter().find_map(|s| s.read(req))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut b = Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).expect("request")
    }

    #[test]
    fn reads_an_api_key_from_the_headers_it_names_or_basic() {
        let source = CredentialSource::api_key("x-api-key", "x-api-secret");
        let want = Some(Credential::ApiKey {
            key: "k1".into(),
            secret: "s1".into(),
        });
        let r = req("/", &[("X-Api-Key", "k1"), ("X-Api-Secret", " s1 ")]);
        assert_eq!(source.read(&r), want);
        let basic = base64::engine::general_purpose::STANDARD.encode("k1:s1");
        let r = req("/", &[("Authorization", &format!("Basic {basic}"))]);
        assert_eq!(source.read(&r), want);
        // Other headers, or a key without its secret, are no credential.
        let r = req("/", &[("X-Key", "k1"), ("X-Secret", "s1")]);
        assert_eq!(source.read(&r), None);
        assert_eq!(source.read(&req("/", &[("X-Api-Key", "k1")])), None);
    }

    #[test]
    fn reads_a_cookie_by_name() {
        let tok = |s: &str| Some(Credential::Token(s.to_string()));
        let source = CredentialSource::Cookie("rbac_session");
        let r = req(
            "/",
            &[
                ("cookie", "theme=dark; rbac_session_old=x"),
                ("cookie", "rbac_session=\"abc.def\"; other=1"),
            ],
        );
        assert_eq!(source.read(&r), tok("abc.def"));
        // Only that name: a prefix, another cookie or an empty value is no credential.
        let r = req("/", &[("cookie", "rbac_session_old=x; theme=dark")]);
        assert_eq!(source.read(&r), None);
        let r = req("/", &[("cookie", "rbac_session=; theme=dark")]);
        assert_eq!(source.read(&r), None);
        let r = req("/", &[("auth-token", "t1")]);
        assert_eq!(source.read(&r), None);
    }

    #[test]
    fn reads_each_source() {
        let tok = |s: &str| Some(Credential::Token(s.to_string()));
        let r = req(
            "/x?a=1&token=ab%2Bc",
            &[("auth-token", "t1"), ("authorization", "Bearer t2")],
        );
        assert_eq!(CredentialSource::auth_token().read(&r), tok("t1"));
        assert_eq!(CredentialSource::Bearer.read(&r), tok("t2"));
        assert_eq!(CredentialSource::Query("token").read(&r), tok("ab+c"));
        assert_eq!(CredentialSource::Basic.read(&r), None);
        let r = req(
            "/x?token=%zz%4",
            &[("authorization", "Basic abc"), ("auth-token", "  ")],
        );
        assert_eq!(CredentialSource::Bearer.read(&r), None);
        assert_eq!(CredentialSource::auth_token().read(&r), None);
        assert_eq!(CredentialSource::Query("token").read(&r), tok("%zz%4"));
        assert_eq!(CredentialSource::Basic.read(&r), None);
        let r = req("/", &[("authorization", "Basic Zm9vOkZvb0AyMDI6MA==")]);
        assert_eq!(
            CredentialSource::Basic.read(&r),
            Some(Credential::Basic {
                user: "foo".into(),
                password: "Foo@202:0".into()
            })
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Percent-encodes every byte outside `[A-Za-z0-9._~-]`.
        fn encode(s: &str) -> String {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'~' | b'-' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect()
        }

        fn all_sources() -> Vec<CredentialSource> {
            vec![
                CredentialSource::Bearer,
                CredentialSource::Basic,
                CredentialSource::auth_token(),
                CredentialSource::Query("token"),
            ]
        }

        proptest! {
            #[test]
            fn percent_decoding_inverts_encoding(s in "\\PC*") {
                prop_assert_eq!(percent_decode(&encode(&s)), s);
            }

            #[test]
            fn percent_decoding_never_panics(s in "[%+0-9a-fA-F\\PC]{0,40}") {
                let _ = percent_decode(&s);
            }

            #[test]
            fn malformed_escapes_stay_literal(a in "[g-zG-Z+]", b in "[0-9a-fA-F+]") {
                let s = format!("%{a}{b}");
                prop_assert_eq!(percent_decode(&s), s.replace('+', " "));
            }

            #[test]
            fn any_header_value_is_read_without_panicking(value in "[\\x20-\\x7e]{0,200}") {
                let r = req(&format!("/x?token={}", encode(&value)), &[
                    ("authorization", value.as_str()),
                    ("auth-token", value.as_str()),
                ]);
                for source in all_sources() {
                    let _ = source.read(&r);
                }
            }

            #[test]
            fn basic_credentials_round_trip(user in "[^:\\x00-\\x1f]{1,40}", password in "\\PC{0,40}") {
                use base64::Engine as _;
                let encoded = base64::engine::general_purpose::STANDARD
                    .encode(format!("{user}:{password}"));
                let r = req("/", &[("authorization", &format!("Basic {encoded}"))]);
                let got = CredentialSource::Basic.read(&r);
                prop_assert_eq!(got, Some(Credential::Basic { user, password }));
            }

            #[test]
            fn bearer_and_query_tokens_round_trip(token in "[!-~]{1,200}") {
                let r = req("/", &[("authorization", &format!("Bearer {token}"))]);
                prop_assert_eq!(
                    CredentialSource::Bearer.read(&r),
                    Some(Credential::Token(token.clone()))
                );
                let r = req(&format!("/x?a=1&token={}", encode(&token)), &[]);
                prop_assert_eq!(
                    CredentialSource::Query("token").read(&r),
                    Some(Credential::Token(token))
                );
            }
        }
    }
}
