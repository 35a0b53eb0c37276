-- D1 schema: what readers see. Each task's Durable Object decides its state and writes it here.
--
-- This file is the whole current schema in one place, for reading. Databases are created and
-- upgraded by the files in migrations/ (`wrangler d1 migrations apply`), never by this file; a
-- test checks that this file alone and all migrations give the same tables, columns and indexes,
-- so a change to the schema is a new migration plus the same change here.

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
	version INTEGER NOT NULL,
	-- The tenant whose key created the task (API_KEYS / ADMIN_API_KEYS); NULL for a task stored
	-- before tenants existed, which only admin keys see.
	owner TEXT,
	-- delivery.state ('pending', 'delivered', 'failed'), NULL without a delivery: the stats count
	-- deliveries from an index instead of reading every row's JSON.
	delivery_state TEXT,
	-- The host (and port) of callback_url, never its path, query or credentials: which hosts'
	-- deliveries fail, for the operator's view.
	callback_host TEXT
);

CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (status, seq);
-- A tenant's list, newest first, with and without ?status=.
CREATE INDEX IF NOT EXISTS tasks_by_owner ON tasks (owner, seq);
CREATE INDEX IF NOT EXISTS tasks_by_owner_status ON tasks (owner, status, seq);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_by_callback_ref ON tasks (callback_ref);
CREATE INDEX IF NOT EXISTS tasks_pending_by_age ON tasks (created_at) WHERE status = 'PENDING';
-- GET /api/v1/stats: every figure is a range search of an index over the window's tasks
-- (migrations/0003_stats.sql says which query uses which index).
CREATE INDEX IF NOT EXISTS tasks_stats_by_hour ON tasks (created_at / 3600000, owner, status, result_source, delivery_state, created_at);
CREATE INDEX IF NOT EXISTS tasks_results_by_created ON tasks (created_at, result_source, completed_at);
CREATE INDEX IF NOT EXISTS tasks_failures_by_created ON tasks (created_at) WHERE status NOT IN ('PENDING', 'SUCCESS');
CREATE INDEX IF NOT EXISTS tasks_troubled_deliveries ON tasks (created_at, callback_host) WHERE delivery_state IN ('pending', 'failed');
CREATE INDEX IF NOT EXISTS tasks_by_time_to_result ON tasks (completed_at - created_at, created_at, completed_at, result_source)
	WHERE result_source IN ('callback', 'poll') AND completed_at IS NOT NULL;

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
	task_id TEXT,
	-- The tenant that sent the create: the owner of the task its callback adopts.
	owner TEXT
);

-- The cron forgets unanswered creates past the adoption window.
CREATE INDEX IF NOT EXISTS unanswered_creates_by_age ON unanswered_creates (created_at);
