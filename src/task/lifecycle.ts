/**
 * The end of a task's life in its object. Archived: ARCHIVE_AFTER_SECONDS after it became final,
 * once a delivery to its client is settled, the archive (R2) gets it exactly as record-info
 * answers it. Deleted: RETENTION_SECONDS after its creation, or when DELETE asks. Either way D1
 * then keeps only a mark (src/db/marks.ts), and the object erases its whole storage: a task that
 * is no longer live costs nothing here. The archive's and D1's steps may be repeated safely, so a
 * reset half way is made good by the next run.
 */
import { deleteArchivedTasks, putArchivedTask } from "../archive/archive";
import type { Config } from "../config/config";
import { markTask, purged } from "../db/marks";
import { toRecordInfo } from "../domain/record-info";
import type { TaskRecord } from "../domain/task-record";
import { backoffMs } from "../lib/retry";
import { earliest } from "../lib/durable-alarm";

export type EndOfLife = "archive" | "delete";

/** A failed archive or delete is tried again after 1 minute, doubling to an hour. */
const RETRY_BACKOFF = { firstMs: 60_000, maxMs: 3_600_000 };

/** When the task is due to be archived: null while it is pending or a delivery to its client is. */
export function archiveDue(record: Readonly<TaskRecord>, config: Config): number | null {
	if (record.status === "PENDING" || record.completedAt === null || record.delivery?.state === "pending") return null;
	return record.completedAt + config.archiveAfterSeconds * 1000;
}

export function retentionDue(record: Readonly<TaskRecord>, config: Config): number | null {
	return config.retentionSeconds === null ? null : record.createdAt + config.retentionSeconds * 1000;
}

export class Lifecycle {
	private failures = 0;
	private retryAt = 0;
	/** Whether the last delete removed the archive copy (if any). */
	private copyRemoved = false;

	/** When the task's end is next due: its archive or its retention time, not before a failure's retry. */
	nextRun(record: Readonly<TaskRecord>, config: Config): number | null {
		const due = earliest([archiveDue(record, config), retentionDue(record, config)]);
		return due === null ? null : Math.max(due, this.retryAt);
	}

	/** Which end is due at `now`, if any (deletion first: it leaves nothing to archive). */
	due(record: Readonly<TaskRecord>, config: Config, now: number): EndOfLife | null {
		if (now < this.retryAt) return null;
		const retention = retentionDue(record, config);
		if (retention !== null && retention <= now) return "delete";
		const archive = archiveDue(record, config);
		return archive !== null && archive <= now ? "archive" : null;
	}

	/**
	 * Puts the task in the archive and marks it archived in D1 (which drops its row). False when its
	 * record changed meanwhile (it is archived afresh on the next run). Throws when a step failed.
	 */
	async archive(env: Env, record: Readonly<TaskRecord>, versionNow: () => number | null): Promise<boolean> {
		await this.attempt(() => putArchivedTask(env.ARCHIVE, toRecordInfo(record)));
		// A callback decided during the upload (a genuine result over the gateway's timeout): archive that instead.
		if (versionNow() !== record.version) return false;
		await this.attempt(() => markTask(env.DB, { taskId: record.taskId, owner: record.owner, createdAt: record.createdAt, state: "archived" }, Date.now()));
		return true;
	}

	/**
	 * Marks the task deleted in D1 (dropping its row; from now on the task is gone for readers), then
	 * removes any archive copy. Throws only when the mark could not be written; the caller then
	 * erases the object and calls `deleted`.
	 */
	async delete(env: Env, record: Readonly<Pick<TaskRecord, "taskId" | "owner" | "createdAt">>): Promise<void> {
		await this.attempt(() => markTask(env.DB, { taskId: record.taskId, owner: record.owner, createdAt: record.createdAt, state: "deleted" }, Date.now()));
		this.copyRemoved = await deleteArchivedTasks(env.ARCHIVE, [record.taskId]).then(
			() => true,
			() => false,
		);
	}

	/** After the object's storage is erased: the mark no longer waits for a purge (unless the archive copy could not be removed: the cron's then). */
	async deleted(env: Env, taskId: string): Promise<void> {
		if (this.copyRemoved) await purged(env.DB, [taskId]).catch(() => undefined);
	}

	private async attempt(step: () => Promise<unknown>): Promise<void> {
		try {
			await step();
			this.failures = 0;
			this.retryAt = 0;
		} catch (error) {
			this.failures += 1;
			this.retryAt = Date.now() + backoffMs(this.failures, RETRY_BACKOFF);
			throw error;
		}
	}
}
