-- rbac schema for SQLite. Timestamps are unix seconds. TEXT compares with the BINARY
-- collation: names and e-mails are case-sensitive and exact.

CREATE TABLE rbac_roles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    remark      TEXT    NOT NULL,
    creator     TEXT    NOT NULL,
    builtin     BOOLEAN NOT NULL,
    enabled     BOOLEAN NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    CONSTRAINT rbac_roles_name_key UNIQUE (name)
);

CREATE TABLE rbac_role_privileges (
    role_id     INTEGER NOT NULL REFERENCES rbac_roles (id) ON DELETE CASCADE,
    code        TEXT    NOT NULL,
    PRIMARY KEY (role_id, code)
);

CREATE TABLE rbac_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    alias         TEXT    NOT NULL,
    phone         TEXT    NOT NULL,
    email         TEXT    NULL,
    did           TEXT    NOT NULL,
    remark        TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role_id       INTEGER NULL REFERENCES rbac_roles (id),
    enabled       BOOLEAN NOT NULL,
    department_id BIGINT  NULL,
    parent_id     BIGINT  NULL,
    creator       TEXT    NOT NULL,
    attributes    TEXT    NOT NULL,
    login_time    BIGINT  NULL,
    login_ip      TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    CONSTRAINT rbac_users_name_key UNIQUE (name),
    CONSTRAINT rbac_users_email_key UNIQUE (email)
);
CREATE INDEX rbac_users_role_id ON rbac_users (role_id);
CREATE INDEX rbac_users_parent_id ON rbac_users (parent_id);
CREATE INDEX rbac_users_phone ON rbac_users (phone);

CREATE TABLE rbac_sessions (
    id          VARCHAR(128) NOT NULL PRIMARY KEY,
    user_id     INTEGER      NOT NULL REFERENCES rbac_users (id) ON DELETE CASCADE,
    kind        SMALLINT     NOT NULL,
    issued_at   BIGINT       NOT NULL,
    expires_at  BIGINT       NOT NULL,
    last_seen   BIGINT       NOT NULL,
    revoked     BOOLEAN      NOT NULL,
    ip          TEXT         NOT NULL
);
CREATE INDEX rbac_sessions_user_id ON rbac_sessions (user_id);
CREATE INDEX rbac_sessions_expires_at ON rbac_sessions (expires_at);

CREATE TABLE rbac_audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT  NULL,
    user_name   TEXT    NOT NULL,
    category    INTEGER NOT NULL,
    time        BIGINT  NOT NULL,
    content     TEXT    NOT NULL,
    success     BOOLEAN NOT NULL
);
CREATE INDEX rbac_audit_time ON rbac_audit (time);
CREATE INDEX rbac_audit_user_name ON rbac_audit (user_name);

CREATE TABLE rbac_settings (
    name        TEXT NOT NULL PRIMARY KEY,
    value       TEXT NOT NULL
);

CREATE TABLE rbac_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        SMALLINT NOT NULL,
    target      TEXT     NOT NULL,
    created_at  BIGINT   NOT NULL
);
CREATE INDEX rbac_changes_created_at ON rbac_changes (created_at);
