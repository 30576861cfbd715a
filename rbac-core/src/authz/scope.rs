//! Scopes and assignments: a user holds roles globally or within a scope (`org:acme`,
//! `ward:cardiology`, `tenant:5f2c…`, `org:2`); a scope may have a parent whose grants
//! apply inside it.
//!
//! ```
//! use rbac_core::{Scope, ScopeKinds};
//!
//! let kinds = ScopeKinds::new(["hospital", "ward"]);
//! let ward = kinds.parse("ward:cardiology").expect("a declared kind");
//! assert_eq!(ward, Scope::new("ward", "cardiology").expect("a valid scope"));
//! assert_eq!((ward.kind().as_str(), ward.id()), ("ward", "cardiology"));
//! assert_eq!(ward.to_string(), "ward:cardiology");
//! // A numeric id is a string of digits.
//! assert_eq!(Scope::new("ward", 7), kinds.parse("ward:7"));
//! // A kind nobody declared is no scope at all.
//! assert!(kinds.parse("team:1").is_none());
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::ids::RoleId;

/// How deep scopes nest at most.
pub const MAX_SCOPE_DEPTH: usize = 16;

/// The most bytes in a scope kind.
pub const SCOPE_KIND_MAX: usize = 16;

/// The most bytes in a scope id (a UUID is 36; stores key scope ids up to this length).
pub const SCOPE_ID_MAX: usize = 64;

/// The kind of a scope (`org`, `desk`): 1 to 16 ASCII lowercase letters, digits, `_`
/// or `-`. Stored inline, so a [`Scope`] is `Copy` and hashes without touching the heap.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ScopeKind([u8; SCOPE_KIND_MAX]);

impl ScopeKind {
    /// The kind named `name`, if it is a valid kind.
    pub fn new(name: &str) -> Option<Self> {
        let bytes = name.as_bytes();
        let valid = !bytes.is_empty()
            && bytes.len() <= SCOPE_KIND_MAX
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-');
        if !valid {
            return None;
        }
        let mut kind = [0u8; SCOPE_KIND_MAX];
        kind[..bytes.len()].copy_from_slice(bytes);
        Some(ScopeKind(kind))
    }

    /// The kind's name.
    pub fn as_str(&self) -> &str {
        let len = self
            .0
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(SCOPE_KIND_MAX);
        // Only ASCII is ever stored.
        std::str::from_utf8(&self.0[..len]).unwrap_or("")
    }

    /// The kind as two words, for hashing.
    #[inline]
    fn words(&self) -> (u64, u64) {
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(&self.0[..8]);
        hi.copy_from_slice(&self.0[8..]);
        (u64::from_le_bytes(lo), u64::from_le_bytes(hi))
    }
}

impl Hash for ScopeKind {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (lo, hi) = self.words();
        state.write_u64(lo ^ hi.rotate_left(29));
    }
}

impl fmt::Debug for ScopeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ScopeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope a role may be assigned within: a kind the application declares and an id.
///
/// The id is 1 to [`SCOPE_ID_MAX`] ASCII letters, digits, `_`, `-` or `.` (not dots
/// alone: `..` is a path, not an id), compared exactly (`Acme` is not `acme`, `007` is not `7`): slugs, UUIDs and numbers fit. Both
/// are stored inline, so a scope is `Copy` and never touches the heap; its 64-bit
/// [fingerprint](Scope::fingerprint) is computed once, when it is made, and is all a
/// lookup hashes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Digest of kind and id (compared first; equal scopes, equal digests).
    fingerprint: u64,
    kind: ScopeKind,
    len: u8,
    id: [u8; SCOPE_ID_MAX],
}

impl Hash for Scope {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.fingerprint);
    }
}

impl Ord for Scope {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.kind, self.id()).cmp(&(other.kind, other.id()))
    }
}

impl PartialOrd for Scope {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Whether `b` may appear in a scope id.
#[inline]
fn id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Writes a displayed id into a scope's inline buffer (fails past its end).
struct IdWriter {
    len: usize,
    id: [u8; SCOPE_ID_MAX],
}

impl fmt::Write for IdWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > SCOPE_ID_MAX {
            return Err(fmt::Error);
        }
        self.id[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl Scope {
    /// A 64-bit digest of the scope (equal scopes, equal digests), computed when the scope
    /// was made: what it hashes as, and what the hot path compares before the whole scope.
    #[inline]
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The scope `kind:id`, if `kind` is a valid kind and `id` displays as a valid id:
    /// `Scope::new("ward", "cardiology")`, `Scope::new("org", 2)`, a `Uuid`.
    pub fn new(kind: &str, id: impl fmt::Display) -> Option<Self> {
        let kind = ScopeKind::new(kind)?;
        let mut text = IdWriter {
            len: 0,
            id: [0; SCOPE_ID_MAX],
        };
        fmt::write(&mut text, format_args!("{id}")).ok()?;
        Scope::from_bytes(kind, &text.id[..text.len])
    }

    /// The scope of `kind` with id `id`, if `id` is a valid id (no formatting: what a
    /// request's scope is read with).
    #[inline]
    pub fn of(kind: ScopeKind, id: &str) -> Option<Self> {
        Scope::from_bytes(kind, id.as_bytes())
    }

    #[inline]
    fn from_bytes(kind: ScopeKind, bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty()
            || bytes.len() > SCOPE_ID_MAX
            || !bytes.iter().all(|b| id_byte(*b))
            || bytes.iter().all(|b| *b == b'.')
        {
            return None;
        }
        let mut id = [0u8; SCOPE_ID_MAX];
        id[..bytes.len()].copy_from_slice(bytes);
        let (lo, hi) = kind.words();
        let mut h = (lo ^ hi.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for word in id[..bytes.len().div_ceil(8) * 8].chunks_exact(8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            h = (h.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
        h ^= h >> 31;
        h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^= h >> 29;
        Some(Scope {
            fingerprint: h,
            kind,
            // At most SCOPE_ID_MAX (64), checked above.
            len: bytes.len() as u8,
            id,
        })
    }

    /// Parses `kind:id` (whether the kind is declared is the caller's question).
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, id) = text.split_once(':')?;
        Scope::of(ScopeKind::new(kind)?, id)
    }

    /// What kind of thing it is (`org`, `ward`).
    #[inline]
    pub fn kind(&self) -> ScopeKind {
        self.kind
    }

    /// Which one (`cardiology`, `2`).
    #[inline]
    pub fn id(&self) -> &str {
        // Only ASCII is ever stored.
        std::str::from_utf8(&self.id[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id())
    }
}

/// One role a user holds: everywhere (`scope: None`) or within a scope and its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Assignment {
    /// The role.
    pub role_id: RoleId,
    /// Where it holds (`None`: everywhere).
    pub scope: Option<Scope>,
}

impl Assignment {
    /// A role held everywhere.
    pub fn global(role_id: RoleId) -> Self {
        Assignment {
            role_id,
            scope: None,
        }
    }

    /// A role held within `scope`.
    pub fn within(role_id: RoleId, scope: Scope) -> Self {
        Assignment {
            role_id,
            scope: Some(scope),
        }
    }
}

/// The scope kinds an application declares; any other kind is refused where a scope is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeKinds(Vec<ScopeKind>);

impl ScopeKinds {
    /// The kinds named; an invalid name is left out (and [`ScopeKinds::parse`] refuses it).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        ScopeKinds(names.into_iter().filter_map(ScopeKind::new).collect())
    }

    /// Whether `kind` is declared.
    pub fn declares(&self, kind: ScopeKind) -> bool {
        self.0.contains(&kind)
    }

    /// Parses `kind:id` with a declared kind.
    pub fn parse(&self, text: &str) -> Option<Scope> {
        Scope::parse(text).filter(|s| self.declares(s.kind))
    }

    /// The declared kinds.
    pub fn kinds(&self) -> &[ScopeKind] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print_as_kind_colon_id() {
        let s = Scope::parse("org:2").expect("org:2");
        assert_eq!(s.kind().as_str(), "org");
        assert_eq!(s.id(), "2");
        assert_eq!(s.to_string(), "org:2");
        assert_eq!(Scope::new("org", 2), Some(s));
        assert_eq!(
            Scope::parse("desk:-17").map(|s| s.to_string()),
            Some("desk:-17".into())
        );
        let uuid = "5f2c9a1e-0b7d-4c3a-9e8f-1a2b3c4d5e6f";
        let tenant = Scope::parse(&format!("tenant:{uuid}")).expect("a UUID");
        assert_eq!(tenant.id(), uuid);
        assert_eq!(
            Scope::parse("hospital:st-anne.v2_B").map(|s| s.id().len()),
            Some(12)
        );
        let longest = "x".repeat(SCOPE_ID_MAX);
        assert!(Scope::new("org", &longest).is_some());
        for bad in [
            "",
            "org",
            "org:",
            ":2",
            "Org:2",
            "org:2 x",
            "org 2",
            "org:a/b",
            "org:a:b",
            "org:caf\u{e9}",
            "org:%41",
            "org:+2",
            "org:.",
            "org:..",
            "org:...",
            "a_very_long_kind_name:1",
        ] {
            assert!(Scope::parse(bad).is_none(), "{bad:?} parsed");
        }
        assert!(Scope::new("org", format!("{longest}x")).is_none());
        assert!(Scope::parse("sixteen_chars_ok:0").is_some());
        // Dots with something else are ids (versions, domains); dots alone are paths.
        assert!(Scope::parse("org:.a").is_some() && Scope::parse("org:v1.2").is_some());
    }

    #[test]
    fn ids_compare_exactly_and_digests_follow_equality() {
        let s = |t: &str| Scope::parse(t).expect("valid");
        assert_ne!(s("org:007"), s("org:7"));
        assert_ne!(s("org:Acme"), s("org:acme"));
        assert_ne!(s("org:1"), s("desk:1"));
        assert_eq!(s("org:acme"), Scope::new("org", "acme").expect("valid"));
        assert_eq!(s("org:acme").fingerprint(), s("org:acme").fingerprint());
        assert!(s("org:10") < s("org:9"), "ids order as text");
        assert!(s("desk:9") < s("org:1"), "kinds order first");
        // Digests spread over the 64 bits the grants' mask uses.
        let bits: std::collections::HashSet<u64> = (0..1000)
            .map(|n| Scope::new("org", n).expect("valid").fingerprint() % 64)
            .collect();
        assert_eq!(bits.len(), 64);
    }

    #[test]
    fn only_declared_kinds_parse() {
        let kinds = ScopeKinds::new(["org", "desk"]);
        assert!(kinds.parse("org:2").is_some());
        assert!(kinds.parse("desk:sports").is_some());
        assert!(kinds.parse("tenant:1").is_none());
    }
}
