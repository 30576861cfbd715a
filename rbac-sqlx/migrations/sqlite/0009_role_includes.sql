-- Composite roles: a role includes other roles. Inclusion changes serialise on a lock row.
CREATE TABLE rbac_role_includes (
    role_id     INTEGER NOT NULL REFERENCES rbac_roles (id) ON DELETE CASCADE,
    included_id INTEGER NOT NULL REFERENCES rbac_roles (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, included_id)
);
CREATE INDEX rbac_role_includes_included ON rbac_role_includes (included_id);

CREATE TABLE rbac_locks (
    name TEXT NOT NULL PRIMARY KEY
);
INSERT INTO rbac_locks (name) VALUES ('role_inclusion');
