-- rbac schema for MySQL 8 / MariaDB 10.5+. Timestamps are unix seconds.
-- Every column that is compared (names, e-mails, phone, codes, session ids, keys) is
-- VARBINARY: exact, case-sensitive and with no trailing-space padding, like SQLite's
-- BINARY and PostgreSQL's "C" collations (utf8mb4_bin is a PAD SPACE collation).

CREATE TABLE rbac_roles (
    id          BIGINT NOT NULL AUTO_INCREMENT,
    name        VARBINARY(255) NOT NULL,
    remark      TEXT    NOT NULL,
    creator     TEXT    NOT NULL,
    builtin     BOOLEAN NOT NULL,
    enabled     BOOLEAN NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT rbac_roles_name_key UNIQUE (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE rbac_role_privileges (
    role_id     BIGINT NOT NULL,
    code        VARBINARY(255) NOT NULL,
    PRIMARY KEY (role_id, code),
    CONSTRAINT rbac_role_privileges_role_fk FOREIGN KEY (role_id)
        REFERENCES rbac_roles (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE rbac_users (
    id            BIGINT NOT NULL AUTO_INCREMENT,
    name          VARBINARY(255) NOT NULL,
    alias         TEXT    NOT NULL,
    phone         VARBINARY(255) NOT NULL,
    email         VARBINARY(255) NULL,
    did           TEXT    NOT NULL,
    remark        TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role_id       BIGINT  NULL,
    enabled       BOOLEAN NOT NULL,
    department_id BIGINT  NULL,
    parent_id     BIGINT  NULL,
    creator       TEXT    NOT NULL,
    attributes    MEDIUMTEXT NOT NULL,
    login_time    BIGINT  NULL,
    login_ip      TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT rbac_users_name_key UNIQUE (name),
    CONSTRAINT rbac_users_email_key UNIQUE (email),
    CONSTRAINT rbac_users_role_fk FOREIGN KEY (role_id) REFERENCES rbac_roles (id),
    INDEX rbac_users_parent_id (parent_id),
    INDEX rbac_users_phone (phone)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE rbac_sessions (
    id          VARBINARY(128) NOT NULL,
    user_id     BIGINT   NOT NULL,
    kind        SMALLINT NOT NULL,
    issued_at   BIGINT   NOT NULL,
    expires_at  BIGINT   NOT NULL,
    last_seen   BIGINT   NOT NULL,
    revoked     BOOLEAN  NOT NULL,
    ip          TEXT     NOT NULL,
    PRIMARY KEY (id),
    INDEX rbac_sessions_user_id (user_id),
    INDEX rbac_sessions_expires_at (expires_at),
    CONSTRAINT rbac_sessions_user_fk FOREIGN KEY (user_id)
        REFERENCES rbac_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE rbac_audit (
    id          BIGINT NOT NULL AUTO_INCREMENT,
    user_id     BIGINT  NULL,
    user_name   VARBINARY(255) NOT NULL,
    category    INT     NOT NULL,
    time        BIGINT  NOT NULL,
    content     TEXT    NOT NULL,
    success     BOOLEAN NOT NULL,
    PRIMARY KEY (id),
    INDEX rbac_audit_time (time),
    INDEX rbac_audit_user_name (user_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE rbac_settings (
    name        VARBINARY(255) NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE rbac_changes (
    id          BIGINT NOT NULL AUTO_INCREMENT,
    kind        SMALLINT NOT NULL,
    target      VARBINARY(255) NOT NULL,
    created_at  BIGINT   NOT NULL,
    PRIMARY KEY (id),
    INDEX rbac_changes_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
