-- API keys become the library's own: the table of the documents' projects keeps its rows
-- and ids as `rbac_api_keys`, a deleted project is a revoked key, its quota an optional
-- daily limit. The gateway's own fields (kind, resource pool) leave: an application that
-- keeps them copies them in its migration after 19, before this one runs. Renaming the
-- table carries other tables' foreign keys with it.
ALTER TABLE rbac_projects RENAME TO rbac_api_keys;
ALTER TABLE rbac_api_keys RENAME COLUMN deleted TO revoked;
ALTER TABLE rbac_api_keys ADD COLUMN daily_limit BIGINT;
UPDATE rbac_api_keys SET daily_limit = request_max;
ALTER TABLE rbac_api_keys DROP COLUMN request_max;
ALTER TABLE rbac_api_keys DROP COLUMN kind;
ALTER TABLE rbac_api_keys DROP COLUMN pool_id;
ALTER TABLE rbac_api_keys DROP COLUMN pool_name;
DROP INDEX rbac_projects_owner_id;
CREATE INDEX rbac_api_keys_owner_id ON rbac_api_keys (owner_id);
