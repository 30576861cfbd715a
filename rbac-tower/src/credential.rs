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
}

impl CredentialSource {
    /// The `Auth-Token` header of the platform documents.
    pub fn auth_token() -> Self {
        CredentialSource::Header(HeaderName::from_static("auth-token"))
    }

    /// Reads this source's credential from a request, if present and non-empty.
    pub fn read<B>(&self, req: &Request<B>) -> Option<Credential> {
        if let CredentialSource::Basic = self {
            return read_basic(req);
        }
        let token = match self {
            CredentialSource::Basic => return None,
            CredentialSource::Bearer => {
                let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
                strip_bearer(value)?.to_string()
            }
            CredentialSource::Header(name) => {
                let value = req.headers().get(name)?.to_str().ok()?.trim();
                strip_bearer(value).unwrap_or(value).to_string()
            }
            CredentialSource::Query(name) => query_param(req.uri().query()?, name)?,
        };
        let token = token.trim().to_string();
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
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
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
}
