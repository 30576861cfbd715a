-- User names are unique under their NFKC case fold and their UTS #39 confusable skeleton,
-- e-mail addresses under their case fold. The keys are computed by rbac-core, so the store
-- fills them for existing rows after this migration (and refuses to start, naming them,
-- when existing rows collide). Whether a user's e-mail address and phone number were
-- proven by a code: an unverified claim yields to a verified registration of the same one.
ALTER TABLE rbac_users
    ADD COLUMN name_key VARBINARY(1024) NULL,
    ADD COLUMN name_skeleton VARBINARY(1024) NULL,
    ADD COLUMN email_key VARBINARY(1024) NULL,
    ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN phone_verified BOOLEAN NOT NULL DEFAULT FALSE,
    ADD UNIQUE INDEX rbac_users_name_fold (name_key),
    ADD UNIQUE INDEX rbac_users_name_skeleton (name_skeleton),
    ADD UNIQUE INDEX rbac_users_email_fold (email_key);
