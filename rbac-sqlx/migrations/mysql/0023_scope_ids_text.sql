-- Scope ids become text (`desk:sports`, `tenant:5f2c…`; a numeric id is a string of
-- digits, compared byte for byte), in the assignments' and the scope parents' keys,
-- changed in place; a global assignment's scope is ('', '').
ALTER TABLE rbac_assignments MODIFY scope_id VARBINARY(64) NOT NULL DEFAULT '';
UPDATE rbac_assignments SET scope_id = '' WHERE scope_kind = '';
ALTER TABLE rbac_scope_parents
    MODIFY scope_id VARBINARY(64) NOT NULL,
    MODIFY parent_id VARBINARY(64) NOT NULL;
