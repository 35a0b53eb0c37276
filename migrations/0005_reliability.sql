-- 0005: no task waits forever, and none is lost. Never edit this file: later changes are new files.

-- The poller takes the tasks due soonest (next_poll_at), not the oldest: tasks whose polls keep
-- failing back off, and so cannot take every tick's budget from a task due before them.
DROP INDEX IF EXISTS tasks_pending_by_age;
CREATE INDEX IF NOT EXISTS tasks_pending_by_due ON tasks (next_poll_at, created_at) WHERE status = 'PENDING';
