-- The users' maintained total (the unfiltered list's `total`, not a count over the table),
-- sharded as the operation log's is.
INSERT INTO rbac_counters (name, shard, amount) SELECT 'users', 0, COUNT(*) FROM rbac_users;
INSERT INTO rbac_counters (name, shard, amount) VALUES
    ('users', 1, 0), ('users', 2, 0), ('users', 3, 0), ('users', 4, 0),
    ('users', 5, 0), ('users', 6, 0), ('users', 7, 0);
