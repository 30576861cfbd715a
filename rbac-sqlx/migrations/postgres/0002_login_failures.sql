-- Failed-login counters per key (`user:<name>`, `ip:<address>`), shared by every instance.
CREATE TABLE rbac_login_failures (
    subject       TEXT COLLATE "C" PRIMARY KEY,
    failures      INTEGER NOT NULL,
    window_start  BIGINT  NOT NULL,
    blocked_until BIGINT  NOT NULL
);
