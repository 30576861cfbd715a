-- Second factors: a sealed TOTP secret per user (pending until a code confirms it) and
-- the keyed digests of unused recovery codes; sessions record the factors they proved.
ALTER TABLE rbac_sessions
    ADD COLUMN factors SMALLINT NOT NULL DEFAULT 1,
    ADD COLUMN verified_at BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN user_agent VARCHAR(256) NOT NULL DEFAULT '';

CREATE TABLE rbac_totp (
    user_id     BIGINT  NOT NULL,
    sealed      TEXT    NOT NULL,
    confirmed   BOOLEAN NOT NULL,
    last_step   BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (user_id),
    CONSTRAINT rbac_totp_user_fk FOREIGN KEY (user_id)
        REFERENCES rbac_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE rbac_recovery_codes (
    user_id     BIGINT NOT NULL,
    digest      VARBINARY(64) NOT NULL,
    PRIMARY KEY (user_id, digest),
    CONSTRAINT rbac_recovery_codes_user_fk FOREIGN KEY (user_id)
        REFERENCES rbac_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
