-- The share of each project's daily quota that instances have reserved: instances spend
-- reserved slices locally, and the quota holds across all of them. Today's counted
-- requests start the reservation.
ALTER TABLE rbac_projects ADD COLUMN quota_day BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rbac_projects ADD COLUMN quota_reserved BIGINT NOT NULL DEFAULT 0;
UPDATE rbac_projects SET quota_day = request_day, quota_reserved = request_today;
