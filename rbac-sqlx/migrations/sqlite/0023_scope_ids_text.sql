-- Scope ids become text (`desk:sports`, `tenant:5f2c…`; a numeric id is a string of
-- digits), in the assignments' and the scope parents' keys; a global assignment's scope is
-- ('', ''). SQLite keeps a column's declared affinity, under which '007' would be stored as
-- 7, so both tables are rebuilt with text columns (rbac-sqlx runs SQLite's migrations with
-- foreign keys off and checks every reference afterwards).
CREATE TABLE rbac_assignments_rebuilt (
    user_id    INTEGER NOT NULL REFERENCES rbac_users (id) ON DELETE CASCADE,
    role_id    INTEGER NOT NULL REFERENCES rbac_roles (id),
    scope_kind TEXT    NOT NULL DEFAULT '',
    scope_id   TEXT    NOT NULL DEFAULT '',
    ordinal    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, role_id, scope_kind, scope_id)
);
INSERT INTO rbac_assignments_rebuilt (user_id, role_id, scope_kind, scope_id, ordinal)
SELECT user_id, role_id, scope_kind,
    CASE WHEN scope_kind = '' THEN '' ELSE CAST(scope_id AS TEXT) END, ordinal
FROM rbac_assignments;
DROP TABLE rbac_assignments;
ALTER TABLE rbac_assignments_rebuilt RENAME TO rbac_assignments;
CREATE INDEX rbac_assignments_role ON rbac_assignments (role_id);
CREATE TABLE rbac_scope_parents_rebuilt (
    scope_kind  TEXT NOT NULL,
    scope_id    TEXT NOT NULL,
    parent_kind TEXT NOT NULL,
    parent_id   TEXT NOT NULL,
    PRIMARY KEY (scope_kind, scope_id)
);
INSERT INTO rbac_scope_parents_rebuilt (scope_kind, scope_id, parent_kind, parent_id)
SELECT scope_kind, CAST(scope_id AS TEXT), parent_kind, CAST(parent_id AS TEXT)
FROM rbac_scope_parents;
DROP TABLE rbac_scope_parents;
ALTER TABLE rbac_scope_parents_rebuilt RENAME TO rbac_scope_parents;
CREATE INDEX rbac_scope_parents_parent ON rbac_scope_parents (parent_kind, parent_id);
