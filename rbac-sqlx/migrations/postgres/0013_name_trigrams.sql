-- Name filters through a trigram index: `pg_trgm` is created (in `public`) when this role
-- may create it, and the users' names indexed with it, so `list/user` by part of a name
-- reads the index rather than every user. When it cannot be created (no such extension, no
-- privilege), the filter scans the users, as before; nothing else depends on it.
DO $$
DECLARE
    ns text;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm is not available (%): name filters scan the users', SQLERRM;
    END;
    SELECT n.nspname INTO ns
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    IF ns IS NOT NULL THEN
        EXECUTE format('CREATE INDEX rbac_users_name_trgm ON rbac_users USING gin (name %I.gin_trgm_ops)', ns);
    END IF;
END
$$;
