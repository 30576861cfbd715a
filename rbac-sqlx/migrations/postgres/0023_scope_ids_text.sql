-- Scope ids become text (`desk:sports`, `tenant:5f2c…`; a numeric id is a string of
-- digits), in the assignments' and the scope parents' keys, changed in place (the keys'
-- indexes are rebuilt with them); a global assignment's scope is ('', '').
ALTER TABLE rbac_assignments ALTER COLUMN scope_id DROP DEFAULT;
ALTER TABLE rbac_assignments ALTER COLUMN scope_id TYPE TEXT COLLATE "C"
    USING (CASE WHEN scope_kind = '' THEN '' ELSE scope_id::text END);
ALTER TABLE rbac_assignments ALTER COLUMN scope_id SET DEFAULT '';
ALTER TABLE rbac_scope_parents ALTER COLUMN scope_id TYPE TEXT COLLATE "C" USING scope_id::text;
ALTER TABLE rbac_scope_parents ALTER COLUMN parent_id TYPE TEXT COLLATE "C" USING parent_id::text;
