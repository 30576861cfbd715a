-- Gateway projects: an API key and secret per project, request counters and a daily quota.
CREATE TABLE rbac_projects (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id       INTEGER NOT NULL REFERENCES rbac_users (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    kind           INTEGER NOT NULL,
    api_key        TEXT    NOT NULL,
    secret         TEXT    NOT NULL,
    deleted        BOOLEAN NOT NULL,
    request_total  BIGINT  NOT NULL,
    request_today  BIGINT  NOT NULL,
    request_day    BIGINT  NOT NULL,
    request_max    BIGINT  NOT NULL,
    pool_id        BIGINT  NOT NULL,
    pool_name      TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    CONSTRAINT rbac_projects_api_key UNIQUE (api_key)
);
CREATE INDEX rbac_projects_owner_id ON rbac_projects (owner_id);
