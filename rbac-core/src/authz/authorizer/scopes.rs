//! Scope numbers: every scope a role is held in, or that a parent link names, gets a dense
//! number the first time the authorizer meets it, kept in the snapshot like privilege ids.
//! Grants and parents hold numbers, so a scoped check compares the asked scope's text once
//! (one probe of this table) and numbers after that; a scope nobody holds anything in has
//! no number and is answered from the global roles without reading the store.

use super::*;

/// A scope's number in one authorizer.
pub(super) type ScopeNumber = u32;

/// The number of no scope: asked for one that nobody holds a role in and that no parent
/// link names (and the parent of a scope that has none).
pub(super) const UNNUMBERED: ScopeNumber = ScopeNumber::MAX;

/// Shards of the table, by the top bits of a scope's fingerprint: numbering a new scope
/// copies one shard, not the whole table.
const SHARDS: usize = 1024;

/// A numbered scope: its number and its parent's, side by side, so a check finds both
/// with one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Numbered {
    /// The scope's number ([`UNNUMBERED`] when it has none).
    pub(super) number: ScopeNumber,
    /// Its parent's number ([`UNNUMBERED`] when it has none).
    pub(super) parent: ScopeNumber,
}

impl Numbered {
    /// Neither numbered nor parented.
    pub(super) const NONE: Numbered = Numbered {
        number: UNNUMBERED,
        parent: UNNUMBERED,
    };
}

/// A slot of a shard's probe table: 24 bytes, so a probe reads little; the scope's text
/// is in the shard's texts, compared once the fingerprint matches.
#[derive(Debug, Clone, Copy)]
struct Slot {
    fingerprint: u64,
    at: Numbered,
    /// The index of the scope's text in the shard ([`Slot::EMPTY`]: a free slot).
    text: u32,
}

impl Slot {
    const EMPTY: u32 = u32::MAX;
    const FREE: Slot = Slot {
        fingerprint: 0,
        at: Numbered::NONE,
        text: Slot::EMPTY,
    };
}

/// One shard: open addressing with linear probing by the fingerprint's low bits, at most
/// half full (so a probe always meets a free slot), and the texts of its scopes.
#[derive(Debug, Clone, Default)]
struct Shard {
    slots: Box<[Slot]>,
    texts: Vec<Scope>,
}

/// Where a scope is in a shard, or the free slot where it would go.
enum Probe {
    Found(usize),
    Free(usize),
}

impl Shard {
    #[inline]
    fn probe(&self, scope: &Scope) -> Option<Probe> {
        let mask = self.slots.len().checked_sub(1)?;
        let fingerprint = scope.fingerprint();
        let mut i = fingerprint as usize & mask;
        for _ in 0..self.slots.len() {
            let slot = &self.slots[i];
            if slot.text == Slot::EMPTY {
                return Some(Probe::Free(i));
            }
            if slot.fingerprint == fingerprint && self.texts.get(slot.text as usize) == Some(scope)
            {
                return Some(Probe::Found(i));
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// This shard with `scope` added at `at` (rehashed into a larger table when it would
    /// pass half full).
    fn adding(&self, scope: &Scope, at: Numbered) -> Shard {
        let mut texts = self.texts.clone();
        texts.push(*scope);
        let mut next = Shard {
            slots: vec![Slot::FREE; (texts.len() * 2).next_power_of_two().max(4)].into(),
            texts,
        };
        let old = self.slots.iter().filter(|s| s.text != Slot::EMPTY).copied();
        let new = Slot {
            fingerprint: scope.fingerprint(),
            at,
            text: (next.texts.len() - 1) as u32,
        };
        for slot in old.chain([new]) {
            let Some(text) = next.texts.get(slot.text as usize).copied() else {
                continue;
            };
            if let Some(Probe::Free(i)) = next.probe(&text) {
                next.slots[i] = slot;
            }
        }
        next
    }
}

/// Scope → number, append-only: a number, once given, stays the scope's for the
/// authorizer's life (grants resolved earlier keep comparing right).
#[derive(Debug, Clone)]
pub(super) struct ScopeNumbers {
    shards: Box<[Arc<Shard>]>,
    /// How many scopes are numbered (the next number).
    count: ScopeNumber,
}

impl Default for ScopeNumbers {
    fn default() -> Self {
        let empty = Arc::new(Shard::default());
        ScopeNumbers {
            shards: vec![empty; SHARDS].into_boxed_slice(),
            count: 0,
        }
    }
}

/// The shard of a scope.
#[inline]
fn shard_of(scope: &Scope) -> usize {
    (scope.fingerprint() >> 54) as usize % SHARDS
}

impl ScopeNumbers {
    /// The numbers of `scope` ([`Numbered::NONE`] when it has none).
    #[inline]
    pub(super) fn find(&self, scope: &Scope) -> Numbered {
        let Some(shard) = self.shards.get(shard_of(scope)) else {
            return Numbered::NONE;
        };
        match shard.probe(scope) {
            Some(Probe::Found(i)) => shard.slots[i].at,
            _ => Numbered::NONE,
        }
    }

    /// The number of `scope`, or [`UNNUMBERED`].
    #[inline]
    pub(super) fn number(&self, scope: &Scope) -> ScopeNumber {
        self.find(scope).number
    }

    /// Whether every one of `scopes` has a number.
    pub(super) fn numbers_all<'a>(&self, mut scopes: impl Iterator<Item = &'a Scope>) -> bool {
        scopes.all(|s| self.number(s) != UNNUMBERED)
    }

    /// Numbers those of `scopes` that have none yet (copying only the shards they fall in).
    pub(super) fn add<'a>(&mut self, scopes: impl IntoIterator<Item = &'a Scope>) {
        for scope in scopes {
            if self.number(scope) != UNNUMBERED || self.count == UNNUMBERED {
                continue;
            }
            let at = Numbered {
                number: self.count,
                parent: UNNUMBERED,
            };
            let shard = &mut self.shards[shard_of(scope)];
            *shard = Arc::new(shard.adding(scope, at));
            self.count += 1;
        }
    }

    /// Sets the parent number of a numbered scope.
    pub(super) fn set_parent(&mut self, scope: &Scope, parent: ScopeNumber) {
        let shard = &mut self.shards[shard_of(scope)];
        if let Some(Probe::Found(i)) = shard.probe(scope) {
            if shard.slots[i].at.parent != parent {
                Arc::make_mut(shard).slots[i].at.parent = parent;
            }
        }
    }

    /// Every numbered scope's parent, from `parent_of` (a whole rebuild: loading parents).
    pub(super) fn set_parents(&mut self, parent_of: impl Fn(ScopeNumber) -> ScopeNumber) {
        for shard in self.shards.iter_mut() {
            let stale = |s: &Slot| s.text != Slot::EMPTY && s.at.parent != parent_of(s.at.number);
            if shard.slots.iter().any(stale) {
                let next = Arc::make_mut(shard);
                for slot in next.slots.iter_mut().filter(|s| s.text != Slot::EMPTY) {
                    slot.at.parent = parent_of(slot.at.number);
                }
            }
        }
    }

    /// How many scopes are numbered.
    pub(super) fn len(&self) -> usize {
        self.count as usize
    }
}

/// Scope number → its parent's number.
pub(super) type ScopeParents = HashMap<ScopeNumber, ScopeNumber, BuildHasherDefault<IdHasher>>;

/// A scope as one authorizer numbers it: look it up once with
/// [`Authorizer::scope_key`], then check any number of privileges in it with
/// [`Authorizer::check_in_key`] (a check compares numbers, not text). A key is for the
/// request that made it: a scope first granted in after the key was made is not seen
/// through it, and another authorizer refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScopeKey {
    origin: u64,
    at: Numbered,
}

impl ScopeKey {
    /// Whether some role is held in this scope or it has a parent (else only global roles
    /// hold in it).
    pub fn is_known(&self) -> bool {
        self.at.number != UNNUMBERED
    }
}

impl Authorizer {
    /// The key of `scope` in this authorizer: one probe of the snapshot's scope table,
    /// no lock, no allocation, no store read.
    #[inline]
    pub fn scope_key(&self, scope: &Scope) -> ScopeKey {
        ScopeKey {
            origin: self.origin,
            at: self.snapshot.load().scopes.find(scope),
        }
    }

    /// Whether the principal holds a privilege within the scope `key` names (see
    /// [`Authorizer::check_in`]); a key of another authorizer holds nothing.
    #[inline]
    pub fn check_in_key(
        &self,
        principal: &Principal,
        privilege: PrivilegeId,
        key: ScopeKey,
    ) -> bool {
        if key.origin != self.origin {
            return false;
        }
        let snapshot = self.snapshot.load();
        let bundle = principal
            .grants
            .bundle_in(self.origin, key.at, &snapshot.parents);
        snapshot
            .confers(bundle)
            .is_some_and(|set| set.contains(privilege))
    }

    /// How many scopes this authorizer has numbered (held in, or named by a parent link).
    pub fn scope_count(&self) -> usize {
        self.snapshot.load().scopes.len()
    }

    /// Numbers every one of `scopes` that has no number yet.
    pub(super) fn number_scopes(&self, scopes: &[Scope]) {
        if self.snapshot.load().scopes.numbers_all(scopes.iter()) {
            return;
        }
        self.snapshot.rcu(|snapshot| {
            let mut numbers = ScopeNumbers::clone(&snapshot.scopes);
            numbers.add(scopes);
            Snapshot {
                scopes: Arc::new(numbers),
                ..Snapshot::clone(snapshot)
            }
        });
    }

    /// Loads every scope parent.
    pub async fn load_scope_parents(&self) -> Result<()> {
        let pairs = self.store.scope_parents().await?;
        self.snapshot.rcu(|snapshot| {
            let mut numbers = ScopeNumbers::clone(&snapshot.scopes);
            numbers.add(pairs.iter().flat_map(|(child, parent)| [child, parent]));
            let parents: ScopeParents = pairs
                .iter()
                .map(|(child, parent)| (numbers.number(child), numbers.number(parent)))
                .filter(|(child, parent)| *child != UNNUMBERED && *parent != UNNUMBERED)
                .collect();
            numbers.set_parents(|n| parents.get(&n).copied().unwrap_or(UNNUMBERED));
            Snapshot {
                scopes: Arc::new(numbers),
                parents: Arc::new(parents),
                ..Snapshot::clone(snapshot)
            }
        });
        Ok(())
    }

    /// Re-reads one scope's parent.
    pub(super) async fn reload_scope(&self, scope: Scope) {
        match self.store.scope_parent(scope).await {
            Ok(parent) => {
                self.snapshot.rcu(|snapshot| {
                    let mut numbers = ScopeNumbers::clone(&snapshot.scopes);
                    numbers.add([&scope].into_iter().chain(parent.as_ref()));
                    let mut next = ScopeParents::clone(&snapshot.parents);
                    let child = numbers.number(&scope);
                    let parent = parent.map_or(UNNUMBERED, |p| numbers.number(&p));
                    if parent != UNNUMBERED && child != UNNUMBERED {
                        next.insert(child, parent);
                    } else {
                        next.remove(&child);
                    }
                    numbers.set_parent(&scope, parent);
                    Snapshot {
                        scopes: Arc::new(numbers),
                        parents: Arc::new(next),
                        ..Snapshot::clone(snapshot)
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, %scope, "reading a scope parent failed; re-reading all");
                if let Err(e) = self.load_scope_parents().await {
                    tracing::warn!(error = %e, "reading scope parents failed");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(n: usize) -> Scope {
        Scope::new("org", format!("org-{n}")).expect("scope")
    }

    #[test]
    fn every_scope_keeps_its_number_as_the_table_grows() {
        let mut numbers = ScopeNumbers::default();
        let all: Vec<Scope> = (0..20_000).map(scope).collect();
        for chunk in all.chunks(997) {
            numbers.add(chunk);
        }
        numbers.add(&all[..10]);
        assert_eq!(numbers.len(), all.len(), "numbered once each");
        for (n, s) in all.iter().enumerate() {
            assert_eq!(numbers.find(s).number as usize, n, "{s}");
        }
        // Not numbered: near misses by case, a digit, a prefix.
        for other in ["org:Org-1", "org:org-20000", "org:org-", "team:org-1"] {
            let s = Scope::parse(other).expect("scope");
            assert_eq!(numbers.find(&s), Numbered::NONE, "{other}");
        }
    }

    #[test]
    fn parents_are_set_and_cleared_in_place() {
        let mut numbers = ScopeNumbers::default();
        let (a, b, c) = (scope(1), scope(2), scope(3));
        numbers.add([&a, &b]);
        numbers.set_parent(&a, numbers.number(&b));
        assert_eq!(numbers.find(&a).parent, 1);
        assert_eq!(numbers.find(&b).parent, UNNUMBERED);
        // An unnumbered scope gets no parent (nor a number).
        numbers.set_parent(&c, 0);
        assert_eq!(numbers.find(&c), Numbered::NONE);
        numbers.set_parents(|_| UNNUMBERED);
        assert_eq!(numbers.find(&a).parent, UNNUMBERED);
        assert_eq!(numbers.find(&a).number, 0, "numbers stay");
    }
}
