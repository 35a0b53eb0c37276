-- 0001: the schema of lyrics-gateway 0.1.0 (tasks, and creates the upstream answered too late).
-- Every statement only creates what is missing, so a database made earlier by running schema.sql
-- by hand takes this migration without losing a row. Later changes are new files: never edit this one.

CREATE TABLE IF NOT EXISTS tasks (
	-- Insertion order: the list endpoint pages on it, so a task inserted while a client pages
	-- always lands before that client's cursor and every task appears exactly once.
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	task_id TEXT NOT NULL UNIQUE,
	prompt TEXT NOT NULL,
	-- The client's own callBackUrl, if any (never sent upstream).
	callback_url TEXT,
	-- The ref of the callback URL the gateway minted for this task: a callback carrying it is
	-- for this task only.
	callback_ref TEXT,
	status TEXT NOT NULL,
	-- JSON array of {text, title, status, errorMessage}.
	items TEXT NOT NULL DEFAULT '[]',
	error_code INTEGER,
	error_message TEXT,
	-- How the final result arrived: 'callback', 'poll' or 'timeout'.
	result_source TEXT,
	callbacks_received INTEGER NOT NULL DEFAULT 0,
	polls INTEGER NOT NULL DEFAULT 0,
	-- Unix ms; the cron polls a pending task once this has passed.
	next_poll_at INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	completed_at INTEGER,
	-- JSON of the delivery to callback_url once the task is final (src/domain/delivery.ts):
	-- state, attempts, last status and error, next attempt, delivered time. NULL without one.
	delivery TEXT,
	-- The task object's state version; a write never replaces a newer one.
	version INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (status, seq);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_by_callback_ref ON tasks (callback_ref);
CREATE INDEX IF NOT EXISTS tasks_pending_by_age ON tasks (created_at) WHERE status = 'PENDING';

-- Creates the upstream never answered in time (504): it may still have made the task, and its
-- callback then names it. Keyed by the ref of the callback URL minted for the create, so that
-- callback can adopt the task (the task's Durable Object checks with the upstream) instead of it being lost; task_id is set
-- by the one task that adopted it.
CREATE TABLE IF NOT EXISTS unanswered_creates (
	ref TEXT PRIMARY KEY,
	prompt TEXT NOT NULL,
	callback_url TEXT,
	created_at INTEGER NOT NULL,
	-- The create's Idempotency-Key object, if any: told the taskId on adoption, so the key replays it.
	idempotency_scope TEXT,
	task_id TEXT
);

-- The cron forgets unanswered creates past the adoption window.
CREATE INDEX IF NOT EXISTS unanswered_creates_by_age ON unanswered_creates (created_at);
