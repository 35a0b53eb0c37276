-- D1 schema: what readers see. Each task's Durable Object decides its state and writes it here
-- while the task is live; once archived (into R2) or deleted, only a mark of it stays (task_marks).
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
	-- '' for rows written since 0004, whose prompt and lyrics are in payload.
	prompt TEXT NOT NULL,
	-- The client's own callBackUrl, if any (never sent upstream).
	callback_url TEXT,
	-- The ref of the callback URL the gateway minted for this task: a callback carrying it is
	-- for this task only.
	callback_ref TEXT,
	status TEXT NOT NULL,
	-- JSON array of {text, title, status, errorMessage}; '[]' for rows written since 0004.
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
	-- deliveries from a rollup instead of reading every row's JSON.
	delivery_state TEXT,
	-- The host (and port) of callback_url, never its path, query or credentials: which hosts'
	-- deliveries fail, for the operator's view.
	callback_host TEXT,
	-- The prompt and lyrics, compressed: raw DEFLATE of the JSON {"prompt": …, "items": […]}.
	payload BLOB
);

-- A tenant's list, newest first (a ?status= filter skips the rest: no index by status, which every
-- task's result would rewrite).
CREATE INDEX IF NOT EXISTS tasks_by_owner ON tasks (owner, seq);
-- The operator's newest failures: failed tasks alone.
CREATE INDEX IF NOT EXISTS tasks_failed_by_status ON tasks (status, seq) WHERE status <> 'PENDING' AND status <> 'SUCCESS';
CREATE UNIQUE INDEX IF NOT EXISTS tasks_by_callback_ref ON tasks (callback_ref);
-- The poller's: pending tasks, due soonest first.
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

-- What is left in D1 of a task no longer live: archived (the archive holds it, under
-- tasks/<task_id>.json) or deleted (nothing holds it). No prompt, no lyrics; kept 720 hours
-- after the task's creation, so late callbacks for it are acknowledged and lookups are cheap.
CREATE TABLE IF NOT EXISTS task_marks (
	task_id TEXT PRIMARY KEY,
	owner TEXT,
	created_at INTEGER NOT NULL,
	-- 'archived' or 'deleted'.
	state TEXT NOT NULL,
	marked_at INTEGER NOT NULL,
	-- Deleted, but its object or its archive copy may still hold it: the cron purges it, then clears this.
	purge_pending INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS task_marks_by_created ON task_marks (created_at);
CREATE INDEX IF NOT EXISTS task_marks_to_purge ON task_marks (marked_at) WHERE purge_pending = 1;

-- Where the cron's lifecycle sweeps have got to (hours, as created_at / 3600000).
CREATE TABLE IF NOT EXISTS lifecycle_progress (name TEXT PRIMARY KEY, hour INTEGER NOT NULL);

-- The figures' rollups before 0007, no longer counted or read: kept so the version running during
-- that upgrade could still answer its stats; a later migration drops it.
CREATE TABLE IF NOT EXISTS task_rollups (
	hour INTEGER NOT NULL,
	owner TEXT NOT NULL,
	status TEXT NOT NULL,
	source TEXT NOT NULL,
	delivery TEXT NOT NULL,
	tasks INTEGER NOT NULL,
	PRIMARY KEY (hour, owner, status, source, delivery)
) WITHOUT ROWID;

-- Tasks by creation hour and tenant ('' before tenants): a count per status, per result source (none
-- while pending) and per delivery state (none without one), kept by the triggers below as rows change,
-- never read from rows. One row per hour and tenant, so a task's change writes one row (D1 bills each).
-- Tasks created are the sum of the status counts (a status added to TASK_STATUSES needs a column).
CREATE TABLE IF NOT EXISTS task_counts (
	hour INTEGER NOT NULL,
	owner TEXT NOT NULL,
	status_pending INTEGER NOT NULL DEFAULT 0,
	status_success INTEGER NOT NULL DEFAULT 0,
	status_generate_lyrics_failed INTEGER NOT NULL DEFAULT 0,
	status_sensitive_word_error INTEGER NOT NULL DEFAULT 0,
	status_create_task_failed INTEGER NOT NULL DEFAULT 0,
	status_callback_exception INTEGER NOT NULL DEFAULT 0,
	source_callback INTEGER NOT NULL DEFAULT 0,
	source_poll INTEGER NOT NULL DEFAULT 0,
	source_timeout INTEGER NOT NULL DEFAULT 0,
	delivery_pending INTEGER NOT NULL DEFAULT 0,
	delivery_delivered INTEGER NOT NULL DEFAULT 0,
	delivery_failed INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (hour, owner)
) WITHOUT ROWID;

-- Times from create to a result the upstream gave (callback or poll), by creation hour, in
-- buckets 4% wide: bucket k holds times from 1.04^k ms up to 1.04^(k+1) ms.
CREATE TABLE IF NOT EXISTS result_time_buckets (bucket INTEGER PRIMARY KEY, from_ms REAL NOT NULL UNIQUE);
WITH RECURSIVE b(k, ms) AS (SELECT 0, 1.0 UNION ALL SELECT k + 1, ms * 1.04 FROM b WHERE k < 600)
INSERT OR IGNORE INTO result_time_buckets (bucket, from_ms) SELECT k, ms FROM b;
CREATE TABLE IF NOT EXISTS result_time_rollups (
	hour INTEGER NOT NULL,
	bucket INTEGER NOT NULL,
	tasks INTEGER NOT NULL,
	PRIMARY KEY (hour, bucket)
) WITHOUT ROWID;

-- Deliveries to clients' callBackUrl that gave up (failed) or whose first attempt failed (retried), by host.
CREATE TABLE IF NOT EXISTS delivery_host_rollups (
	hour INTEGER NOT NULL,
	host TEXT NOT NULL,
	failed INTEGER NOT NULL DEFAULT 0,
	retried INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (hour, host)
) WITHOUT ROWID;

-- A new task adds itself to its hour and tenant's row (IS, not =: a NULL source or delivery counts 0).
CREATE TRIGGER IF NOT EXISTS tasks_counts_insert AFTER INSERT ON tasks BEGIN
	INSERT INTO task_counts (hour, owner, status_pending, status_success, status_generate_lyrics_failed, status_sensitive_word_error,
		status_create_task_failed, status_callback_exception, source_callback, source_poll, source_timeout, delivery_pending, delivery_delivered, delivery_failed)
	VALUES (NEW.created_at / 3600000, COALESCE(NEW.owner, ''), NEW.status IS 'PENDING', NEW.status IS 'SUCCESS', NEW.status IS 'GENERATE_LYRICS_FAILED',
		NEW.status IS 'SENSITIVE_WORD_ERROR', NEW.status IS 'CREATE_TASK_FAILED', NEW.status IS 'CALLBACK_EXCEPTION', NEW.result_source IS 'callback',
		NEW.result_source IS 'poll', NEW.result_source IS 'timeout', NEW.delivery_state IS 'pending', NEW.delivery_state IS 'delivered', NEW.delivery_state IS 'failed')
	ON CONFLICT DO UPDATE SET status_pending = status_pending + excluded.status_pending, status_success = status_success + excluded.status_success,
		status_generate_lyrics_failed = status_generate_lyrics_failed + excluded.status_generate_lyrics_failed,
		status_sensitive_word_error = status_sensitive_word_error + excluded.status_sensitive_word_error,
		status_create_task_failed = status_create_task_failed + excluded.status_create_task_failed,
		status_callback_exception = status_callback_exception + excluded.status_callback_exception,
		source_callback = source_callback + excluded.source_callback, source_poll = source_poll + excluded.source_poll, source_timeout = source_timeout + excluded.source_timeout,
		delivery_pending = delivery_pending + excluded.delivery_pending, delivery_delivered = delivery_delivered + excluded.delivery_delivered,
		delivery_failed = delivery_failed + excluded.delivery_failed;
END;

-- A result or a delivery's new state: one row's UPDATE, each count moved by (NEW is x) - (OLD is x).
CREATE TRIGGER IF NOT EXISTS tasks_counts_update AFTER UPDATE OF status, result_source, delivery_state ON tasks
WHEN (OLD.status IS NOT NEW.status OR OLD.result_source IS NOT NEW.result_source OR OLD.delivery_state IS NOT NEW.delivery_state)
	AND OLD.created_at / 3600000 = NEW.created_at / 3600000 AND COALESCE(OLD.owner, '') = COALESCE(NEW.owner, '')
BEGIN
	UPDATE task_counts SET status_pending = status_pending + (NEW.status IS 'PENDING') - (OLD.status IS 'PENDING'),
		status_success = status_success + (NEW.status IS 'SUCCESS') - (OLD.status IS 'SUCCESS'),
		status_generate_lyrics_failed = status_generate_lyrics_failed + (NEW.status IS 'GENERATE_LYRICS_FAILED') - (OLD.status IS 'GENERATE_LYRICS_FAILED'),
		status_sensitive_word_error = status_sensitive_word_error + (NEW.status IS 'SENSITIVE_WORD_ERROR') - (OLD.status IS 'SENSITIVE_WORD_ERROR'),
		status_create_task_failed = status_create_task_failed + (NEW.status IS 'CREATE_TASK_FAILED') - (OLD.status IS 'CREATE_TASK_FAILED'),
		status_callback_exception = status_callback_exception + (NEW.status IS 'CALLBACK_EXCEPTION') - (OLD.status IS 'CALLBACK_EXCEPTION'),
		source_callback = source_callback + (NEW.result_source IS 'callback') - (OLD.result_source IS 'callback'),
		source_poll = source_poll + (NEW.result_source IS 'poll') - (OLD.result_source IS 'poll'),
		source_timeout = source_timeout + (NEW.result_source IS 'timeout') - (OLD.result_source IS 'timeout'),
		delivery_pending = delivery_pending + (NEW.delivery_state IS 'pending') - (OLD.delivery_state IS 'pending'),
		delivery_delivered = delivery_delivered + (NEW.delivery_state IS 'delivered') - (OLD.delivery_state IS 'delivered'),
		delivery_failed = delivery_failed + (NEW.delivery_state IS 'failed') - (OLD.delivery_state IS 'failed')
	WHERE hour = NEW.created_at / 3600000 AND owner = COALESCE(NEW.owner, '');
END;

-- No write changes a task's hour or tenant; should one ever, the task moves to its new row.
CREATE TRIGGER IF NOT EXISTS tasks_counts_move AFTER UPDATE OF created_at, owner ON tasks
WHEN OLD.created_at / 3600000 <> NEW.created_at / 3600000 OR COALESCE(OLD.owner, '') <> COALESCE(NEW.owner, '')
BEGIN
	UPDATE task_counts SET status_pending = status_pending - (OLD.status IS 'PENDING'), status_success = status_success - (OLD.status IS 'SUCCESS'),
		status_generate_lyrics_failed = status_generate_lyrics_failed - (OLD.status IS 'GENERATE_LYRICS_FAILED'),
		status_sensitive_word_error = status_sensitive_word_error - (OLD.status IS 'SENSITIVE_WORD_ERROR'),
		status_create_task_failed = status_create_task_failed - (OLD.status IS 'CREATE_TASK_FAILED'),
		status_callback_exception = status_callback_exception - (OLD.status IS 'CALLBACK_EXCEPTION'),
		source_callback = source_callback - (OLD.result_source IS 'callback'), source_poll = source_poll - (OLD.result_source IS 'poll'),
		source_timeout = source_timeout - (OLD.result_source IS 'timeout'), delivery_pending = delivery_pending - (OLD.delivery_state IS 'pending'),
		delivery_delivered = delivery_delivered - (OLD.delivery_state IS 'delivered'), delivery_failed = delivery_failed - (OLD.delivery_state IS 'failed')
	WHERE hour = OLD.created_at / 3600000 AND owner = COALESCE(OLD.owner, '');
	INSERT INTO task_counts (hour, owner, status_pending, status_success, status_generate_lyrics_failed, status_sensitive_word_error,
		status_create_task_failed, status_callback_exception, source_callback, source_poll, source_timeout, delivery_pending, delivery_delivered, delivery_failed)
	VALUES (NEW.created_at / 3600000, COALESCE(NEW.owner, ''), NEW.status IS 'PENDING', NEW.status IS 'SUCCESS', NEW.status IS 'GENERATE_LYRICS_FAILED',
		NEW.status IS 'SENSITIVE_WORD_ERROR', NEW.status IS 'CREATE_TASK_FAILED', NEW.status IS 'CALLBACK_EXCEPTION', NEW.result_source IS 'callback',
		NEW.result_source IS 'poll', NEW.result_source IS 'timeout', NEW.delivery_state IS 'pending', NEW.delivery_state IS 'delivered', NEW.delivery_state IS 'failed')
	ON CONFLICT DO UPDATE SET status_pending = status_pending + excluded.status_pending, status_success = status_success + excluded.status_success,
		status_generate_lyrics_failed = status_generate_lyrics_failed + excluded.status_generate_lyrics_failed,
		status_sensitive_word_error = status_sensitive_word_error + excluded.status_sensitive_word_error,
		status_create_task_failed = status_create_task_failed + excluded.status_create_task_failed,
		status_callback_exception = status_callback_exception + excluded.status_callback_exception,
		source_callback = source_callback + excluded.source_callback, source_poll = source_poll + excluded.source_poll, source_timeout = source_timeout + excluded.source_timeout,
		delivery_pending = delivery_pending + excluded.delivery_pending, delivery_delivered = delivery_delivered + excluded.delivery_delivered,
		delivery_failed = delivery_failed + excluded.delivery_failed;
END;

-- The time to result of a result by callback or poll: one row of result_time_rollups.
CREATE TRIGGER IF NOT EXISTS tasks_result_time_insert AFTER INSERT ON tasks
WHEN NEW.result_source IN ('callback', 'poll') AND NEW.completed_at IS NOT NULL
BEGIN
	INSERT INTO result_time_rollups (hour, bucket, tasks)
	VALUES (NEW.created_at / 3600000, COALESCE((SELECT bucket FROM result_time_buckets WHERE from_ms <= NEW.completed_at - NEW.created_at ORDER BY from_ms DESC LIMIT 1), 0), 1)
	ON CONFLICT DO UPDATE SET tasks = tasks + 1;
END;

CREATE TRIGGER IF NOT EXISTS tasks_result_time_update AFTER UPDATE OF result_source ON tasks
WHEN NEW.result_source IN ('callback', 'poll') AND NEW.completed_at IS NOT NULL AND (OLD.result_source IS NULL OR OLD.result_source NOT IN ('callback', 'poll'))
BEGIN
	INSERT INTO result_time_rollups (hour, bucket, tasks)
	VALUES (NEW.created_at / 3600000, COALESCE((SELECT bucket FROM result_time_buckets WHERE from_ms <= NEW.completed_at - NEW.created_at ORDER BY from_ms DESC LIMIT 1), 0), 1)
	ON CONFLICT DO UPDATE SET tasks = tasks + 1;
END;

CREATE TRIGGER IF NOT EXISTS tasks_delivery_trouble_insert AFTER INSERT ON tasks
WHEN NEW.callback_host IS NOT NULL AND (NEW.delivery_state = 'failed' OR json_extract(NEW.delivery, '$.lastError') IS NOT NULL)
BEGIN
	INSERT INTO delivery_host_rollups (hour, host, failed, retried)
	VALUES (NEW.created_at / 3600000, NEW.callback_host, NEW.delivery_state = 'failed', json_extract(NEW.delivery, '$.lastError') IS NOT NULL OR NEW.delivery_state = 'failed')
	ON CONFLICT DO UPDATE SET failed = failed + excluded.failed, retried = retried + excluded.retried;
END;

CREATE TRIGGER IF NOT EXISTS tasks_delivery_trouble AFTER UPDATE OF delivery ON tasks
WHEN NEW.callback_host IS NOT NULL AND (
	(NEW.delivery_state = 'failed' AND OLD.delivery_state IS NOT 'failed')
	OR (COALESCE(json_extract(OLD.delivery, '$.attempts'), 0) = 0 AND json_extract(NEW.delivery, '$.lastError') IS NOT NULL)
)
BEGIN
	INSERT INTO delivery_host_rollups (hour, host, failed, retried)
	VALUES (
		NEW.created_at / 3600000,
		NEW.callback_host,
		NEW.delivery_state = 'failed' AND OLD.delivery_state IS NOT 'failed',
		COALESCE(json_extract(OLD.delivery, '$.attempts'), 0) = 0 AND json_extract(NEW.delivery, '$.lastError') IS NOT NULL
	)
	ON CONFLICT DO UPDATE SET failed = failed + excluded.failed, retried = retried + excluded.retried;
END;
