-- Many roles per user: an assignment is global (scope_kind '') or scoped to `kind:id`.
-- Every role a user held through rbac_users.role_id becomes a global assignment; the
-- column stays (NULL) for older readers and is no longer written.
CREATE TABLE rbac_assignments (
    user_id    INTEGER NOT NULL REFERENCES rbac_users (id) ON DELETE CASCADE,
    role_id    INTEGER NOT NULL REFERENCES rbac_roles (id),
    scope_kind TEXT    NOT NULL DEFAULT '',
    scope_id   INTEGER NOT NULL DEFAULT 0,
    ordinal    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, role_id, scope_kind, scope_id)
);
CREATE INDEX rbac_assignments_role ON rbac_assignments (role_id);
INSERT INTO rbac_assignments (user_id, role_id, scope_kind, scope_id, ordinal)
    SELECT id, role_id, '', 0, 0 FROM rbac_users WHERE role_id IS NOT NULL;
UPDATE rbac_users SET role_id = NULL WHERE role_id IS NOT NULL;

-- Scopes with a parent: grants in the parent apply inside the child.
CREATE TABLE rbac_scope_parents (
    scope_kind  TEXT    NOT NULL,
    scope_id    INTEGER NOT NULL,
    parent_kind TEXT    NOT NULL,
    parent_id   INTEGER NOT NULL,
    PRIMARY KEY (scope_kind, scope_id)
);
INSERT INTO rbac_locks (name) VALUES ('scope_parents');
