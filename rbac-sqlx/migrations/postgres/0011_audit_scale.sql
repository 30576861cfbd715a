-- The operation log at scale: indexes for its filters (each ordered by id, as pages are),
-- and a maintained total, sharded so concurrent writers rarely touch the same row.
CREATE INDEX rbac_audit_user_name_id ON rbac_audit (user_name, id);
CREATE INDEX rbac_audit_category_id ON rbac_audit (category, id);

CREATE TABLE rbac_counters (
    name  TEXT COLLATE "C" NOT NULL,
    shard INTEGER NOT NULL,
    amount BIGINT  NOT NULL,
    PRIMARY KEY (name, shard)
);
INSERT INTO rbac_counters (name, shard, amount) SELECT 'audit', 0, COUNT(*) FROM rbac_audit;
INSERT INTO rbac_counters (name, shard, amount) VALUES
    ('audit', 1, 0), ('audit', 2, 0), ('audit', 3, 0), ('audit', 4, 0),
    ('audit', 5, 0), ('audit', 6, 0), ('audit', 7, 0);
