-- Organisations are an application's concept, not the library's: an application that
-- keeps them copies the rows into its own table first (an AppMigration after 18).
DROP TABLE rbac_organisations;
