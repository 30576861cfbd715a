-- Organisations users belong to (the console's departmentId), and one-time verification
-- codes (stored as digests), one pending code per key.
CREATE TABLE rbac_organisations (
    id    BIGINT       NOT NULL,
    name  VARCHAR(255) NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE rbac_codes (
    code_key    VARBINARY(255) NOT NULL,
    digest      VARCHAR(64)    NOT NULL,
    context     VARCHAR(255)   NOT NULL,
    sent_at     BIGINT         NOT NULL,
    expires_at  BIGINT         NOT NULL,
    attempts    INT            NOT NULL,
    PRIMARY KEY (code_key),
    KEY rbac_codes_expires_at (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
