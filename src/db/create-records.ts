/**
 * The create journal: every create is recorded here before it is sent upstream, so no task the
 * upstream names is lost. The record holds what registering the task needs and, once the upstream
 * names it, the task's id; it goes once the task's object has the task (and the create's
 * Idempotency-Key knows it). Left behind it means one of three things:
 *   - no task id, past the create: the upstream did not answer in time (the client got 504). The
 *     upstream may have made the task all the same, and its callback then carries the ref of the
 *     URL minted for the create: a task object holding that callback adopts the task from this
 *     record once the upstream confirms it (src/early-callbacks/). Kept for ADOPTION_WINDOW_MS.
 *   - a task id, not registered: the client has its taskId but the object could not be reached;
 *     the cron registers it (src/cron/register-recorded-creates.ts).
 *   - registered: a task adopted from its callback; the record binds the create's URL to it.
 */

export interface CreateRecord {
	ref: string;
	prompt: string;
	callbackUrl: string | null;
	createdAt: number;
	/** The Idempotency-Key object of the create, if it had a key: told the task once it is known. */
	idempotencyScope: string | null;
	/** The tenant that sent the create, who owns the task. */
	owner: string | null;
}

export type RecordedCreate = CreateRecord & { taskId: string | null };

interface CreateRecordRow {
	ref: string;
	prompt: string;
	callback_url: string | null;
	created_at: number;
	idempotency_scope: string | null;
	owner: string | null;
	task_id: string | null;
}

function fromRow(row: CreateRecordRow): RecordedCreate {
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

/** Before the create is sent: a throw means it must not be sent. */
export async function recordCreate(db: D1Database, create: CreateRecord): Promise<void> {
	await db
		.prepare(
			`INSERT OR IGNORE INTO create_records (ref, prompt, callback_url, created_at, idempotency_scope, owner)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6)`,
		)
		.bind(create.ref, create.prompt, create.callbackUrl, create.createdAt, create.idempotencyScope, create.owner)
		.run();
}

/** The upstream named the create's task, which is not settled yet: the cron registers it. */
export async function nameRecordedTask(db: D1Database, ref: string, taskId: string): Promise<void> {
	await db.prepare("UPDATE create_records SET task_id = ?2 WHERE ref = ?1 AND task_id IS NULL").bind(ref, taskId).run();
}

/** The create is settled (its task registered, or nothing sent or made): the record goes. */
export async function forgetRecordedCreate(db: D1Database, ref: string): Promise<void> {
	await db.prepare("DELETE FROM create_records WHERE ref = ?1").bind(ref).run();
}

/** The recorded create minted with this ref, if made after `notBefore`, with its task if known. */
export async function findRecordedCreate(db: D1Database, ref: string, notBefore: number): Promise<RecordedCreate | null> {
	const row = await db
		.prepare("SELECT * FROM create_records WHERE ref = ?1 AND created_at >= ?2")
		.bind(ref, notBefore)
		.first<CreateRecordRow>();
	return row ? fromRow(row) : null;
}

/**
 * Binds a recorded create to `taskId`, adopted from its callback: the first task wins, and the
 * same task may bind again. Registered: the object starts the task from it.
 */
export async function adoptRecordedCreate(db: D1Database, ref: string, taskId: string): Promise<boolean> {
	const { meta } = await db
		.prepare("UPDATE create_records SET task_id = ?2, registered = 1 WHERE ref = ?1 AND (task_id IS NULL OR task_id = ?2)")
		.bind(ref, taskId)
		.run();
	return meta.changes > 0;
}

/** Named tasks not registered, recorded before `before`, oldest first. */
export async function unregisteredCreates(db: D1Database, before: number, limit: number): Promise<(CreateRecord & { taskId: string })[]> {
	if (limit <= 0) return [];
	const { results } = await db
		.prepare(
			"SELECT * FROM create_records WHERE task_id IS NOT NULL AND registered = 0 AND created_at < ?1 ORDER BY created_at LIMIT ?2",
		)
		.bind(before, limit)
		.all<CreateRecordRow>();
	return results.map((row) => fromRow(row) as CreateRecord & { taskId: string });
}

/**
 * Forgets records older than `before` that nothing needs any more: creates with no task (no
 * callback will adopt them now) and adopted ones. A named task not registered stays until it is.
 */
export async function deleteOldCreateRecords(db: D1Database, before: number): Promise<void> {
	await db.prepare("DELETE FROM create_records WHERE created_at < ?1 AND (task_id IS NULL OR registered = 1)").bind(before).run();
}
