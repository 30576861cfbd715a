-- The users' columns only the bundled server's documents used leave the library: the
-- digital identity (`did`, kept by an application as a profile attribute), the single
-- role from before assignments (`role_id`, unread since migration 10) and the
-- organisation (`department_id`, a tenant since 21).
--
-- SQLite drops a column that is a foreign key only by rebuilding its table, and rebuilds
-- a table other tables refer to only with foreign keys off (dropping it would otherwise
-- delete their rows): rbac-sqlx runs SQLite's migrations on a connection with foreign keys
-- off and checks every reference afterwards. The rebuild is one transaction, as every
-- migration is. The table keeps its ids and its id sequence (ids of deleted users are never
-- handed out again), and the other tables' references to it.
CREATE TABLE rbac_users_rebuilt (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL,
    alias          TEXT    NOT NULL,
    phone          TEXT    NOT NULL,
    email          TEXT    NULL,
    remark         TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    enabled        BOOLEAN NOT NULL,
    member_of      BIGINT  NULL,
    tenant         TEXT    NULL,
    creator        TEXT    NOT NULL,
    attributes     TEXT    NOT NULL,
    login_time     BIGINT  NULL,
    login_ip       TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    name_key       TEXT    NULL,
    name_skeleton  TEXT    NULL,
    email_key      TEXT    NULL,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    phone_verified BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT rbac_users_name_key UNIQUE (name),
    CONSTRAINT rbac_users_email_key UNIQUE (email)
);
INSERT INTO rbac_users_rebuilt (id, name, alias, phone, email, remark, password_hash, enabled,
    member_of, tenant, creator, attributes, login_time, login_ip, created_at, updated_at,
    name_key, name_skeleton, email_key, email_verified, phone_verified)
SELECT id, name, alias, phone, email, remark, password_hash, enabled,
    member_of, tenant, creator, attributes, login_time, login_ip, created_at, updated_at,
    name_key, name_skeleton, email_key, email_verified, phone_verified
FROM rbac_users;
DELETE FROM sqlite_sequence WHERE name = 'rbac_users_rebuilt';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'rbac_users_rebuilt', seq FROM sqlite_sequence WHERE name = 'rbac_users';
DROP TABLE rbac_users;
ALTER TABLE rbac_users_rebuilt RENAME TO rbac_users;
CREATE INDEX rbac_users_member_of ON rbac_users (member_of);
CREATE INDEX rbac_users_phone ON rbac_users (phone);
CREATE UNIQUE INDEX rbac_users_name_fold ON rbac_users (name_key);
CREATE UNIQUE INDEX rbac_users_name_skeleton ON rbac_users (name_skeleton);
CREATE UNIQUE INDEX rbac_users_email_fold ON rbac_users (email_key);
