-- A stable key for the roles the application seeds: surfaces find them by key, never by
-- their editable name. Only the built-in admin role is keyed here; the others are keyed by
-- bootstrap, which checks each one's creation record first.
ALTER TABLE rbac_roles ADD COLUMN system_key VARBINARY(64) NULL;
CREATE UNIQUE INDEX rbac_roles_system_key ON rbac_roles (system_key);
UPDATE rbac_roles SET system_key = 'admin' WHERE builtin;
