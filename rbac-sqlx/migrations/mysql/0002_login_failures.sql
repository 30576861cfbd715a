-- Failed-login counters per key (`user:<name>`, `ip:<address>`), shared by every instance.
CREATE TABLE rbac_login_failures (
    subject       VARBINARY(255) NOT NULL,
    failures      INT    NOT NULL,
    window_start  BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL,
    PRIMARY KEY (subject)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
