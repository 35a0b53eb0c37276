/**
 * The lifecycle's share of a tick: what no task's own alarm does.
 *   - Tend live tasks D1 shows overdue for their end (archive or retention): tasks stored before
 *     their objects archived themselves (an upgrade), or whose alarm was lost. One object call each.
 *   - Finish deletions a reset left half done (marks still `purge_pending`). One object call each.
 *   - Delete archived tasks past RETENTION_SECONDS: their archive copies in batches, their marks
 *     then say deleted; past 720 hours, through the archive's hour index.
 *   - Drop the marks of one creation hour once 720 hours old, listing its archived tasks in the
 *     archive's hour index first.
 * Object calls come from what the tick's polls left of POLL_MAX_PER_TICK; the rest is at most one
 * D1 read batch, a few D1 writes and a few R2 calls per tick.
 */
import { deleteArchivedTasks, dropHourIndex, indexHour, indexedTasks, oldestIndexedHour } from "../archive/archive";
import type { Config } from "../config/config";
import { readLifecycleWork } from "../db/lifecycle";
import { MARK_HOURS, dropMarksOfHour, markDeleted, marksOfHour, purged } from "../db/marks";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import { archiveDue, retentionDue } from "../task/lifecycle";
import { taskObject } from "../task/stub";
import type { TaskRecord } from "../domain/task-record";

const HOUR_MS = 3_600_000;
/** How many of the oldest live rows are looked at for one overdue (bounded reads, however many are live). */
const LIVE_ROWS_LOOKED_AT = 200;
/** Archive copies deleted per tick for RETENTION_SECONDS (one R2 call per thousand). */
const RETENTION_PER_TICK = 1000;

export interface LifecycleReport {
	tended: number;
	purged: number;
	retained: number;
	marksDropped: number;
}

export async function runLifecycle(env: Env, config: Config, now: number, objectCalls: number): Promise<LifecycleReport> {
	const cutoff = config.retentionSeconds === null ? null : now - config.retentionSeconds * 1000;
	const work = await readLifecycleWork(env.DB, { liveRows: LIVE_ROWS_LOOKED_AT, purgeLimit: objectCalls, retentionCutoff: cutoff, retentionLimit: RETENTION_PER_TICK });
	const report: LifecycleReport = { tended: 0, purged: 0, retained: 0, marksDropped: 0 };

	const toPurge = work.toPurge.slice(0, objectCalls);
	const overdue = work.oldestLive.filter((task) => isOverdue(task, config, now)).slice(0, objectCalls - toPurge.length);
	await Promise.all([
		...overdue.map((task) => attempt("lifecycle_tend_failed", task.taskId, async () => {
			await taskObject(env, task.taskId).tend(task.taskId);
			report.tended += 1;
		})),
		...toPurge.map((taskId) => attempt("lifecycle_purge_failed", taskId, async () => {
			await taskObject(env, taskId).delete(taskId);
			await deleteArchivedTasks(env.ARCHIVE, [taskId]);
			await purged(env.DB, [taskId]);
			report.purged += 1;
		})),
	]);

	if (work.pastRetention.length > 0) {
		await attempt("retention_failed", null, async () => {
			const taskIds = work.pastRetention.map((mark) => mark.taskId);
			await deleteArchivedTasks(env.ARCHIVE, taskIds);
			await markDeleted(env.DB, taskIds, now);
			report.retained += taskIds.length;
		});
	}
	if (cutoff !== null) await attempt("retention_failed", null, () => deleteIndexedHour(env, cutoff));

	const lastHourKept = Math.floor(now / HOUR_MS) - MARK_HOURS;
	if (work.oldestMarkHour !== null && work.oldestMarkHour < lastHourKept) {
		await attempt("marks_drop_failed", null, async () => {
			const hour = work.oldestMarkHour as number;
			const marks = await marksOfHour(env.DB, hour);
			await indexHour(env.ARCHIVE, hour, marks.filter((mark) => mark.state === "archived").map((mark) => mark.taskId));
			await dropMarksOfHour(env.DB, hour);
			report.marksDropped += marks.length;
		});
	}
	if (report.tended + report.purged + report.retained + report.marksDropped > 0) logEvent("info", "lifecycle_tick", { ...report });
	return report;
}

/** Past its archive or retention time, as D1's row tells. */
function isOverdue(task: { status: string; completedAt: number | null; deliveryState: string | null; createdAt: number }, config: Config, now: number): boolean {
	const record = {
		status: task.status,
		completedAt: task.completedAt,
		createdAt: task.createdAt,
		delivery: task.deliveryState ? { state: task.deliveryState } : null,
	} as unknown as TaskRecord;
	const due = [archiveDue(record, config), retentionDue(record, config)].filter((at): at is number => at !== null);
	return due.some((at) => at <= now);
}

/** Archived tasks older than the marks, through the archive's hour index: one hour past the cutoff per tick. */
async function deleteIndexedHour(env: Env, cutoff: number): Promise<void> {
	const hour = await oldestIndexedHour(env.ARCHIVE);
	if (hour === null || (hour + 1) * HOUR_MS > cutoff) return;
	await deleteArchivedTasks(env.ARCHIVE, await indexedTasks(env.ARCHIVE, hour));
	await dropHourIndex(env.ARCHIVE, hour);
}

async function attempt(event: string, taskId: string | null, step: () => Promise<unknown>): Promise<void> {
	try {
		await step();
	} catch (error) {
		logEvent("error", event, { ...(taskId ? { taskId } : {}), error: errorMessage(error) });
	}
}
