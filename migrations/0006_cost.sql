-- 0006: fewer rows written per task. Never edit this file: later changes are new files.

-- D1 bills every index entry a write touches as a row written. The two indexes by status were
-- rewritten at every task's result (its status changes): lists filtered by status now read the
-- tenant's tasks newest first (tasks_by_owner) or the table's, and skip the rest, which costs rows
-- read ($0.001 a million) instead of rows written ($1 a million) on every task.
DROP INDEX IF EXISTS tasks_by_status;
DROP INDEX IF EXISTS tasks_by_owner_status;
-- The operator's newest failures still read a bounded number of rows: failed tasks alone are indexed.
CREATE INDEX IF NOT EXISTS tasks_failed_by_status ON tasks (status, seq) WHERE status <> 'PENDING' AND status <> 'SUCCESS';
