-- 0007: one rollup row written per change of a task. Never edit this file: later changes are new files.

-- D1 bills every row a write touches, the triggers' included. task_rollups kept a row per creation
-- hour, tenant, status, source and delivery state: a task's result moved it from one of those rows
-- to another (two rows written), and so did each change of its delivery's state. task_counts keeps
-- one row per creation hour and tenant ('' before tenants) with a count per status, per source and
-- per delivery state: a change is one UPDATE of that row, each count moved by its difference.
-- Tasks created are the sum of the status counts (every task has exactly one of the statuses in
-- src/domain/task-record.ts), so no column of their own: a status added there needs a column here.
CREATE TABLE IF NOT EXISTS task_counts (
	hour INTEGER NOT NULL,
	owner TEXT NOT NULL,
	status_pending INTEGER NOT NULL DEFAULT 0,
	status_success INTEGER NOT NULL DEFAULT 0,
	status_generate_lyrics_failed INTEGER NOT NULL DEFAULT 0,
	status_sensitive_word_error INTEGER NOT NULL DEFAULT 0,
	status_create_task_failed INTEGER NOT NULL DEFAULT 0,
	status_callback_exception INTEGER NOT NULL DEFAULT 0,
	-- How the result arrived (a pending task has none).
	source_callback INTEGER NOT NULL DEFAULT 0,
	source_poll INTEGER NOT NULL DEFAULT 0,
	source_timeout INTEGER NOT NULL DEFAULT 0,
	-- The delivery to the client's callBackUrl (a task without one has none).
	delivery_pending INTEGER NOT NULL DEFAULT 0,
	delivery_delivered INTEGER NOT NULL DEFAULT 0,
	delivery_failed INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (hour, owner)
) WITHOUT ROWID;

-- The counts so far, task_rollups' rows added up by hour and tenant: the figures keep their history
-- exactly (archived tasks, whose rows are gone, included).
INSERT INTO task_counts (hour, owner, status_pending, status_success, status_generate_lyrics_failed, status_sensitive_word_error,
	status_create_task_failed, status_callback_exception, source_callback, source_poll, source_timeout,
	delivery_pending, delivery_delivered, delivery_failed)
SELECT hour, owner, SUM(tasks * (status = 'PENDING')), SUM(tasks * (status = 'SUCCESS')), SUM(tasks * (status = 'GENERATE_LYRICS_FAILED')),
	SUM(tasks * (status = 'SENSITIVE_WORD_ERROR')), SUM(tasks * (status = 'CREATE_TASK_FAILED')), SUM(tasks * (status = 'CALLBACK_EXCEPTION')),
	SUM(tasks * (source = 'callback')), SUM(tasks * (source = 'poll')), SUM(tasks * (source = 'timeout')),
	SUM(tasks * (delivery = 'pending')), SUM(tasks * (delivery = 'delivered')), SUM(tasks * (delivery = 'failed'))
FROM task_rollups GROUP BY hour, owner;

-- task_rollups stops counting here, but stays: the version still running until the deploy replaces
-- it reads it for GET /api/v1/stats, and a frozen table keeps that answering (a few seconds' counts
-- behind) where a dropped one would make it fail. Nothing reads it after; a later migration drops it.
DROP TRIGGER IF EXISTS tasks_rollup_insert;
DROP TRIGGER IF EXISTS tasks_rollup_update;

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

-- A result or a delivery's new state: one UPDATE of the task's row (its insert made it), each count
-- moved by (NEW is x) - (OLD is x), which is 0 for the counts the change leaves alone.
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

-- No write changes a task's creation time or tenant; should one ever, the task leaves its old row
-- for its new one (made if need be), rather than stay counted where it no longer is.
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

-- The time to result, as task_rollups' triggers counted it (one row of result_time_rollups per
-- result by callback or poll), in triggers of its own now that those are gone.
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
