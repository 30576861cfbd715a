-- API keys become the library's own: the table of the documents' projects keeps its rows
-- and ids as `rbac_api_keys`, a deleted project is a revoked key, its quota an optional
-- daily limit. The gateway's own fields (kind, resource pool) leave: an application that
-- keeps them copies them in its migration after 19, before this one runs. Renaming the
-- table carries other tables' foreign keys with it.
ALTER TABLE rbac_projects RENAME TO rbac_api_keys;
ALTER TABLE rbac_api_keys RENAME COLUMN deleted TO revoked;
ALTER TABLE rbac_api_keys RENAME COLUMN request_max TO daily_limit;
ALTER TABLE rbac_api_keys ALTER COLUMN daily_limit DROP NOT NULL;
ALTER TABLE rbac_api_keys DROP COLUMN kind, DROP COLUMN pool_id, DROP COLUMN pool_name;
ALTER TABLE rbac_api_keys RENAME CONSTRAINT rbac_projects_pkey TO rbac_api_keys_pkey;
ALTER TABLE rbac_api_keys RENAME CONSTRAINT rbac_projects_api_key TO rbac_api_keys_api_key;
ALTER TABLE rbac_api_keys RENAME CONSTRAINT rbac_projects_owner_id_fkey TO rbac_api_keys_owner_id_fkey;
ALTER INDEX rbac_projects_owner_id RENAME TO rbac_api_keys_owner_id;
ALTER SEQUENCE rbac_projects_id_seq RENAME TO rbac_api_keys_id_seq;
