//! The scope tree's storage port: which scope lies within which.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::*;

/// The message of a refused scope parent that would close a cycle or nest too deep.
pub const SCOPE_CYCLE: &str = "the scope would contain itself or nest too deep";

/// Scope parents: grants in a parent scope apply inside its children (read through
/// [`AuthorizerStore::scope_parents`](super::AuthorizerStore::scope_parents)).
#[async_trait]
pub trait ScopeStore: super::AuthorizerStore {
    /// Sets (or with `None` clears) a scope's parent, serialised with every such change:
    /// `Violation(SCOPE_CYCLE)` when the scope would become its own ancestor or scopes would
    /// nest deeper than [`MAX_SCOPE_DEPTH`](crate::authz::authorizer::MAX_SCOPE_DEPTH).
    async fn set_scope_parent(
        &self,
        scope: Scope,
        parent: Option<Scope>,
        journal: &Journal,
    ) -> StoreResult<()>;
}

/// Whether making `parent` the parent of `scope`, over the existing `parents`, closes a
/// cycle or nests deeper than the authorizer follows.
pub fn scope_parent_refused(
    parents: &std::collections::HashMap<Scope, Scope>,
    scope: Scope,
    parent: Scope,
) -> bool {
    let limit = crate::authz::authorizer::MAX_SCOPE_DEPTH;
    // Above: parent and its ancestors; the scope may not be among them.
    let mut depth_above = 1;
    let mut at = parent;
    loop {
        if at == scope {
            return true;
        }
        match parents.get(&at) {
            Some(p) if depth_above < limit => {
                at = *p;
                depth_above += 1;
            }
            Some(_) => return true,
            None => break,
        }
    }
    // Below: the deepest chain of descendants of `scope`.
    let mut children: std::collections::HashMap<Scope, Vec<Scope>> = Default::default();
    for (child, p) in parents {
        children.entry(*p).or_default().push(*child);
    }
    let mut below = 0;
    let mut level = vec![scope];
    while !level.is_empty() && below <= limit {
        level = level
            .iter()
            .flat_map(|s| children.get(s).into_iter().flatten().copied())
            .collect();
        if !level.is_empty() {
            below += 1;
        }
    }
    depth_above + 1 + below > limit
}
