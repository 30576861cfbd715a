-- Passkeys (WebAuthn credentials: the verifier's serialised public key, sign counter and
-- backup flags, beside what a listing shows) and the ceremonies in flight, whose state
-- is kept server side and taken once.
CREATE TABLE rbac_passkeys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        INTEGER       NOT NULL REFERENCES rbac_users (id) ON DELETE CASCADE,
    credential_id  VARCHAR(1400) NOT NULL UNIQUE,
    user_handle    VARCHAR(64)   NOT NULL,
    name           VARCHAR(256)  NOT NULL,
    credential     TEXT          NOT NULL,
    counter        BIGINT        NOT NULL,
    backup_eligible BOOLEAN      NOT NULL,
    backup_state   BOOLEAN       NOT NULL,
    created_at     BIGINT        NOT NULL,
    last_used_at   BIGINT        NOT NULL
);
CREATE INDEX rbac_passkeys_user ON rbac_passkeys (user_id);

CREATE TABLE rbac_passkey_ceremonies (
    id          VARCHAR(128) PRIMARY KEY,
    user_id     BIGINT       NULL,
    purpose     SMALLINT     NOT NULL,
    state       TEXT         NOT NULL,
    expires_at  BIGINT       NOT NULL
);
CREATE INDEX rbac_passkey_ceremonies_expiry ON rbac_passkey_ceremonies (expires_at);
