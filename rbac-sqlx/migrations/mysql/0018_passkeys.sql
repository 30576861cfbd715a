-- Passkeys (WebAuthn credentials: the verifier's serialised public key, sign counter and
-- backup flags, beside what a listing shows) and the ceremonies in flight, whose state
-- is kept server side and taken once. Credential ids are base64url: compared as bytes.
CREATE TABLE rbac_passkeys (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id        BIGINT          NOT NULL,
    credential_id  VARBINARY(1400) NOT NULL,
    user_handle    VARBINARY(64)   NOT NULL,
    name           VARCHAR(256)    NOT NULL,
    credential     TEXT            NOT NULL,
    counter        BIGINT          NOT NULL,
    backup_eligible BOOLEAN        NOT NULL,
    backup_state   BOOLEAN         NOT NULL,
    created_at     BIGINT          NOT NULL,
    last_used_at   BIGINT          NOT NULL,
    UNIQUE KEY rbac_passkeys_credential (credential_id),
    KEY rbac_passkeys_user (user_id),
    CONSTRAINT rbac_passkeys_user_fk FOREIGN KEY (user_id)
        REFERENCES rbac_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE rbac_passkey_ceremonies (
    id          VARBINARY(128) NOT NULL PRIMARY KEY,
    user_id     BIGINT         NULL,
    purpose     SMALLINT       NOT NULL,
    state       MEDIUMTEXT     NOT NULL,
    expires_at  BIGINT         NOT NULL,
    KEY rbac_passkey_ceremonies_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
