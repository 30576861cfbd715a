-- User names are unique under their NFKC case fold and their UTS #39 confusable skeleton,
-- e-mail addresses under their case fold. The keys are computed by rbac-core, so the store
-- fills them for existing rows after this migration (and refuses to start, naming them,
-- when existing rows collide).
ALTER TABLE rbac_users ADD COLUMN name_key TEXT COLLATE "C" NULL;
ALTER TABLE rbac_users ADD COLUMN name_skeleton TEXT COLLATE "C" NULL;
ALTER TABLE rbac_users ADD COLUMN email_key TEXT COLLATE "C" NULL;
CREATE UNIQUE INDEX rbac_users_name_fold ON rbac_users (name_key);
CREATE UNIQUE INDEX rbac_users_name_skeleton ON rbac_users (name_skeleton);
CREATE UNIQUE INDEX rbac_users_email_fold ON rbac_users (email_key);
-- Whether a user's e-mail address and phone number were proven by a code sent to them: an
-- unverified claim yields to a verified registration of the same address or number.
ALTER TABLE rbac_users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE rbac_users ADD COLUMN phone_verified BOOLEAN NOT NULL DEFAULT FALSE;
