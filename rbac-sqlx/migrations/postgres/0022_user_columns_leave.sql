-- The users' columns only the bundled server's documents used leave the library: the
-- digital identity (`did`, kept by an application as a profile attribute), the single
-- role from before assignments (`role_id`, unread since migration 10) and the
-- organisation (`department_id`, a tenant since 21).
ALTER TABLE rbac_users DROP COLUMN did, DROP COLUMN role_id, DROP COLUMN department_id;
