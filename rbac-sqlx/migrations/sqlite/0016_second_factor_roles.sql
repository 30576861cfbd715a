-- A role can require its members to have a second factor: until they enrol one they reach
-- only the enrolment endpoints.
ALTER TABLE rbac_roles ADD COLUMN requires_second_factor BOOLEAN NOT NULL DEFAULT FALSE;
