-- 0002: tenants. Each task belongs to the tenant whose key created it; tasks stored before this
-- migration keep owner NULL (only admin keys see them). Never edit this file: later changes are new files.

ALTER TABLE tasks ADD COLUMN owner TEXT;
-- A tenant's list, newest first, with and without ?status=.
CREATE INDEX IF NOT EXISTS tasks_by_owner ON tasks (owner, seq);
CREATE INDEX IF NOT EXISTS tasks_by_owner_status ON tasks (owner, status, seq);

-- The tenant of a create the upstream answered too late, for the task its callback adopts.
ALTER TABLE unanswered_creates ADD COLUMN owner TEXT;
