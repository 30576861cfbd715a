-- A scope's children by index: setting a parent reads the scope's descendants (and the new
-- parent's ancestors by key) rather than every scope's parent.
CREATE INDEX rbac_scope_parents_parent ON rbac_scope_parents (parent_kind, parent_id);
