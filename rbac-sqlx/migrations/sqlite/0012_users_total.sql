-- The users' maintained totals, sharded as the operation log's is: how many there are (the
-- unfiltered list's `total`, not a count over the table) and how many were ever deleted
-- (which tells an instance its anchors for deep pages have moved).
INSERT INTO rbac_counters (name, shard, amount) SELECT 'users', 0, COUNT(*) FROM rbac_users;
INSERT INTO rbac_counters (name, shard, amount) VALUES
    ('users', 1, 0), ('users', 2, 0), ('users', 3, 0), ('users', 4, 0),
    ('users', 5, 0), ('users', 6, 0), ('users', 7, 0),
    ('users_deleted', 0, 0), ('users_deleted', 1, 0), ('users_deleted', 2, 0),
    ('users_deleted', 3, 0), ('users_deleted', 4, 0), ('users_deleted', 5, 0),
    ('users_deleted', 6, 0), ('users_deleted', 7, 0);
