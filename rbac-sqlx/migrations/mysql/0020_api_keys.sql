-- API keys become the library's own: the table of the documents' projects keeps its rows
-- and ids as `rbac_api_keys`, a deleted project is a revoked key, its quota an optional
-- daily limit. The gateway's own fields (kind, resource pool) leave: an application that
-- keeps them copies them in its migration after 19, before this one runs. Renaming the
-- table carries other tables' foreign keys with it.
RENAME TABLE rbac_projects TO rbac_api_keys;
ALTER TABLE rbac_api_keys DROP FOREIGN KEY rbac_projects_owner;
ALTER TABLE rbac_api_keys
    RENAME COLUMN deleted TO revoked,
    CHANGE COLUMN request_max daily_limit BIGINT NULL,
    DROP COLUMN kind,
    DROP COLUMN pool_id,
    DROP COLUMN pool_name,
    RENAME INDEX rbac_projects_api_key TO rbac_api_keys_api_key,
    RENAME INDEX rbac_projects_owner_id TO rbac_api_keys_owner_id;
ALTER TABLE rbac_api_keys
    ADD CONSTRAINT rbac_api_keys_owner FOREIGN KEY (owner_id) REFERENCES rbac_users (id) ON DELETE CASCADE;
