//! The secrets key: seals second-factor secrets at rest (ChaCha20-Poly1305) and keys the
//! digests of recovery codes (HMAC-SHA256), so a copy of the database alone reveals
//! neither. It is never the JWT secret and never stored in the database.
//!
//! ```
//! use rbac_core::SecretsKey;
//!
//! let key = SecretsKey::generate();
//! let sealed = key.seal(b"JBSWY3DPEHPK3PXP", b"totp:7");
//! assert_eq!(key.open(&sealed, b"totp:7").as_deref(), Some(&b"JBSWY3DPEHPK3PXP"[..]));
//! // Sealed for one user, it does not open as another's.
//! assert_eq!(key.open(&sealed, b"totp:8"), None);
//! // What a key file holds is the key.
//! let again = SecretsKey::from_file_contents(&key.to_file_contents()).expect("a key file");
//! assert!(again.open(&sealed, b"totp:7").is_some());
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Why a secrets key file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file could not be read.
    #[error("cannot read the secrets key file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds no key.
    #[error("{}: {source}", path.display())]
    Contents {
        /// The file.
        path: PathBuf,
        /// Why.
        source: BadSecretsKey,
    },
    /// A new key could not be written.
    #[error("cannot create the secrets key file {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Logs a warning when others than its owner may read the key file at `path`.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(file = %path.display(), "the secrets key file is readable by others: chmod 600 it");
            }
        }
    }
}

/// Why a secrets key file's contents were refused.
#[derive(Debug, thiserror::Error)]
#[error("a secrets key is 32 bytes written as 64 hexadecimal digits")]
pub struct BadSecretsKey;

/// The 32-byte key behind sealed secrets. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct SecretsKey {
    seal: [u8; 32],
    digest: [u8; 32],
    raw: [u8; 32],
}

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretsKey(..)")
    }
}

/// HMAC-SHA256 of `parts` under `key`.
fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes a key of any length.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

impl SecretsKey {
    /// The key of these 32 bytes; sealing and digests use keys derived apart from it.
    pub fn from_bytes(raw: [u8; 32]) -> Self {
        SecretsKey {
            seal: mac(&raw, &[b"rbac seal v1"]),
            digest: mac(&raw, &[b"rbac digest v1"]),
            raw,
        }
    }

    /// A new random key.
    pub fn generate() -> Self {
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        SecretsKey::from_bytes(raw)
    }

    /// The key a key file holds: 64 hexadecimal digits (surrounding whitespace ignored).
    pub fn from_file_contents(text: &str) -> Result<Self, BadSecretsKey> {
        let bytes = hex::decode(text.trim()).map_err(|_| BadSecretsKey)?;
        let raw: [u8; 32] = bytes.try_into().map_err(|_| BadSecretsKey)?;
        Ok(SecretsKey::from_bytes(raw))
    }

    /// What a key file holds for this key.
    pub fn to_file_contents(&self) -> String {
        format!("{}\n", hex::encode(self.raw))
    }

    /// The key in the file at `path` (64 hexadecimal digits); a warning is logged when
    /// others than its owner may read it.
    pub fn read_file(path: &Path) -> Result<Self, KeyFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| KeyFileError::Read {
            path: path.to_path_buf(),
            source: e,
        })?;
        warn_if_readable_by_others(path);
        SecretsKey::from_file_contents(&text).map_err(|e| KeyFileError::Contents {
            path: path.to_path_buf(),
            source: e,
        })
    }

    /// The key in the file at `path`, or, when there is no file, a new key written there
    /// readable by its owner only (mode 0600). The file is written whole and then linked
    /// into place, so it is never seen half-written, and of two processes starting at once
    /// one key wins. Keep the file: second factors sealed under a key are unreadable
    /// without it.
    pub fn read_or_create_file(path: &Path) -> Result<Self, KeyFileError> {
        if path.exists() {
            return SecretsKey::read_file(path);
        }
        let key = SecretsKey::generate();
        let mut staging = path.as_os_str().to_os_string();
        staging.push(format!(".{}.tmp", std::process::id()));
        let staging = PathBuf::from(staging);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let written = options.open(&staging).and_then(|mut file| {
            file.write_all(key.to_file_contents().as_bytes())?;
            file.sync_all()
        });
        let write_error = |e| KeyFileError::Write {
            path: path.to_path_buf(),
            source: e,
        };
        if let Err(e) = written {
            let _ = std::fs::remove_file(&staging);
            return Err(write_error(e));
        }
        let linked = std::fs::hard_link(&staging, path);
        let _ = std::fs::remove_file(&staging);
        match linked {
            Ok(()) => {
                tracing::info!(file = %path.display(), "generated a new secrets key");
                Ok(key)
            }
            // Another process made it first: theirs is the key.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => SecretsKey::read_file(path),
            Err(e) => Err(write_error(e)),
        }
    }

    /// Seals `plain`, bound to `context` (whose it is): `v1.` and the base64 of nonce and
    /// ciphertext.
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> String {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.seal));
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        // Encryption into a Vec cannot fail for inputs this small.
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context,
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!(
            "v1.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
        )
    }

    /// Opens what [`SecretsKey::seal`] sealed for the same `context`; `None` if it was
    /// sealed under another key or context, or altered.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Option<Vec<u8>> {
        let body = sealed.strip_prefix("v1.")?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        ChaCha20Poly1305::new(Key::from_slice(&self.seal))
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .ok()
    }

    /// The keyed digest of `value` in `context`, as hex (what is stored of a recovery code).
    pub fn digest(&self, context: &[u8], value: &[u8]) -> String {
        hex::encode(mac(&self.digest, &[context, value]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_with_the_same_key_and_context() {
        let key = SecretsKey::generate();
        let sealed = key.seal(b"secret", b"totp:1");
        assert!(!sealed.contains("secret"));
        assert_eq!(
            key.open(&sealed, b"totp:1").as_deref(),
            Some(&b"secret"[..])
        );
        assert_eq!(key.open(&sealed, b"totp:2"), None);
        assert_eq!(SecretsKey::generate().open(&sealed, b"totp:1"), None);
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(key.open(&tampered, b"totp:1"), None);
    }

    #[test]
    fn key_files_round_trip_and_refuse_bad_contents() {
        let key = SecretsKey::generate();
        let again = SecretsKey::from_file_contents(&key.to_file_contents()).expect("key");
        assert_eq!(again.digest(b"c", b"v"), key.digest(b"c", b"v"));
        assert_ne!(
            SecretsKey::generate().digest(b"c", b"v"),
            key.digest(b"c", b"v")
        );
        assert!(SecretsKey::from_file_contents("abcd").is_err());
        assert!(SecretsKey::from_file_contents(&"zz".repeat(32)).is_err());
        assert_eq!(format!("{key:?}"), "SecretsKey(..)");
    }
}
