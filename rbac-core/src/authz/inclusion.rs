//! Role inclusion as a graph: whether a change would close a cycle.
//!
//! ```
//! use std::collections::HashMap;
//! use rbac_core::inclusion::makes_cycle;
//!
//! // attending includes doctor, doctor includes nurse.
//! let edges = HashMap::from([(3, vec![2]), (2, vec![1])]);
//! assert!(makes_cycle(&edges, 3, &[3]));
//! assert!(makes_cycle(&edges, 1, &[3])); // nurse including attending closes the loop
//! assert!(!makes_cycle(&edges, 3, &[1]));
//! ```

use std::collections::{HashMap, HashSet};

use crate::model::RoleId;

/// What a store answers (as `StoreError::Violation`) when an inclusion would make a cycle.
pub const INCLUSION_CYCLE: &str = "the inclusion would make a cycle";

/// Whether `role` including `includes` would make a cycle, given every role's current
/// inclusions (`edges`, whose entry for `role` is replaced by `includes`).
pub fn makes_cycle(
    edges: &HashMap<RoleId, Vec<RoleId>>,
    role: RoleId,
    includes: &[RoleId],
) -> bool {
    let mut seen = HashSet::new();
    let mut todo: Vec<RoleId> = includes.to_vec();
    while let Some(next) = todo.pop() {
        if next == role {
            return true;
        }
        if seen.insert(next) {
            if let Some(more) = edges.get(&next) {
                todo.extend(more.iter().copied());
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_found_at_any_depth() {
        let edges: HashMap<RoleId, Vec<RoleId>> =
            HashMap::from([(1, vec![2]), (2, vec![3]), (4, vec![])]);
        assert!(makes_cycle(&edges, 1, &[1]), "itself");
        assert!(makes_cycle(&edges, 3, &[1]), "3 -> 1 -> 2 -> 3");
        assert!(makes_cycle(&edges, 2, &[1]), "2 -> 1 -> 2");
        assert!(!makes_cycle(&edges, 1, &[3, 4]), "a diamond is no cycle");
        assert!(!makes_cycle(&edges, 4, &[1]));
        assert!(!makes_cycle(&edges, 1, &[]));
    }
}
