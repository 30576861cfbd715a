-- Second factors: a sealed TOTP secret per user (pending until a code confirms it) and
-- the keyed digests of unused recovery codes; sessions record the factors they proved.
ALTER TABLE rbac_sessions ADD COLUMN factors SMALLINT NOT NULL DEFAULT 1;
ALTER TABLE rbac_sessions ADD COLUMN verified_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rbac_sessions ADD COLUMN user_agent VARCHAR(256) NOT NULL DEFAULT '';

CREATE TABLE rbac_totp (
    user_id     INTEGER NOT NULL PRIMARY KEY REFERENCES rbac_users (id) ON DELETE CASCADE,
    sealed      TEXT    NOT NULL,
    confirmed   BOOLEAN NOT NULL,
    last_step   BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE rbac_recovery_codes (
    user_id     INTEGER NOT NULL REFERENCES rbac_users (id) ON DELETE CASCADE,
    digest      VARCHAR(64) NOT NULL,
    PRIMARY KEY (user_id, digest)
);
