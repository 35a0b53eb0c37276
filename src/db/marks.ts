/**
 * Marks: what D1 keeps of a task that is no longer live (the task_marks table). An archived task's
 * mark says the archive holds it; a deleted task's says nothing does. Either way no prompt and no
 * lyrics, just enough to answer a late callback and a lookup cheaply: kept for MARK_HOURS after
 * the task's creation, then dropped (an archived task is still found in the archive by its id).
 */
export const MARK_HOURS = 720;
const HOUR_MS = 3_600_000;

export type MarkState = "archived" | "deleted";

export interface Mark {
	taskId: string;
	owner: string | null;
	createdAt: number;
	state: MarkState;
}

type MarkRow = { task_id: string; owner: string | null; created_at: number; state: MarkState };

function fromRow(row: MarkRow): Mark {
	return { taskId: row.task_id, owner: row.owner, createdAt: row.created_at, state: row.state };
}

export async function findMark(db: D1Database, taskId: string): Promise<Mark | null> {
	const row = await db.prepare("SELECT task_id, owner, created_at, state FROM task_marks WHERE task_id = ?1").bind(taskId).first<MarkRow>();
	return row ? fromRow(row) : null;
}

/**
 * The task is no longer live: its mark is written and its row removed, in one transaction. A
 * deleted task's mark stays `purge_pending` until its object and archive copy are known gone.
 */
export async function markTask(db: D1Database, mark: Mark, now: number): Promise<void> {
	await db.batch([
		db
			.prepare(
				`INSERT INTO task_marks (task_id, owner, created_at, state, marked_at, purge_pending) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
				ON CONFLICT (task_id) DO UPDATE SET state = excluded.state, marked_at = excluded.marked_at,
					purge_pending = MAX(purge_pending, excluded.purge_pending)
				WHERE task_marks.state <> 'deleted'`,
			)
			.bind(mark.taskId, mark.owner, mark.createdAt, mark.state, now, mark.state === "deleted" ? 1 : 0),
		db.prepare("DELETE FROM tasks WHERE task_id = ?1").bind(mark.taskId),
	]);
}

/** A deleted task's object and archive copy are gone: nothing is left to purge. */
export async function purged(db: D1Database, taskIds: string[]): Promise<void> {
	if (taskIds.length === 0) return;
	await db.batch(taskIds.map((taskId) => db.prepare("UPDATE task_marks SET purge_pending = 0 WHERE task_id = ?1").bind(taskId)));
}



/** Every mark of tasks created in clock hour `hour` (created_at / 3600000). */
export async function marksOfHour(db: D1Database, hour: number): Promise<Mark[]> {
	const { results } = await db
		.prepare("SELECT task_id, owner, created_at, state FROM task_marks WHERE created_at >= ?1 AND created_at < ?2")
		.bind(hour * HOUR_MS, (hour + 1) * HOUR_MS)
		.all<MarkRow>();
	return results.map(fromRow);
}

export async function dropMarksOfHour(db: D1Database, hour: number): Promise<void> {
	await db.prepare("DELETE FROM task_marks WHERE created_at >= ?1 AND created_at < ?2").bind(hour * HOUR_MS, (hour + 1) * HOUR_MS).run();
}


/** These archived tasks are deleted: their archive copies are gone. */
export async function markDeleted(db: D1Database, taskIds: string[], now: number): Promise<void> {
	if (taskIds.length === 0) return;
	await db.batch(taskIds.map((taskId) => db.prepare("UPDATE task_marks SET state = 'deleted', marked_at = ?2 WHERE task_id = ?1").bind(taskId, now)));
}
