//! Scopes and assignments: a user holds roles globally or within a scope (`org:2`,
//! `desk:17`); a scope may have a parent whose grants apply inside it.
//!
//! ```
//! use rbac_core::{Scope, ScopeKinds};
//!
//! let kinds = ScopeKinds::new(["hospital", "ward"]);
//! let ward = kinds.parse("ward:7").expect("a declared kind");
//! assert_eq!(ward, Scope::new("ward", 7).expect("a valid kind"));
//! assert_eq!(ward.to_string(), "ward:7");
//! // A kind nobody declared is no scope at all.
//! assert!(kinds.parse("team:1").is_none());
//! ```

use std::fmt;
use std::hash::{Hash, Hasher};

use crate::ids::RoleId;

/// How deep scopes nest at most.
pub const MAX_SCOPE_DEPTH: usize = 16;

/// The most bytes in a scope kind.
pub const SCOPE_KIND_MAX: usize = 16;

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
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scope {
    /// What kind of thing it is (`org`, `desk`).
    pub kind: ScopeKind,
    /// Which one.
    pub id: i64,
}

impl Hash for Scope {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.fingerprint());
    }
}

impl Scope {
    /// A 64-bit digest of the scope (equal scopes, equal digests): what it hashes as, and
    /// what the hot path compares before the whole scope.
    #[inline]
    pub fn fingerprint(&self) -> u64 {
        let (lo, hi) = self.kind.words();
        (lo ^ hi.rotate_left(29)).rotate_left(17)
            ^ (self.id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    /// The scope `kind:id`, if `kind` is a valid kind.
    pub fn new(kind: &str, id: i64) -> Option<Self> {
        Some(Scope {
            kind: ScopeKind::new(kind)?,
            id,
        })
    }

    /// Parses `kind:id` (whether the kind is declared is the caller's question).
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, id) = text.split_once(':')?;
        if id.starts_with('+') || (id.len() > 1 && id.starts_with('0')) {
            return None;
        }
        Scope::new(kind, id.parse().ok()?)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
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
        assert_eq!(s.kind.as_str(), "org");
        assert_eq!(s.id, 2);
        assert_eq!(s.to_string(), "org:2");
        assert_eq!(Scope::parse("desk:-17").map(|s| s.id), Some(-17));
        for bad in [
            "",
            "org",
            "org:",
            ":2",
            "Org:2",
            "org:+2",
            "org:02",
            "org:2x",
            "org 2",
            "a_very_long_kind_name:1",
            "org:99999999999999999999",
        ] {
            assert!(Scope::parse(bad).is_none(), "{bad:?} parsed");
        }
        assert!(Scope::parse("sixteen_chars_ok:0").is_some());
    }

    #[test]
    fn only_declared_kinds_parse() {
        let kinds = ScopeKinds::new(["org", "desk"]);
        assert!(kinds.parse("org:2").is_some());
        assert!(kinds.parse("desk:17").is_some());
        assert!(kinds.parse("tenant:1").is_none());
    }
}
