-- Organisations users belong to (the console's departmentId), and one-time verification
-- codes (stored as digests), one pending code per key.
CREATE TABLE rbac_organisations (
    id    BIGINT NOT NULL PRIMARY KEY,
    name  TEXT   NOT NULL
);

CREATE TABLE rbac_codes (
    code_key    TEXT COLLATE "C" PRIMARY KEY,
    digest      TEXT    NOT NULL,
    context     TEXT    NOT NULL,
    sent_at     BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    attempts    INTEGER NOT NULL
);
CREATE INDEX rbac_codes_expires_at ON rbac_codes (expires_at);
