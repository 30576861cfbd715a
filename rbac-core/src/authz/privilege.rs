//! Privilege codes interned to dense indices, and bitset privilege sets.
//!
//! ```
//! use rbac_core::PrivilegeRegistry;
//!
//! let registry = PrivilegeRegistry::new(["RecordRead", "RecordWrite"]);
//! let read = registry.id("RecordRead").expect("declared");
//! let nurse = registry.set_of(["RecordRead"]).expect("known codes");
//! assert!(nurse.contains(read));
//! assert!(!nurse.is_superset(&registry.all()));
//! // A misspelled code is an error, never an empty grant.
//! assert!(registry.set_of(["RecordRaed"]).is_err());
//! ```

use std::collections::HashMap;
use std::sync::Arc;

/// A privilege code interned to its dense index in a [`PrivilegeRegistry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrivilegeId(pub u32);

/// The closed set of privilege codes a deployment knows, each with a dense index.
#[derive(Debug)]
pub struct PrivilegeRegistry {
    codes: Vec<Arc<str>>,
    index: HashMap<Arc<str>, PrivilegeId>,
}

impl PrivilegeRegistry {
    /// A registry of exactly the codes an application declares (duplicates and `Null`
    /// ignored), in their order.
    pub fn new<I, S>(codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut reg = PrivilegeRegistry {
            codes: Vec::new(),
            index: HashMap::new(),
        };
        for code in codes {
            reg.intern(code.as_ref());
        }
        reg
    }

    fn intern(&mut self, code: &str) {
        if self.index.contains_key(code) {
            return;
        }
        let id = PrivilegeId(self.codes.len() as u32);
        let code: Arc<str> = Arc::from(code);
        self.codes.push(code.clone());
        self.index.insert(code, id);
    }

    /// The index of a code, if the registry knows it.
    pub fn id(&self, code: &str) -> Option<PrivilegeId> {
        self.index.get(code).copied()
    }

    /// The code of an index.
    pub fn code(&self, id: PrivilegeId) -> Option<&str> {
        self.codes.get(id.0 as usize).map(|c| &**c)
    }

    /// How many codes the registry holds.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether the registry holds no code.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Every code, in index order.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.codes.iter().map(|c| &**c)
    }

    /// The set holding every code.
    pub fn all(&self) -> PrivilegeSet {
        let mut set = PrivilegeSet::with_capacity(self.len());
        for i in 0..self.len() {
            set.insert(PrivilegeId(i as u32));
        }
        set
    }

    /// Interns a list of codes into a set; `Null` is skipped, an unknown code is returned as `Err`.
    pub fn set_of<'a, I>(&self, codes: I) -> Result<PrivilegeSet, String>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut set = PrivilegeSet::with_capacity(self.len());
        for code in codes {
            match self.id(code) {
                Some(id) => set.insert(id),
                None => return Err(code.to_string()),
            }
        }
        Ok(set)
    }

    /// Interns codes, silently dropping the ones the registry does not know (for stored data).
    pub fn set_of_known<'a, I>(&self, codes: I) -> PrivilegeSet
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut set = PrivilegeSet::with_capacity(self.len());
        for id in codes.into_iter().filter_map(|c| self.id(c)) {
            set.insert(id);
        }
        set
    }

    /// The codes of a set, in index order.
    pub fn codes_of(&self, set: &PrivilegeSet) -> Vec<String> {
        set.iter()
            .filter_map(|id| self.code(id).map(str::to_string))
            .collect()
    }
}

/// A set of privileges as a bitset over registry indices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivilegeSet {
    words: Vec<u64>,
}

impl PrivilegeSet {
    /// An empty set sized for `n` privileges.
    pub fn with_capacity(n: usize) -> Self {
        PrivilegeSet {
            words: vec![0; n.div_ceil(64)],
        }
    }

    /// Adds a privilege.
    pub fn insert(&mut self, id: PrivilegeId) {
        let w = (id.0 / 64) as usize;
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << (id.0 % 64);
    }

    /// Removes a privilege.
    pub fn remove(&mut self, id: PrivilegeId) {
        if let Some(word) = self.words.get_mut((id.0 / 64) as usize) {
            *word &= !(1 << (id.0 % 64));
        }
    }

    /// Adds every privilege of `other`.
    pub fn union_with(&mut self, other: &PrivilegeSet) {
        if self.words.len() < other.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (mine, theirs) in self.words.iter_mut().zip(&other.words) {
            *mine |= theirs;
        }
    }

    /// Whether the set holds a privilege: one bit test.
    #[inline]
    pub fn contains(&self, id: PrivilegeId) -> bool {
        match self.words.get((id.0 / 64) as usize) {
            Some(word) => word & (1 << (id.0 % 64)) != 0,
            None => false,
        }
    }

    /// Whether every privilege of `other` is in this set.
    pub fn is_superset(&self, other: &PrivilegeSet) -> bool {
        other.words.iter().enumerate().all(|(i, w)| {
            let mine = self.words.get(i).copied().unwrap_or(0);
            w & !mine == 0
        })
    }

    /// The privileges of `other` missing from this set.
    pub fn missing_from<'a>(
        &'a self,
        other: &'a PrivilegeSet,
    ) -> impl Iterator<Item = PrivilegeId> + 'a {
        other.iter().filter(move |id| !self.contains(*id))
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// The number of privileges in the set.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The privileges in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = PrivilegeId> + '_ {
        self.words.iter().enumerate().flat_map(|(i, w)| {
            let w = *w;
            (0..64u32)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| PrivilegeId(i as u32 * 64 + b))
        })
    }
}

/// What a route or action requires of the caller's privileges.
#[derive(Debug, Clone, PartialEq, Eq)]
// Exhaustive on purpose: every store (or layer) interprets each variant, and a new one
// must fail their builds rather than fall into a default.
pub enum Requirement {
    /// Authentication only (`Null`).
    Authenticated,
    /// One privilege.
    One(PrivilegeId),
    /// At least one of these.
    AnyOf(Vec<PrivilegeId>),
    /// Every one of these.
    AllOf(Vec<PrivilegeId>),
}

impl Requirement {
    /// Checks the requirement against a set; on refusal returns the (first) missing privilege.
    #[inline]
    pub fn check(&self, set: &PrivilegeSet) -> Result<(), Option<PrivilegeId>> {
        match self {
            Requirement::Authenticated => Ok(()),
            Requirement::One(p) => {
                if set.contains(*p) {
                    Ok(())
                } else {
                    Err(Some(*p))
                }
            }
            Requirement::AnyOf(ps) => {
                if ps.iter().any(|p| set.contains(*p)) {
                    Ok(())
                } else {
                    Err(ps.first().copied())
                }
            }
            Requirement::AllOf(ps) => match ps.iter().find(|p| !set.contains(**p)) {
                None => Ok(()),
                Some(p) => Err(Some(*p)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn registry_interns_declared_codes_densely() {
        let reg = PrivilegeRegistry::new(["ArticleRead", "Custom", "ArticleRead"]);
        assert_eq!(reg.len(), 2, "a duplicate is one code");
        assert_eq!(reg.id("ArticleRead"), Some(PrivilegeId(0)));
        assert_eq!(reg.id("Custom"), Some(PrivilegeId(1)));
        assert_eq!(reg.id("Unknown"), None);
        assert_eq!(reg.set_of(["Nope"]), Err("Nope".to_string()));
    }

    proptest! {
        #[test]
        fn set_behaves_like_a_btreeset(ops in proptest::collection::vec((0u32..300, any::<bool>()), 0..200)) {
            let mut set = PrivilegeSet::default();
            let mut model = std::collections::BTreeSet::new();
            for (id, add) in ops {
                if add { set.insert(PrivilegeId(id)); model.insert(id); }
                else { set.remove(PrivilegeId(id)); model.remove(&id); }
            }
            let got: Vec<u32> = set.iter().map(|p| p.0).collect();
            let want: Vec<u32> = model.iter().copied().collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(set.len(), model.len());
            for id in 0..300 { prop_assert_eq!(set.contains(PrivilegeId(id)), model.contains(&id)); }
        }
    }
}
