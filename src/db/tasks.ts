/**
 * The D1 queries of the tasks table (live tasks), as plain typed functions. Only the task object
 * writes (./task-writes.ts); routes and the cron read. The other tables have a module each in this
 * folder. A row's prompt and lyrics are kept compressed in `payload` (rows written before
 * migration 0004 keep them in `prompt` and `items` until their next write).
 */
import type { LyricsItem, ResultSource, TaskRecord, TaskStatus } from "../domain/task-record";
import type { Delivery } from "../domain/delivery";
import { inflate } from "../lib/deflate";

interface TaskRow {
	seq: number;
	callback_ref: string | null;
	task_id: string;
	prompt: string;
	callback_url: string | null;
	status: string;
	items: string;
	error_code: number | null;
	error_message: string | null;
	result_source: string | null;
	callbacks_received: number;
	polls: number;
	next_poll_at: number;
	created_at: number;
	updated_at: number;
	completed_at: number | null;
	delivery: string | null;
	version: number;
	owner: string | null;
	/** D1 returns a BLOB as bytes (an array of numbers, or an ArrayBuffer). */
	payload: ArrayBuffer | number[] | null;
}

/** What `payload` holds, compressed. */
export interface Payload {
	prompt: string;
	items: LyricsItem[];
}

export interface StoredTask extends TaskRecord {
	/** Insertion order in D1, the list endpoint's paging key. */
	seq: number;
	/** The ref of the callback URL minted for the task. */
	callbackRef: string | null;
}

async function fromRow(row: TaskRow): Promise<StoredTask> {
	const { prompt, items } = row.payload
		? (JSON.parse(await inflate(new Uint8Array(row.payload))) as Payload)
		: { prompt: row.prompt, items: JSON.parse(row.items) as LyricsItem[] };
	return {
		seq: row.seq,
		callbackRef: row.callback_ref,
		taskId: row.task_id,
		prompt,
		callbackUrl: row.callback_url,
		status: row.status as TaskStatus,
		items,
		errorCode: row.error_code,
		errorMessage: row.error_message,
		resultSource: row.result_source as ResultSource | null,
		callbacksReceived: row.callbacks_received,
		polls: row.polls,
		nextPollAt: row.next_poll_at,
		createdAt: row.created_at,
		updatedAt: row.updated_at,
		completedAt: row.completed_at,
		delivery: row.delivery ? (JSON.parse(row.delivery) as Delivery) : null,
		version: row.version,
		owner: row.owner,
	};
}

/** The version D1 holds for a task, or null when it has no row. */
export async function getTaskVersion(db: D1Database, taskId: string): Promise<number | null> {
	const row = await db.prepare("SELECT version FROM tasks WHERE task_id = ?1").bind(taskId).first<{ version: number }>();
	return row?.version ?? null;
}

/** Which task the callback URL with this ref was minted for, once that task is stored. */
export async function findTaskIdByCallbackRef(db: D1Database, ref: string): Promise<string | null> {
	const row = await db.prepare("SELECT task_id FROM tasks WHERE callback_ref = ?1").bind(ref).first<{ task_id: string }>();
	return row?.task_id ?? null;
}

export async function getTask(db: D1Database, taskId: string): Promise<StoredTask | null> {
	const row = await db.prepare("SELECT * FROM tasks WHERE task_id = ?1").bind(taskId).first<TaskRow>();
	return row ? await fromRow(row) : null;
}

export interface ListTasksQuery {
	status?: TaskStatus;
	/** Only this tenant's tasks; undefined = every task (admin keys). */
	owner?: string;
	limit: number;
	/** Only tasks inserted before this `seq` (the previous page's last one). */
	beforeSeq?: number;
}

/** Newest first. Fetches one extra row to tell whether another page follows. */
export async function listTasks(
	db: D1Database,
	{ status, owner, limit, beforeSeq }: ListTasksQuery,
): Promise<{ tasks: StoredTask[]; hasMore: boolean }> {
	// Plain statements rather than one with `?1 IS NULL OR …`, so each can use its index (tasks_by_owner,
	// or the primary key); a status filter skips the rows of other statuses on the way (no index by
	// status: every task's result would rewrite it, a row written each time).
	const before = beforeSeq ?? Number.MAX_SAFE_INTEGER;
	const conditions = [...(owner !== undefined ? ["owner = ?"] : []), ...(status ? ["status = ?"] : []), "seq < ?"];
	const values = [...(owner !== undefined ? [owner] : []), ...(status ? [status] : []), before, limit + 1];
	const statement = db
		.prepare(`SELECT * FROM tasks WHERE ${conditions.join(" AND ")} ORDER BY seq DESC LIMIT ?`)
		.bind(...values);
	const { results } = await statement.all<TaskRow>();
	return { tasks: await Promise.all(results.slice(0, limit).map(fromRow)), hasMore: results.length > limit };
}

export interface DueForPollQuery {
	now: number;
	/** Tasks created after this are still within POLL_GRACE_SECONDS: their callback may yet come. */
	createdBefore: number;
	limit: number;
}

/**
 * Pending tasks whose poll is due, due soonest first (tasks_pending_by_due): a task whose polls
 * keep failing backs off, so it cannot keep the tick's budget from a task due before it. A task
 * past TASK_MAX_PENDING_SECONDS waits out its backoff like any other: its object scheduled the
 * poll at the deadline, and while the upstream cannot be asked it is not asked every minute.
 */
export async function selectDueForPoll(db: D1Database, query: DueForPollQuery): Promise<string[]> {
	const { results } = await db
		.prepare(
			`SELECT task_id FROM tasks
			WHERE status = 'PENDING' AND next_poll_at <= ?2 AND created_at <= ?1
			ORDER BY next_poll_at ASC LIMIT ?3`,
		)
		.bind(query.createdBefore, query.now, query.limit)
		.all<{ task_id: string }>();
	return results.map((row) => row.task_id);
}

export async function pingDatabase(db: D1Database): Promise<void> {
	await db.prepare("SELECT 1").first();
}

/** Whose a live task is and when it was created, without reading its payload; null when D1 has no row. */
export async function getTaskOwner(db: D1Database, taskId: string): Promise<{ owner: string | null; createdAt: number } | null> {
	const row = await db.prepare("SELECT owner, created_at FROM tasks WHERE task_id = ?1").bind(taskId).first<{ owner: string | null; created_at: number }>();
	return row ? { owner: row.owner, createdAt: row.created_at } : null;
}
