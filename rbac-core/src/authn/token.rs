//! JWT issue and verification: HS256 with a `kid`, a list of keys for rotation.
//!
//! ```
//! use rbac_core::{Claims, JwtCodec, JwtKey};
//!
//! let codec = JwtCodec::new(JwtKey::from_secret("at least 32 bytes of signing secret"), []);
//! let now = rbac_core::now();
//! let claims = Claims { sub: "7".into(), sid: "s1".into(), name: "house".into(), iat: now, nbf: now, exp: now + 60 };
//! let token = codec.issue(&claims).expect("signed");
//! assert_eq!(codec.verify(&token).expect("valid").user_id(), Some(7));
//! // Another key does not verify it.
//! let other = JwtCodec::new(JwtKey::from_secret("another signing secret, 32 bytes or more"), []);
//! assert!(other.verify(&token).is_err());
//! ```

use std::collections::HashMap;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AuthFailure, Error, Result};
use crate::model::{Timestamp, UserId};

/// One HMAC key with its id.
#[derive(Clone)]
pub struct JwtKey {
    /// The key id put in the token header.
    pub kid: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl JwtKey {
    /// A key whose id is derived from the secret (first 8 bytes of its SHA-256, hex).
    pub fn from_secret(secret: impl AsRef<[u8]>) -> Self {
        let secret = secret.as_ref().to_vec();
        let kid = hex::encode(&Sha256::digest(&secret)[..8]);
        JwtKey { kid, secret }
    }
}

/// The claims of a session token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id, as a string.
    pub sub: String,
    /// The session id.
    pub sid: String,
    /// The user name at issue time (informational).
    #[serde(default)]
    pub name: String,
    /// Issued at.
    pub iat: Timestamp,
    /// Not valid before.
    pub nbf: Timestamp,
    /// Expires at.
    pub exp: Timestamp,
}

impl Claims {
    /// The user id the token names.
    pub fn user_id(&self) -> Option<UserId> {
        self.sub.parse().ok()
    }
}

/// Signs with the current key; verifies with the current and previous keys.
pub struct JwtCodec {
    kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl std::fmt::Debug for JwtCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtCodec")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl JwtCodec {
    /// A codec signing with `current` and also accepting tokens of `previous` keys.
    pub fn new(current: JwtKey, previous: impl IntoIterator<Item = JwtKey>) -> Self {
        // With only the rust_crypto backend compiled in this is the provider anyway; an
        // error means one is installed already.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        let mut decoding = HashMap::new();
        for key in previous {
            decoding.insert(key.kid.clone(), DecodingKey::from_secret(&key.secret));
        }
        decoding.insert(
            current.kid.clone(),
            DecodingKey::from_secret(&current.secret),
        );
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "nbf", "sub"]);
        JwtCodec {
            kid: current.kid.clone(),
            encoding: EncodingKey::from_secret(&current.secret),
            decoding,
            validation,
        }
    }

    /// The id of the signing key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs claims into a compact JWT.
    pub fn issue(&self, claims: &Claims) -> Result<String> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| Error::internal(format!("jwt encode: {e}")))
    }

    /// Verifies signature, algorithm, key id and time claims; returns the claims.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthFailure> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthFailure::Invalid)?;
        if header.alg != Algorithm::HS256 {
            return Err(AuthFailure::Invalid);
        }
        let key = match &header.kid {
            Some(kid) => self.decoding.get(kid).ok_or(AuthFailure::Invalid)?,
            None => self.decoding.get(&self.kid).ok_or(AuthFailure::Invalid)?,
        };
        match jsonwebtoken::decode::<Claims>(token, key, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) => Err(match e.kind() {
                ErrorKind::ExpiredSignature => AuthFailure::Expired,
                _ => AuthFailure::Invalid,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::now;
    use base64::Engine;

    fn claims(iat: i64, exp: i64) -> Claims {
        Claims {
            sub: "7".into(),
            sid: "s1".into(),
            name: "lory".into(),
            iat,
            nbf: iat,
            exp,
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let codec = JwtCodec::new(JwtKey::from_secret("k1-secret-k1-secret-k1-secret-32"), []);
        let t = now();
        let tok = codec.issue(&claims(t, t + 60)).expect("issue");
        assert_eq!(codec.verify(&tok).expect("verify").user_id(), Some(7));
        // expired
        let old = codec.issue(&claims(t - 120, t - 60)).expect("issue");
        assert_eq!(codec.verify(&old), Err(AuthFailure::Expired));
        // not yet valid
        let mut future = claims(t, t + 600);
        future.nbf = t + 300;
        assert_eq!(
            codec.verify(&codec.issue(&future).expect("issue")),
            Err(AuthFailure::Invalid)
        );
        // wrong key
        let other = JwtCodec::new(JwtKey::from_secret("another-secret-another-secret-32"), []);
        assert_eq!(other.verify(&tok), Err(AuthFailure::Invalid));
        // tampered payload
        let parts: Vec<&str> = tok.split('.').collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let forged = b64.encode(br#"{"sub":"1","sid":"s1","iat":0,"nbf":0,"exp":99999999999}"#);
        assert_eq!(
            codec.verify(&format!("{}.{}.{}", parts[0], forged, parts[2])),
            Err(AuthFailure::Invalid)
        );
        // alg none
        let none = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(
            codec.verify(&format!("{}.{}.", none, parts[1])),
            Err(AuthFailure::Invalid)
        );
        assert_eq!(codec.verify("garbage"), Err(AuthFailure::Invalid));
    }

    #[test]
    fn rotation_keeps_old_tokens_valid() {
        let k1 = JwtKey::from_secret("first-secret-first-secret-first!");
        let k2 = JwtKey::from_secret("second-secret-second-secret-sec!");
        let old = JwtCodec::new(k1.clone(), []);
        let t = now();
        let tok = old.issue(&claims(t, t + 60)).expect("issue");
        let rotated = JwtCodec::new(k2, [k1]);
        assert!(rotated.verify(&tok).is_ok());
        let fresh = rotated.issue(&claims(t, t + 60)).expect("issue");
        assert_eq!(old.verify(&fresh), Err(AuthFailure::Invalid));
    }
}

/// A new opaque session token: 122 random bits in the UUID v4 text form
/// (`b2f57719-8d4a-4822-8255-b14f3e3d2339`).
pub fn new_opaque_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Whether a presented token has the opaque token's shape (so it is not a JWT).
pub fn is_opaque_token(token: &str) -> bool {
    let b = token.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The session id an opaque token is stored under: its SHA-256, hex (the token itself is
/// never stored).
pub fn opaque_session_id(token: &str) -> String {
    hex::encode(Sha256::digest(token.to_ascii_lowercase().as_bytes()))
}

#[cfg(test)]
mod opaque_tests {
    use super::*;

    #[test]
    fn opaque_tokens_look_like_uuids_and_hash_stably() {
        let t = new_opaque_token();
        assert!(is_opaque_token(&t), "{t}");
        assert_eq!(&t[14..15], "4");
        assert_ne!(t, new_opaque_token());
        assert!(!is_opaque_token("eyJhbGciOiJIUzI1NiJ9.e30.sig"));
        assert!(!is_opaque_token(&t[1..]));
        assert!(!is_opaque_token(&t.replace('-', "x")));
        assert_eq!(opaque_session_id(&t), opaque_session_id(&t.to_uppercase()));
        assert_eq!(opaque_session_id(&t).len(), 64);
    }
}
