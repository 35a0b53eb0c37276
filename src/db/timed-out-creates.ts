/**
 * Timed-out creates: creates the upstream did not answer within UPSTREAM_TIMEOUT_MS (the client got
 * 504). The upstream may have made the task all the same, and its callback then carries the ref of
 * the URL minted for the create: a task object holding that callback adopts the task from this
 * record once the upstream confirms it (src/early-callbacks/). Kept for ADOPTION_WINDOW_MS.
 * (The table keeps its first name, unanswered_creates.)
 */

export interface TimedOutCreate {
	ref: string;
	prompt: string;
	callbackUrl: string | null;
	createdAt: number;
	/** The Idempotency-Key object of the create, if it had a key: told when the task is adopted. */
	idempotencyScope: string | null;
	/** The tenant that sent the create, who owns the task if it is adopted. */
	owner: string | null;
}

export async function recordTimedOutCreate(db: D1Database, create: TimedOutCreate): Promise<void> {
	await db
		.prepare(
			`INSERT OR IGNORE INTO unanswered_creates (ref, prompt, callback_url, created_at, idempotency_scope, owner)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6)`,
		)
		.bind(create.ref, create.prompt, create.callbackUrl, create.createdAt, create.idempotencyScope, create.owner)
		.run();
}

function timedOutFromRow(row: TimedOutRow): TimedOutCreate & { taskId: string | null } {
	return {
		ref: row.ref,
		prompt: row.prompt,
		callbackUrl: row.callback_url,
		createdAt: row.created_at,
		idempotencyScope: row.idempotency_scope,
		owner: row.owner,
		taskId: row.task_id,
	};
}

interface TimedOutRow {
	ref: string;
	prompt: string;
	callback_url: string | null;
	created_at: number;
	idempotency_scope: string | null;
	task_id: string | null;
	owner: string | null;
}

/** The timed-out create minted with this ref, if made after `notBefore`, with the task that adopted it if any. */
export async function findTimedOutCreate(
	db: D1Database,
	ref: string,
	notBefore: number,
): Promise<(TimedOutCreate & { taskId: string | null }) | null> {
	const row = await db
		.prepare("SELECT * FROM unanswered_creates WHERE ref = ?1 AND created_at >= ?2")
		.bind(ref, notBefore)
		.first<TimedOutRow>();
	return row ? timedOutFromRow(row) : null;
}

/** Binds the timed-out create to `taskId` (the task adopted from it): the first task wins, and the same task may bind again. */
export async function adoptTimedOutCreate(db: D1Database, ref: string, taskId: string): Promise<boolean> {
	const { meta } = await db
		.prepare("UPDATE unanswered_creates SET task_id = ?2 WHERE ref = ?1 AND (task_id IS NULL OR task_id = ?2)")
		.bind(ref, taskId)
		.run();
	return meta.changes > 0;
}

/** Forgets timed-out creates older than `before`: no callback will adopt them any more. */
export async function deleteOldTimedOutCreates(db: D1Database, before: number): Promise<void> {
	await db.prepare("DELETE FROM unanswered_creates WHERE created_at < ?1").bind(before).run();
}

