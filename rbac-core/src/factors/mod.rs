//! Second-factor primitives: TOTP codes (RFC 6238: SHA-1, 30 s, 6 digits, what
//! authenticator apps expect), their `otpauth://` URI and QR code, and recovery codes.
//!
//! ```
//! use rbac_core::factors::Factors;
//!
//! let login = Factors::PASSWORD | Factors::TOTP;
//! assert!(login.has_second_factor());
//! assert!(login.contains(Factors::PASSWORD));
//! assert_eq!(login.names(), ["password", "totp"]);
//! assert!(!Factors::PASSWORD.has_second_factor());
//! ```

pub(crate) mod facet;
#[cfg(feature = "passkeys")]
pub(crate) mod passkey_login;
pub(crate) mod passkeys;
pub(crate) mod port;
pub(crate) mod second_factor;

use rand::Rng;
#[cfg(feature = "totp")]
use subtle::ConstantTimeEq;
#[cfg(feature = "totp")]
use totp_rs::{Algorithm, TOTP};

use crate::ids::{Timestamp, UserId};

/// The factors a login proved: a password, a TOTP code, a recovery code, a passkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Factors(u8);

impl Factors {
    /// No factor.
    pub const NONE: Factors = Factors(0);
    /// The account's password.
    pub const PASSWORD: Factors = Factors(1);
    /// A time-based one-time code (RFC 6238).
    pub const TOTP: Factors = Factors(2);
    /// A single-use recovery code.
    pub const RECOVERY_CODE: Factors = Factors(4);
    /// A passkey (WebAuthn assertion).
    pub const PASSKEY: Factors = Factors(8);
    const NAMES: [(Factors, &'static str); 4] = [
        (Factors::PASSWORD, "password"),
        (Factors::TOTP, "totp"),
        (Factors::RECOVERY_CODE, "recovery_code"),
        (Factors::PASSKEY, "passkey"),
    ];

    /// The stored number.
    pub fn bits(self) -> i16 {
        i16::from(self.0)
    }

    /// From the stored number (unknown bits are dropped).
    pub fn from_bits(bits: i16) -> Self {
        Factors((bits & 0x0f) as u8)
    }

    /// Whether every factor of `other` is in this set.
    pub fn contains(self, other: Factors) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether a factor beyond the password was proven (a TOTP code, a recovery code or a
    /// passkey).
    pub fn has_second_factor(self) -> bool {
        self.0 & (Factors::TOTP.0 | Factors::RECOVERY_CODE.0 | Factors::PASSKEY.0) != 0
    }

    /// The factors' names (`password`, `totp`, `recovery_code`, `passkey`), in that order.
    pub fn names(self) -> Vec<&'static str> {
        Factors::NAMES
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl std::ops::BitOr for Factors {
    type Output = Factors;
    fn bitor(self, rhs: Factors) -> Factors {
        Factors(self.0 | rhs.0)
    }
}

/// A user's TOTP factor as stored: the secret sealed under the secrets key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpFactor {
    /// Whose factor.
    pub user_id: UserId,
    /// The sealed secret (never the secret itself).
    pub sealed: String,
    /// Whether a correct code confirmed it (only then does it guard logins).
    pub confirmed: bool,
    /// The last time step whose code was accepted (a code is accepted once).
    pub last_step: i64,
    /// When enrolment began.
    pub created_at: Timestamp,
}

/// Seconds per TOTP time step.
pub const TOTP_STEP: i64 = 30;
/// Digits per TOTP code.
pub const TOTP_DIGITS: usize = 6;
/// Bytes of a TOTP secret (160 bits, as RFC 4226 recommends).
pub const TOTP_SECRET_BYTES: usize = 20;
/// How many recovery codes an enrolment issues.
pub const RECOVERY_CODES: usize = 10;

#[cfg(feature = "totp")]
/// The sealing context of a user's TOTP secret (a secret sealed for one user does not open
/// as another's).
pub(crate) fn totp_context(user: UserId) -> Vec<u8> {
    format!("totp:{user}").into_bytes()
}

/// The digest context of a user's recovery codes.
pub(crate) fn recovery_context(user: UserId) -> Vec<u8> {
    format!("recovery:{user}").into_bytes()
}

#[cfg(feature = "totp")]
fn totp(secret: &[u8], issuer: &str, account: &str) -> TOTP {
    TOTP::new_unchecked(
        Algorithm::SHA1,
        TOTP_DIGITS,
        1,
        TOTP_STEP as u64,
        secret.to_vec(),
        Some(issuer.to_string()),
        account.to_string(),
    )
}

#[cfg(feature = "totp")]
/// A new random TOTP secret.
pub fn new_totp_secret() -> Vec<u8> {
    let mut secret = vec![0u8; TOTP_SECRET_BYTES];
    rand::rngs::OsRng.fill(&mut secret[..]);
    secret
}

#[cfg(feature = "totp")]
/// The secret in base32, as typed into an authenticator app by hand.
pub fn totp_secret_base32(secret: &[u8]) -> String {
    totp(secret, "", "").get_secret_base32()
}

#[cfg(feature = "totp")]
/// The secret of its base32 form (what an app is given by hand); `None` if malformed.
pub fn decode_totp_secret(base32: &str) -> Option<Vec<u8>> {
    totp_rs::Secret::Encoded(base32.to_string()).to_bytes().ok()
}

#[cfg(feature = "totp")]
/// The `otpauth://totp/…` URI an authenticator app scans.
pub fn totp_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    totp(secret, issuer, account).get_url()
}

#[cfg(feature = "totp")]
/// The URI as a QR code, in SVG.
pub fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build(),
        // A URI of a few hundred bytes always fits a QR code.
        Err(_) => String::new(),
    }
}

#[cfg(feature = "totp")]
/// The code of time step `step`.
pub fn totp_code(secret: &[u8], step: i64) -> String {
    totp(secret, "", "").generate((step.max(0) * TOTP_STEP) as u64)
}

/// The time step of `at`.
pub fn totp_step(at: Timestamp) -> i64 {
    at.div_euclid(TOTP_STEP)
}

#[cfg(feature = "totp")]
/// The step of `at`, the one before or the one after (clock drift) whose code is `code`;
/// compared in constant time.
pub fn matching_step(secret: &[u8], code: &str, at: Timestamp) -> Option<i64> {
    let code = code.trim();
    if code.len() != TOTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = totp_step(at);
    let mut found = None;
    for step in [now - 1, now, now + 1] {
        if bool::from(totp_code(secret, step).as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    found
}

/// Whether `code` has the shape of a TOTP code (six digits) rather than a recovery code.
pub fn looks_like_totp(code: &str) -> bool {
    let code = code.trim();
    code.len() == TOTP_DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// The alphabet of recovery codes: lower-case letters and digits without look-alikes.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// Ten new recovery codes, `xxxxx-xxxxx` (about 49 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: String = (0..10)
                .map(|_| RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A recovery code as typed, normalised: lower case, without spaces or dashes.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "totp")]
    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1, last six digits.
        let secret = b"12345678901234567890";
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(totp_code(secret, totp_step(t)), code);
        }
    }

    #[cfg(feature = "totp")]
    #[test]
    fn a_code_matches_its_step_and_the_neighbours_only() {
        let secret = new_totp_secret();
        let at = 1_700_000_000;
        let step = totp_step(at);
        for s in [step - 1, step, step + 1] {
            assert_eq!(matching_step(&secret, &totp_code(&secret, s), at), Some(s));
        }
        assert_eq!(
            matching_step(&secret, &totp_code(&secret, step - 2), at),
            None
        );
        assert_eq!(
            matching_step(&secret, &totp_code(&secret, step + 2), at),
            None
        );
        assert_eq!(matching_step(&secret, "12345", at), None);
        assert_eq!(matching_step(&secret, "abcdef", at), None);
    }

    #[cfg(feature = "totp")]
    #[test]
    fn uri_and_qr_name_the_account() {
        let secret = new_totp_secret();
        let uri = totp_uri(&secret, "rbac", "ann:x");
        assert!(
            uri.starts_with("otpauth://totp/rbac:ann%3Ax?secret="),
            "{uri}"
        );
        assert!(uri.contains(&totp_secret_base32(&secret)));
        assert_eq!(
            decode_totp_secret(&totp_secret_base32(&secret)),
            Some(secret.clone())
        );
        assert!(qr_svg(&uri).starts_with("<?xml"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalise() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert_eq!(normalise_recovery_code(" ABCDE-fghjk "), "abcdefghjk");
        assert!(!looks_like_totp(&codes[0]));
        assert!(looks_like_totp(" 123456"));
    }
}
