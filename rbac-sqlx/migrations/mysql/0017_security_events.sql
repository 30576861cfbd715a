-- Security events, written with the action they record, and their delivery to each
-- webhook: a queue in the store (a restart loses none), claimed under a lease.
CREATE TABLE rbac_events (
    id          BIGINT NOT NULL AUTO_INCREMENT,
    event_id    VARBINARY(64) NOT NULL,
    kind        VARBINARY(64) NOT NULL,
    subject     TEXT          NOT NULL,
    actor       TEXT          NOT NULL,
    ip          VARCHAR(64)   NOT NULL,
    detail      TEXT          NOT NULL,
    created_at  BIGINT        NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY rbac_events_event_id (event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE rbac_deliveries (
    event_id     BIGINT         NOT NULL,
    target       VARBINARY(512) NOT NULL,
    attempts     INTEGER        NOT NULL,
    next_at      BIGINT         NOT NULL,
    lease_owner  VARBINARY(64)  NOT NULL,
    lease_until  BIGINT         NOT NULL,
    delivered_at BIGINT         NULL,
    last_error   TEXT           NOT NULL,
    PRIMARY KEY (event_id, target),
    KEY rbac_deliveries_due (target, delivered_at, next_at),
    CONSTRAINT rbac_deliveries_event_fk FOREIGN KEY (event_id)
        REFERENCES rbac_events (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
