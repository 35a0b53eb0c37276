/**
 * The D1 queries behind GET /api/v1/stats. The figures come from rollups the tasks table keeps by
 * triggers as rows change (migrations/0004_lifecycle.sql, 0007_task_counts.sql): a row per creation
 * hour and tenant counting its tasks by status, source and delivery state; times to result in
 * 4%-wide buckets; deliveries in trouble by host. So a window costs the same whatever the number of
 * tasks, and archived tasks (whose rows are gone) still count. They run in one batch, so every
 * figure describes the same moment.
 */
import { type ResultSource, TASK_STATUSES, type TaskStatus } from "../domain/task-record";
import type { DeliveryState } from "../domain/delivery";

export const HOUR_MS = 3_600_000;
export const RECENT_FAILURES = 20;
export const FAILING_HOSTS = 10;
/** The archive backlog is counted up to this many tasks (a number past it says "at least"). */
export const BACKLOG_COUNTED = 10_000;
/** Each time bucket is 4% wider than the last: a bucket's middle is within 2% of any time in it. */
const BUCKET_RATIO = 1.04;

const FAILED_STATUSES = TASK_STATUSES.filter((status) => status !== "PENDING" && status !== "SUCCESS");

/** task_counts' column of each status (tasks created are their sum). */
const STATUS_COLUMNS = Object.fromEntries(TASK_STATUSES.map((status) => [status, `status_${status.toLowerCase()}`])) as Record<TaskStatus, string>;
const SOURCES: readonly ResultSource[] = ["callback", "poll", "timeout"];
const DELIVERY_STATES: readonly DeliveryState[] = ["pending", "delivered", "failed"];
const COUNT_COLUMNS = [
	...Object.values(STATUS_COLUMNS),
	...SOURCES.map((source) => `source_${source}`),
	...DELIVERY_STATES.map((state) => `delivery_${state}`),
];
const ROLLUPS_SQL = `SELECT hour, owner, ${COUNT_COLUMNS.join(", ")} FROM task_counts WHERE hour >= ?1`;
const TIMES_SQL = `SELECT b.from_ms AS from_ms, SUM(r.tasks) AS tasks FROM result_time_rollups r JOIN result_time_buckets b ON b.bucket = r.bucket
WHERE r.hour >= ?1 GROUP BY r.bucket ORDER BY r.bucket`;
const HOSTS_SQL = `SELECT host, SUM(failed) AS failed, SUM(retried) AS retried FROM delivery_host_rollups WHERE hour >= ?1
GROUP BY host HAVING SUM(failed) + SUM(retried) > 0 ORDER BY SUM(failed) + SUM(retried) DESC, host ASC LIMIT ${FAILING_HOSTS}`;
/**
 * Among the live tasks (an archived task's row is gone): the newest of each failed status through
 * tasks_failed_by_status (which indexes failed tasks alone, hence its terms repeated here, for the
 * planner to use it), walked backwards and stopping at RECENT_FAILURES each, so however many
 * failures are live the query reads a bounded number of rows; then the newest of those.
 */
const FAILURES_SQL = `SELECT * FROM (${FAILED_STATUSES.map(
	(status) => `SELECT * FROM (SELECT task_id, owner, status, error_code, error_message, result_source, created_at, completed_at
	FROM tasks WHERE status = '${status}' AND status <> 'PENDING' AND status <> 'SUCCESS' AND created_at >= ?1 ORDER BY seq DESC LIMIT ${RECENT_FAILURES})`,
).join(" UNION ALL ")}) ORDER BY created_at DESC LIMIT ${RECENT_FAILURES}`;
/**
 * Final tasks past their archive time among the oldest BACKLOG_COUNTED live rows: archived rows are
 * gone, so a backlog is found there, and reading no more rows keeps this cheap however many are live.
 */
const BACKLOG_SQL = `SELECT COUNT(*) AS n FROM (SELECT status, completed_at, delivery_state FROM tasks ORDER BY seq LIMIT ${BACKLOG_COUNTED})
WHERE status <> 'PENDING' AND completed_at <= ?1 AND (delivery_state IS NULL OR delivery_state <> 'pending')`;

/** Every statement, by name, for the test that states their plans. */
export const STATS_STATEMENTS = { rollups: ROLLUPS_SQL, times: TIMES_SQL, hosts: HOSTS_SQL, failures: FAILURES_SQL, backlog: BACKLOG_SQL } as const;

type StatusCounts = Record<TaskStatus, number>;

/** A row of task_counts: its hour, its tenant and a count per column of COUNT_COLUMNS. */
interface CountsRow {
	hour: number;
	owner: string;
	[column: string]: number | string;
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
	/** Unix ms: a clock hour's start. */
	since: number;
	created: number;
	byStatus: StatusCounts;
}

export interface WindowStats {
	/** The window's start: the clock hour `hours` hours before now began. */
	since: number;
	created: number;
	byStatus: StatusCounts;
	bySource: { callback: number; poll: number; timeout: number };
	timeToResultMs: { p50: number | null; p95: number | null };
	deliveries: { pending: number; delivered: number; failed: number };
	hourly: HourCounts[];
	recentFailures: FailureRow[];
	failingHosts: { host: string; failed: number; retried: number }[];
	/** Each tenant's tasks in the window (tasks stored before tenants have no owner and are left out). */
	creates: Map<string, number>;
	/** Final tasks past ARCHIVE_AFTER_SECONDS not archived yet (among the oldest BACKLOG_COUNTED live tasks). */
	archiveBacklog: number;
	/** D1's size in bytes, as it reports itself. */
	databaseBytes: number;
}

function zeroStatuses(): StatusCounts {
	return Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])) as StatusCounts;
}

/**
 * The figures of the tasks created in the last `hours` hours and the clock hour before (the window
 * starts on a full hour), hour by hour: `hours + 1` clock hours up to now.
 */
export async function readWindowStats(db: D1Database, now: number, hours: number, archiveAfterMs: number): Promise<WindowStats> {
	const firstHour = Math.floor(now / HOUR_MS) - hours;
	const since = firstHour * HOUR_MS;
	const [rollups, times, hosts, failures, backlog] = await db.batch<unknown>([
		db.prepare(ROLLUPS_SQL).bind(firstHour),
		db.prepare(TIMES_SQL).bind(firstHour),
		db.prepare(HOSTS_SQL).bind(firstHour),
		db.prepare(FAILURES_SQL).bind(since),
		db.prepare(BACKLOG_SQL).bind(now - archiveAfterMs),
	]);
	const stats: WindowStats = {
		since,
		created: 0,
		byStatus: zeroStatuses(),
		bySource: { callback: 0, poll: 0, timeout: 0 },
		timeToResultMs: percentiles((times?.results ?? []) as { from_ms: number; tasks: number }[]),
		deliveries: { pending: 0, delivered: 0, failed: 0 },
		hourly: Array.from({ length: hours + 1 }, (_, hour) => ({ since: (firstHour + hour) * HOUR_MS, created: 0, byStatus: zeroStatuses() })),
		recentFailures: (failures?.results ?? []) as FailureRow[],
		failingHosts: (hosts?.results ?? []) as WindowStats["failingHosts"],
		creates: new Map(),
		archiveBacklog: ((backlog?.results[0] ?? { n: 0 }) as { n: number }).n,
		databaseBytes: backlog?.meta.size_after ?? 0,
	};
	for (const row of (rollups?.results ?? []) as CountsRow[]) {
		// A task stamped a moment after now (clocks differ by a few ms) belongs to the last hour.
		const bucket = stats.hourly[Math.min(row.hour - firstHour, hours)] as HourCounts;
		let created = 0;
		for (const status of TASK_STATUSES) {
			const tasks = row[STATUS_COLUMNS[status]] as number;
			created += tasks;
			bucket.byStatus[status] += tasks;
			stats.byStatus[status] += tasks;
		}
		bucket.created += created;
		stats.created += created;
		// As when rollup rows of no task were skipped: a tenant is listed for the tasks it has.
		if (row.owner !== "" && created !== 0) stats.creates.set(row.owner, (stats.creates.get(row.owner) ?? 0) + created);
		for (const source of SOURCES) stats.bySource[source] += row[`source_${source}`] as number;
		for (const state of DELIVERY_STATES) stats.deliveries[state] += row[`delivery_${state}`] as number;
	}
	return stats;
}

/**
 * Nearest-rank p50 and p95 from the buckets: the bucket holding rank ceil(p·n) of the n times,
 * answered by its middle, within 2% of any time in it.
 */
function percentiles(buckets: { from_ms: number; tasks: number }[]): { p50: number | null; p95: number | null } {
	const total = buckets.reduce((sum, bucket) => sum + bucket.tasks, 0);
	const at = (p: number): number | null => {
		if (total === 0) return null;
		const rank = Math.ceil(p * total);
		let seen = 0;
		for (const bucket of buckets) {
			seen += bucket.tasks;
			if (seen >= rank) return Math.round(bucket.from_ms * Math.sqrt(BUCKET_RATIO));
		}
		return null;
	};
	return { p50: at(0.5), p95: at(0.95) };
}
