/**
 * The task object's writes of its row in the tasks table: the whole record (inserted, or written
 * over the row D1 holds), or its counters alone. Each is guarded by version, so a late or retried
 * write never replaces a newer one; which one a write takes is the object's choice
 * (src/task/d1-projection.ts), by what it knows D1 holds.
 */
import type { TaskRecord } from "../domain/task-record";
import { callbackHost } from "../domain/delivery";
import { deflate } from "../lib/deflate";
import type { Payload } from "./tasks";

/**
 * Writes the task object's state. The version guard makes writes commutative: a retried or
 * delayed write of an older state never replaces a newer one. A write of the version D1 holds
 * lands (the object decides, and one that restarted may not know that D1 has it already). A
 * task D1 marks archived or deleted is never written again. Returns false when nothing was
 * written (D1 holds a later version, or the task is marked).
 */
export async function upsertTask(db: D1Database, task: TaskRecord, callbackRef: string): Promise<boolean> {
	const payload = await payloadOf(task);
	const { meta } = await db
		.prepare(
			`INSERT INTO tasks (task_id, prompt, callback_url, status, items, error_code, error_message,
				result_source, callbacks_received, polls, next_poll_at, created_at, updated_at, completed_at, version,
				callback_ref, delivery, owner, delivery_state, callback_host, payload)
			SELECT ?1, '', ?3, ?4, '[]', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?2
			WHERE NOT EXISTS (SELECT 1 FROM task_marks WHERE task_id = ?1)
			ON CONFLICT (task_id) DO UPDATE SET
				prompt = excluded.prompt, payload = excluded.payload,
				status = excluded.status, items = excluded.items, error_code = excluded.error_code,
				error_message = excluded.error_message, result_source = excluded.result_source,
				callbacks_received = excluded.callbacks_received, polls = excluded.polls,
				next_poll_at = excluded.next_poll_at, updated_at = excluded.updated_at,
				completed_at = excluded.completed_at, delivery = excluded.delivery,
				delivery_state = excluded.delivery_state, version = excluded.version
			WHERE excluded.version >= tasks.version`,
		)
		.bind(
			task.taskId,
			payload,
			task.callbackUrl,
			task.status,
			null,
			task.errorCode,
			task.errorMessage,
			task.resultSource,
			task.callbacksReceived,
			task.polls,
			task.nextPollAt,
			task.createdAt,
			task.updatedAt,
			task.completedAt,
			task.version,
			callbackRef,
			task.delivery ? JSON.stringify(task.delivery) : null,
			// A task object whose state predates tenants has no owner field.
			task.owner ?? null,
			task.delivery?.state ?? null,
			callbackHost(task.callbackUrl),
		)
		.run();
	return meta.changes > 0;
}

/**
 * Writes the task object's state over the row D1 holds, under the same version guard as
 * upsertTask; false when there is no row to write over (never written, or gone: archived,
 * deleted) or D1 holds a later version, and the caller then writes with upsertTask. An UPDATE,
 * because an INSERT into tasks (whose `seq` is AUTOINCREMENT) writes sqlite_sequence back at its
 * end even when it turns into an update: a row billed on every result and delivery write.
 */
export async function updateTask(db: D1Database, task: TaskRecord): Promise<boolean> {
	const { meta } = await db
		.prepare(
			`UPDATE tasks SET prompt = '', items = '[]', payload = ?2, status = ?3, error_code = ?4, error_message = ?5,
				result_source = ?6, callbacks_received = ?7, polls = ?8, next_poll_at = ?9, updated_at = ?10, completed_at = ?11,
				delivery = ?12, delivery_state = ?13, version = ?14
			WHERE task_id = ?1 AND version <= ?14`,
		)
		.bind(
			task.taskId,
			await payloadOf(task),
			task.status,
			task.errorCode,
			task.errorMessage,
			task.resultSource,
			task.callbacksReceived,
			task.polls,
			task.nextPollAt,
			task.updatedAt,
			task.completedAt,
			task.delivery ? JSON.stringify(task.delivery) : null,
			task.delivery?.state ?? null,
			task.version,
		)
		.run();
	return meta.changes > 0;
}

/** The prompt and lyrics as the row keeps them: raw DEFLATE of their JSON. */
function payloadOf(task: TaskRecord): Promise<Uint8Array> {
	return deflate(JSON.stringify({ prompt: task.prompt, items: task.items } satisfies Payload));
}

/**
 * Writes only the counters of a task whose row D1 holds at exactly `writtenVersion` (the object's
 * own last write): a duplicate's count or a poll's schedule, none of them in an index, so a
 * coalesced write rewrites one row and no index. False when D1 holds another version (the caller
 * then writes the whole record).
 */
export async function updateTaskCounters(db: D1Database, task: TaskRecord, writtenVersion: number): Promise<boolean> {
	const { meta } = await db
		.prepare(
			`UPDATE tasks SET callbacks_received = ?1, polls = ?2, next_poll_at = ?3, updated_at = ?4, version = ?5
			WHERE task_id = ?6 AND version = ?7 AND ?5 > version`,
		)
		.bind(task.callbacksReceived, task.polls, task.nextPollAt, task.updatedAt, task.version, task.taskId, writtenVersion)
		.run();
	return meta.changes > 0;
}
