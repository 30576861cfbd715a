-- A user's tenant (a scope, `kind:id`): a login into a tenant admits only its users. The
-- account a member was created by keeps its column under a generic name. An application
-- whose users belonged to something else (an organisation column, say) writes their
-- tenant in its migration after 21, before 22 drops the old columns.
ALTER TABLE rbac_users ADD COLUMN tenant TEXT COLLATE "C" NULL;
ALTER TABLE rbac_users RENAME COLUMN parent_id TO member_of;
ALTER INDEX rbac_users_parent_id RENAME TO rbac_users_member_of;
