-- Security events, written with the action they record, and their delivery to each
-- webhook: a queue in the store (a restart loses none), claimed under a lease.
CREATE TABLE rbac_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    VARCHAR(64)  NOT NULL UNIQUE,
    kind        VARCHAR(64)  NOT NULL,
    subject     TEXT         NOT NULL,
    actor       TEXT         NOT NULL,
    ip          VARCHAR(64)  NOT NULL,
    detail      TEXT         NOT NULL,
    created_at  BIGINT       NOT NULL
);

CREATE TABLE rbac_deliveries (
    event_id     BIGINT       NOT NULL REFERENCES rbac_events (id) ON DELETE CASCADE,
    target       VARCHAR(512) NOT NULL,
    attempts     INTEGER      NOT NULL,
    next_at      BIGINT       NOT NULL,
    lease_owner  VARCHAR(64)  NOT NULL,
    lease_until  BIGINT       NOT NULL,
    delivered_at BIGINT       NULL,
    last_error   TEXT         NOT NULL,
    PRIMARY KEY (event_id, target)
);
CREATE INDEX rbac_deliveries_due ON rbac_deliveries (target, delivered_at, next_at);
