-- Composite roles: a role includes other roles. Inclusion changes serialise on a lock row.
CREATE TABLE rbac_role_includes (
    role_id     BIGINT NOT NULL,
    included_id BIGINT NOT NULL,
    PRIMARY KEY (role_id, included_id),
    KEY rbac_role_includes_included (included_id),
    CONSTRAINT rbac_role_includes_role_fk FOREIGN KEY (role_id)
        REFERENCES rbac_roles (id) ON DELETE CASCADE,
    CONSTRAINT rbac_role_includes_included_fk FOREIGN KEY (included_id)
        REFERENCES rbac_roles (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE rbac_locks (
    name VARBINARY(64) NOT NULL,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO rbac_locks (name) VALUES ('role_inclusion');
