-- API keys become the library's own: the table of the documents' projects keeps its rows,
-- ids and id sequence as `rbac_api_keys`, a deleted project is a revoked key, its quota an
-- optional daily limit. The gateway's own fields (kind, resource pool) leave: an
-- application that keeps them copies them in its migration after 19, before this one runs.
--
-- SQLite renames no constraint, so the table is rebuilt (rbac-sqlx runs SQLite's
-- migrations with foreign keys off, and checks every reference afterwards). The first
-- rename carries other tables' references to the new name; with `legacy_alter_table` the
-- second leaves them there, for the rebuilt table to take.
ALTER TABLE rbac_projects RENAME TO rbac_api_keys;
PRAGMA legacy_alter_table = ON;
ALTER TABLE rbac_api_keys RENAME TO rbac_api_keys_old;
PRAGMA legacy_alter_table = OFF;
CREATE TABLE rbac_api_keys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id       INTEGER NOT NULL REFERENCES rbac_users (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    api_key        TEXT    NOT NULL,
    secret         TEXT    NOT NULL,
    revoked        BOOLEAN NOT NULL,
    daily_limit    BIGINT  NULL,
    request_total  BIGINT  NOT NULL,
    request_today  BIGINT  NOT NULL,
    request_day    BIGINT  NOT NULL,
    quota_day      BIGINT  NOT NULL DEFAULT 0,
    quota_reserved BIGINT  NOT NULL DEFAULT 0,
    created_at     BIGINT  NOT NULL,
    CONSTRAINT rbac_api_keys_api_key UNIQUE (api_key)
);
INSERT INTO rbac_api_keys (id, owner_id, name, api_key, secret, revoked, daily_limit,
    request_total, request_today, request_day, quota_day, quota_reserved, created_at)
SELECT id, owner_id, name, api_key, secret, deleted, request_max,
    request_total, request_today, request_day, quota_day, quota_reserved, created_at
FROM rbac_api_keys_old;
DELETE FROM sqlite_sequence WHERE name = 'rbac_api_keys';
UPDATE sqlite_sequence SET name = 'rbac_api_keys' WHERE name = 'rbac_api_keys_old';
DROP TABLE rbac_api_keys_old;
CREATE INDEX rbac_api_keys_owner_id ON rbac_api_keys (owner_id);
