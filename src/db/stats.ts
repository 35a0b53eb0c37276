/**
 * The D1 queries behind GET /api/v1/stats. Each one is a range search of an index over the window's
 * tasks (migrations/0003_stats.sql), never a read of the whole table; test/worker/stats-plans.test.ts
 * states their query plans. They run in one batch, so every figure describes the same moment.
 */
import { TASK_STATUSES, type TaskStatus } from "../domain/task-record";

export const HOUR_MS = 3_600_000;
export const RECENT_FAILURES = 20;
export const FAILING_HOSTS = 10;

/** The final statuses that are not a success: what the operator's view calls a failure. */
const FAILED = "status NOT IN ('PENDING', 'SUCCESS')";
/** Results the upstream produced (a timeout is the gateway giving up, not a time to result). */
const RESULTED = "result_source IN ('callback', 'poll') AND completed_at IS NOT NULL";

/**
 * One row per clock hour (UTC) and tenant that have tasks in the window, in the index's own order
 * (tasks_stats_by_hour), so the grouping needs no sort. ?2 is the window's first clock hour.
 */
const HOURLY_SQL = `SELECT created_at / ${HOUR_MS} AS clock_hour, owner, COUNT(*) AS created,
	${TASK_STATUSES.map((status) => `SUM(status = '${status}') AS "${status}"`).join(", ")},
	SUM(result_source = 'callback') AS by_callback, SUM(result_source = 'poll') AS by_poll,
	SUM(result_source = 'timeout') AS by_timeout,
	SUM(delivery_state = 'pending') AS delivery_pending, SUM(delivery_state = 'delivered') AS delivery_delivered,
	SUM(delivery_state = 'failed') AS delivery_failed
FROM tasks WHERE created_at / ${HOUR_MS} >= ?2 AND created_at >= ?1 GROUP BY created_at / ${HOUR_MS}, owner`;

/** Ranks (0-based, from the bottom for p50 and from the top for p95) of the nearest-rank percentiles. */
const P50_OFFSET = `SELECT (COUNT(*) + 1) / 2 - 1 FROM tasks WHERE created_at >= ?1 AND ${RESULTED}`;
const P95_OFFSET = `SELECT COUNT(*) - (COUNT(*) * 95 + 99) / 100 FROM tasks WHERE created_at >= ?1 AND ${RESULTED}`;

/**
 * Nearest-rank percentiles: the time at rank ceil(p·n) of the n sorted times, the rank counted in
 * the same statement. Two ways to find it, each best for its windows (bench/stats-scale.mjs), each
 * naming its index (left to itself, SQLite would walk the times in order for both):
 * - short windows sort the window's own times, read from the range of created_at (a few
 *   thousand rows; p95 is read from the top, so the sort keeps only the few largest);
 * - long windows walk the times in order (tasks_by_time_to_result) from either end and stop at
 *   the rank, skipping tasks created before the window, instead of sorting most of the table.
 */
export const SORTED_PERCENTILES_MAX_HOURS = 24;
const sortedPercentile = (order: "ASC" | "DESC", offset: string) =>
	`SELECT completed_at - created_at AS ms FROM tasks INDEXED BY tasks_results_by_created WHERE created_at >= ?1 AND ${RESULTED}
	ORDER BY ms ${order} LIMIT 1 OFFSET (${offset})`;
const walkedPercentile = (order: "ASC" | "DESC", offset: string) =>
	`SELECT completed_at - created_at AS ms FROM tasks INDEXED BY tasks_by_time_to_result
	WHERE ${RESULTED} AND created_at >= ?1 ORDER BY completed_at - created_at ${order} LIMIT 1 OFFSET (${offset})`;

const FAILURES_SQL = `SELECT task_id, owner, status, error_code, error_message, result_source, created_at, completed_at
FROM tasks WHERE created_at >= ?1 AND ${FAILED} ORDER BY created_at DESC LIMIT ${RECENT_FAILURES}`;

/** Deliveries given up, and those still pending after a failed attempt, per host of callBackUrl. */
const HOSTS_SQL = `SELECT callback_host AS host, SUM(delivery_state = 'failed') AS failed,
	SUM(delivery_state = 'pending') AS retrying
FROM tasks WHERE created_at >= ?1 AND delivery_state IN ('pending', 'failed')
	AND (delivery_state = 'failed' OR json_extract(delivery, '$.lastError') IS NOT NULL)
GROUP BY callback_host ORDER BY failed + retrying DESC, host ASC LIMIT ${FAILING_HOSTS}`;

/** Every statement, by name, for the test that states their plans. */
export const STATS_STATEMENTS = {
	hourly: HOURLY_SQL,
	p50Sorted: sortedPercentile("ASC", P50_OFFSET),
	p95Sorted: sortedPercentile("DESC", P95_OFFSET),
	p50Walked: walkedPercentile("ASC", P50_OFFSET),
	p95Walked: walkedPercentile("DESC", P95_OFFSET),
	failures: FAILURES_SQL,
	hosts: HOSTS_SQL,
} as const;

type StatusCounts = Record<TaskStatus, number>;

interface HourlyRow extends StatusCounts {
	clock_hour: number;
	owner: string | null;
	created: number;
	by_callback: number;
	by_poll: number;
	by_timeout: number;
	delivery_pending: number;
	delivery_delivered: number;
	delivery_failed: number;
}

interface FailureRow {
	task_id: string;
	owner: string | null;
	status: TaskStatus;
	error_code: number | null;
	error_message: string | null;
	result_source: string | null;
	created_at: number;
	completed_at: number | null;
}

export interface HourCounts {
	/** Unix ms: a clock hour's start, or the window's for its first hour (which starts within it). */
	since: number;
	created: number;
	byStatus: StatusCounts;
}

export interface WindowStats {
	created: number;
	byStatus: StatusCounts;
	bySource: { callback: number; poll: number; timeout: number };
	timeToResultMs: { p50: number | null; p95: number | null };
	deliveries: { pending: number; delivered: number; failed: number };
	hourly: HourCounts[];
	recentFailures: FailureRow[];
	failingHosts: { host: string | null; failed: number; retrying: number }[];
	/** Each tenant's tasks in the window (tasks stored before tenants have no owner and are left out). */
	creates: Map<string, number>;
}

function zeroStatuses(): StatusCounts {
	return Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])) as StatusCounts;
}

/**
 * The figures of the tasks created since `since`, `hours` hours before now: hour by hour in
 * clock hours (UTC), `hours + 1` of them, the first from `since` and the last up to now.
 */
export async function readWindowStats(db: D1Database, since: number, hours: number): Promise<WindowStats> {
	const firstHour = Math.floor(since / HOUR_MS);
	const [p50Sql, p95Sql] =
		hours <= SORTED_PERCENTILES_MAX_HOURS
			? [STATS_STATEMENTS.p50Sorted, STATS_STATEMENTS.p95Sorted]
			: [STATS_STATEMENTS.p50Walked, STATS_STATEMENTS.p95Walked];
	const [hourly, p50, p95, failures, hosts] = await db.batch<unknown>([
		db.prepare(HOURLY_SQL).bind(since, firstHour),
		...[p50Sql, p95Sql, FAILURES_SQL, HOSTS_SQL].map((sql) => db.prepare(sql).bind(since)),
	]);
	const stats: WindowStats = {
		created: 0,
		byStatus: zeroStatuses(),
		bySource: { callback: 0, poll: 0, timeout: 0 },
		timeToResultMs: { p50: firstMs(p50), p95: firstMs(p95) },
		deliveries: { pending: 0, delivered: 0, failed: 0 },
		hourly: Array.from({ length: hours + 1 }, (_, hour) => ({
			since: hour === 0 ? since : (firstHour + hour) * HOUR_MS,
			created: 0,
			byStatus: zeroStatuses(),
		})),
		recentFailures: (failures?.results ?? []) as FailureRow[],
		failingHosts: (hosts?.results ?? []) as WindowStats["failingHosts"],
		creates: new Map(),
	};
	for (const row of (hourly?.results ?? []) as HourlyRow[]) {
		// A task stamped a moment after now (clocks differ by a few ms) belongs to the last hour.
		const bucket = stats.hourly[Math.min(row.clock_hour - firstHour, hours)] as HourCounts;
		bucket.created += row.created;
		stats.created += row.created;
		if (row.owner !== null) stats.creates.set(row.owner, (stats.creates.get(row.owner) ?? 0) + row.created);
		for (const status of TASK_STATUSES) {
			bucket.byStatus[status] += row[status];
			stats.byStatus[status] += row[status];
		}
		stats.bySource.callback += row.by_callback;
		stats.bySource.poll += row.by_poll;
		stats.bySource.timeout += row.by_timeout;
		stats.deliveries.pending += row.delivery_pending;
		stats.deliveries.delivered += row.delivery_delivered;
		stats.deliveries.failed += row.delivery_failed;
	}
	return stats;
}

function firstMs(result: D1Result<unknown> | undefined): number | null {
	const row = result?.results[0] as { ms: number } | undefined;
	return row ? row.ms : null;
}
