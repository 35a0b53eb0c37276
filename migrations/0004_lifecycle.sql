-- 0004: results that outlive D1. Tasks are archived into R2 once settled, D1 keeps what is live,
-- and the operator's figures come from rollups kept as tasks change instead of from every row.
-- Never edit this file: later changes are new files.

-- A task's prompt and lyrics, compressed: raw DEFLATE of the JSON {"prompt": …, "items": […]}.
-- Rows written from now on keep prompt '' and items '[]'; rows written before keep them there
-- until their next write (or their archive), and readers take whichever is filled.
ALTER TABLE tasks ADD COLUMN payload BLOB;

-- The five indexes the figures were counted from: rollups replace them (fewer rows written per task).
DROP INDEX IF EXISTS tasks_stats_by_hour;
DROP INDEX IF EXISTS tasks_results_by_created;
DROP INDEX IF EXISTS tasks_failures_by_created;
DROP INDEX IF EXISTS tasks_troubled_deliveries;
DROP INDEX IF EXISTS tasks_by_time_to_result;

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

-- Tasks by creation hour, tenant ('' before tenants), status, result source ('' while pending)
-- and delivery state ('' without one); kept by the triggers below as rows change, never read from rows.
CREATE TABLE IF NOT EXISTS task_rollups (
	hour INTEGER NOT NULL,
	owner TEXT NOT NULL,
	status TEXT NOT NULL,
	source TEXT NOT NULL,
	delivery TEXT NOT NULL,
	tasks INTEGER NOT NULL,
	PRIMARY KEY (hour, owner, status, source, delivery)
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

CREATE TRIGGER IF NOT EXISTS tasks_rollup_insert AFTER INSERT ON tasks BEGIN
	INSERT INTO task_rollups (hour, owner, status, source, delivery, tasks)
	VALUES (NEW.created_at / 3600000, COALESCE(NEW.owner, ''), NEW.status, COALESCE(NEW.result_source, ''), COALESCE(NEW.delivery_state, ''), 1)
	ON CONFLICT DO UPDATE SET tasks = tasks + 1;
	INSERT INTO result_time_rollups (hour, bucket, tasks)
	SELECT NEW.created_at / 3600000,
		COALESCE((SELECT bucket FROM result_time_buckets WHERE from_ms <= NEW.completed_at - NEW.created_at ORDER BY from_ms DESC LIMIT 1), 0), 1
	WHERE NEW.result_source IN ('callback', 'poll') AND NEW.completed_at IS NOT NULL
	ON CONFLICT DO UPDATE SET tasks = tasks + 1;
END;

CREATE TRIGGER IF NOT EXISTS tasks_rollup_update AFTER UPDATE OF status, result_source, delivery_state ON tasks
WHEN OLD.status IS NOT NEW.status OR OLD.result_source IS NOT NEW.result_source OR OLD.delivery_state IS NOT NEW.delivery_state
BEGIN
	UPDATE task_rollups SET tasks = tasks - 1
	WHERE hour = OLD.created_at / 3600000 AND owner = COALESCE(OLD.owner, '') AND status = OLD.status
		AND source = COALESCE(OLD.result_source, '') AND delivery = COALESCE(OLD.delivery_state, '');
	INSERT INTO task_rollups (hour, owner, status, source, delivery, tasks)
	VALUES (NEW.created_at / 3600000, COALESCE(NEW.owner, ''), NEW.status, COALESCE(NEW.result_source, ''), COALESCE(NEW.delivery_state, ''), 1)
	ON CONFLICT DO UPDATE SET tasks = tasks + 1;
	INSERT INTO result_time_rollups (hour, bucket, tasks)
	SELECT NEW.created_at / 3600000,
		COALESCE((SELECT bucket FROM result_time_buckets WHERE from_ms <= NEW.completed_at - NEW.created_at ORDER BY from_ms DESC LIMIT 1), 0), 1
	WHERE NEW.result_source IN ('callback', 'poll') AND NEW.completed_at IS NOT NULL
		AND (OLD.result_source IS NULL OR OLD.result_source NOT IN ('callback', 'poll'))
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

-- The rows stored before this migration, counted in.
INSERT INTO task_rollups (hour, owner, status, source, delivery, tasks)
SELECT created_at / 3600000, COALESCE(owner, ''), status, COALESCE(result_source, ''), COALESCE(delivery_state, ''), COUNT(*)
FROM tasks GROUP BY 1, 2, 3, 4, 5;
INSERT INTO result_time_rollups (hour, bucket, tasks)
SELECT hour, bucket, COUNT(*) FROM (
	SELECT created_at / 3600000 AS hour,
		COALESCE((SELECT bucket FROM result_time_buckets WHERE from_ms <= completed_at - created_at ORDER BY from_ms DESC LIMIT 1), 0) AS bucket
	FROM tasks WHERE result_source IN ('callback', 'poll') AND completed_at IS NOT NULL
) GROUP BY hour, bucket;
INSERT INTO delivery_host_rollups (hour, host, failed, retried)
SELECT created_at / 3600000, callback_host, SUM(delivery_state IS 'failed'),
	SUM(delivery_state IS 'failed' OR json_extract(delivery, '$.lastError') IS NOT NULL OR COALESCE(json_extract(delivery, '$.attempts'), 0) > 1)
FROM tasks WHERE callback_host IS NOT NULL AND delivery IS NOT NULL
	AND (delivery_state IS 'failed' OR json_extract(delivery, '$.lastError') IS NOT NULL OR COALESCE(json_extract(delivery, '$.attempts'), 0) > 1)
GROUP BY 1, 2;
