/**
 * What the cron's lifecycle sweep reads from D1 in one batch (one subrequest of its tick): the
 * oldest live tasks (those overdue for their archive or retention lead them, as archived rows are
 * gone), deleted tasks whose purge a reset left half done, archived tasks past RETENTION_SECONDS,
 * and the oldest hour that still has marks.
 */
import { type Mark, type MarkState } from "./marks";

const HOUR_MS = 3_600_000;

export interface OldLiveTask {
	taskId: string;
	status: string;
	completedAt: number | null;
	deliveryState: string | null;
	createdAt: number;
}

export interface LifecycleWork {
	oldestLive: OldLiveTask[];
	toPurge: string[];
	pastRetention: Mark[];
	oldestMarkHour: number | null;
}

export async function readLifecycleWork(
	db: D1Database,
	{ liveRows, purgeLimit, retentionCutoff, retentionLimit }: { liveRows: number; purgeLimit: number; retentionCutoff: number | null; retentionLimit: number },
): Promise<LifecycleWork> {
	const [live, purge, retention, oldest] = await db.batch<Record<string, unknown>>([
		db.prepare("SELECT task_id, status, completed_at, delivery_state, created_at FROM tasks ORDER BY seq LIMIT ?1").bind(liveRows),
		db.prepare("SELECT task_id FROM task_marks WHERE purge_pending = 1 ORDER BY marked_at LIMIT ?1").bind(purgeLimit),
		db
			.prepare("SELECT task_id, owner, created_at, state FROM task_marks WHERE created_at < ?1 AND state = 'archived' ORDER BY created_at LIMIT ?2")
			.bind(retentionCutoff ?? 0, retentionCutoff === null ? 0 : retentionLimit),
		db.prepare("SELECT MIN(created_at) AS at FROM task_marks"),
	]);
	const rows = <T>(result: D1Result<Record<string, unknown>> | undefined) => (result?.results ?? []) as T[];
	const at = rows<{ at: number | null }>(oldest)[0]?.at ?? null;
	return {
		oldestLive: rows<{ task_id: string; status: string; completed_at: number | null; delivery_state: string | null; created_at: number }>(live).map(
			(row) => ({ taskId: row.task_id, status: row.status, completedAt: row.completed_at, deliveryState: row.delivery_state, createdAt: row.created_at }),
		),
		toPurge: rows<{ task_id: string }>(purge).map((row) => row.task_id),
		pastRetention: rows<{ task_id: string; owner: string | null; created_at: number; state: MarkState }>(retention).map((row) => ({
			taskId: row.task_id,
			owner: row.owner,
			createdAt: row.created_at,
			state: row.state,
		})),
		oldestMarkHour: at === null ? null : Math.floor(at / HOUR_MS),
	};
}
