-- Gateway projects: an API key and secret per project, request counters and a daily quota.
CREATE TABLE rbac_projects (
    id             BIGINT       NOT NULL AUTO_INCREMENT,
    owner_id       BIGINT       NOT NULL,
    name           VARCHAR(255) NOT NULL,
    kind           INT          NOT NULL,
    api_key        VARBINARY(64) NOT NULL,
    secret         VARCHAR(128) NOT NULL,
    deleted        BOOLEAN      NOT NULL,
    request_total  BIGINT       NOT NULL,
    request_today  BIGINT       NOT NULL,
    request_day    BIGINT       NOT NULL,
    request_max    BIGINT       NOT NULL,
    pool_id        BIGINT       NOT NULL,
    pool_name      VARCHAR(255) NOT NULL,
    created_at     BIGINT       NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT rbac_projects_api_key UNIQUE (api_key),
    KEY rbac_projects_owner_id (owner_id),
    CONSTRAINT rbac_projects_owner FOREIGN KEY (owner_id) REFERENCES rbac_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
