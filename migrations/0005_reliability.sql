-- 0005: no task waits forever, and none is lost. Never edit this file: later changes are new files.

-- The poller takes the tasks due soonest (next_poll_at), not the oldest: tasks whose polls keep
-- failing back off, and so cannot take every tick's budget from a task due before them.
DROP INDEX IF EXISTS tasks_pending_by_age;
CREATE INDEX IF NOT EXISTS tasks_pending_by_due ON tasks (next_poll_at, created_at) WHERE status = 'PENDING';

-- Every create is recorded before it is sent upstream, so no task the upstream names is lost:
-- the record holds what registering the task needs, and the task's id once the upstream names
-- it; it goes once the task object has the task. Kept where the answer never came (a timed-out
-- create, adopted from its callback) or where registering has not landed yet (the cron finishes
-- it). Replaces unanswered_creates, which held timed-out creates alone; keyed by the ref of the
-- create's callback URL, whose first 8 hex digits are its minting time, so the key orders by age.
CREATE TABLE IF NOT EXISTS create_records (
	ref TEXT PRIMARY KEY,
	prompt TEXT NOT NULL,
	callback_url TEXT,
	created_at INTEGER NOT NULL,
	-- The create's Idempotency-Key object, if it had a key: told the task once it is known.
	idempotency_scope TEXT,
	owner TEXT,
	-- The task the upstream named for this create, or the one adopted from it.
	task_id TEXT,
	-- 1 once the task object has the task (an adopted create's record stays, binding its URL).
	registered INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT OR IGNORE INTO create_records (ref, prompt, callback_url, created_at, idempotency_scope, owner, task_id, registered)
SELECT ref, prompt, callback_url, created_at, idempotency_scope, owner, task_id, task_id IS NOT NULL FROM unanswered_creates;
DROP TABLE IF EXISTS unanswered_creates;
