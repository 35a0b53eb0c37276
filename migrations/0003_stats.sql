-- 0003: what GET /api/v1/stats reads. Two columns the task object writes with every row, so the
-- figures are counted from indexes alone (the delivery's state lives in the `delivery` JSON, and a
-- host is not something SQL can take out of a URL reliably), and the indexes that keep the stats
-- a range search over the window's tasks however many tasks are stored.

-- delivery.state ('pending', 'delivered', 'failed'); NULL without a delivery.
ALTER TABLE tasks ADD COLUMN delivery_state TEXT;
-- The host (and port, if any) of callback_url, never its path, query or credentials.
ALTER TABLE tasks ADD COLUMN callback_host TEXT;

-- Rows stored before this migration: the state from the JSON, the host cut out of the URL by hand
-- (scheme, then path/query/fragment, then any credentials).
UPDATE tasks SET delivery_state = json_extract(delivery, '$.state') WHERE delivery IS NOT NULL;
UPDATE tasks SET callback_host = substr(callback_url, instr(callback_url, '://') + 3) WHERE callback_url IS NOT NULL;
UPDATE tasks SET callback_host = substr(callback_host, 1, instr(callback_host, '/') - 1) WHERE instr(callback_host, '/') > 0;
UPDATE tasks SET callback_host = substr(callback_host, 1, instr(callback_host, '?') - 1) WHERE instr(callback_host, '?') > 0;
UPDATE tasks SET callback_host = substr(callback_host, 1, instr(callback_host, '#') - 1) WHERE instr(callback_host, '#') > 0;
UPDATE tasks SET callback_host = lower(substr(callback_host, instr(callback_host, '@') + 1)) WHERE callback_host IS NOT NULL;

-- Every count of the window, by clock hour (UTC), tenant, status, source and delivery state, read
-- from this index alone in its own order: one range search, no sort, never the table.
CREATE INDEX IF NOT EXISTS tasks_stats_by_hour ON tasks (created_at / 3600000, owner, status, result_source, delivery_state, created_at);
-- The window's times to result (and how many there are), for the percentiles: a range search.
CREATE INDEX IF NOT EXISTS tasks_results_by_created ON tasks (created_at, result_source, completed_at);
-- The most recent failures, newest first, without looking at a successful task.
CREATE INDEX IF NOT EXISTS tasks_failures_by_created ON tasks (created_at) WHERE status NOT IN ('PENDING', 'SUCCESS');
-- Deliveries that are failing or gave up, by host.
CREATE INDEX IF NOT EXISTS tasks_troubled_deliveries ON tasks (created_at, callback_host) WHERE delivery_state IN ('pending', 'failed');
-- Times to result in order, for the percentiles of long windows: walked from either end, stopping
-- at the rank, instead of sorting every time of the window.
CREATE INDEX IF NOT EXISTS tasks_by_time_to_result ON tasks (completed_at - created_at, created_at, completed_at, result_source)
	WHERE result_source IN ('callback', 'poll') AND completed_at IS NOT NULL;
