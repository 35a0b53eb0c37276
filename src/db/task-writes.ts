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
 * The columns every write of the whole record sets, in the order both statements below bind them,
 * from ?3 on (?1 is the task's id, ?2 its compressed prompt and lyrics), so the insert and the
 * update cannot drift apart.
 */
const WRITTEN = ["status", "error_code", "error_message", "result_source", "callbacks_received", "polls", "next_poll_at", "updated_at", "completed_at", "delivery", "delivery_state", "version"] as const;
const param = (column: (typeof WRITTEN)[number]) => `?${WRITTEN.indexOf(column) + 3}`;

function writtenValues(task: TaskRecord): (string | number | null)[] {
	const values: Record<(typeof WRITTEN)[number], string | number | null> = {
		status: task.status,
		error_code: task.errorCode,
		error_message: task.errorMessage,
		result_source: task.resultSource,
		callbacks_received: task.callbacksReceived,
		polls: task.polls,
		next_poll_at: task.nextPollAt,
		updated_at: task.updatedAt,
		completed_at: task.completedAt,
		delivery: task.delivery ? JSON.stringify(task.delivery) : null,
		delivery_state: task.delivery?.state ?? null,
		version: task.version,
	};
	return WRITTEN.map((column) => values[column]);
}

/** The columns only an insert sets (they never change), bound after the written ones. */
const INSERTED = ["callback_url", "created_at", "callback_ref", "owner", "callback_host"] as const;

/** Both statements, built once from the lists above. */
const UPSERT_SQL = `INSERT INTO tasks (task_id, prompt, items, payload, ${WRITTEN.join(", ")}, ${INSERTED.join(", ")})
			SELECT ?1, '', '[]', ?2, ${WRITTEN.map(param).join(", ")}, ${INSERTED.map((_, i) => `?${WRITTEN.length + 3 + i}`).join(", ")}
			WHERE NOT EXISTS (SELECT 1 FROM task_marks WHERE task_id = ?1)
			ON CONFLICT (task_id) DO UPDATE SET
				prompt = excluded.prompt, items = excluded.items, payload = excluded.payload,
				${WRITTEN.map((column) => `${column} = excluded.${column}`).join(", ")}
			WHERE excluded.version >= tasks.version`;
const UPDATE_SQL = `UPDATE tasks SET prompt = '', items = '[]', payload = ?2, ${WRITTEN.map((column) => `${column} = ${param(column)}`).join(", ")}
			WHERE task_id = ?1 AND version <= ${param("version")}`;

/**
 * Writes the task object's state. The version guard makes writes commutative: a retried or
 * delayed write of an older state never replaces a newer one. A write of the version D1 holds
 * lands (the object decides, and one that restarted may not know that D1 has it already). A
 * task D1 marks archived or deleted is never written again. Returns false when nothing was
 * written (D1 holds a later version, or the task is marked).
 */
export async function upsertTask(db: D1Database, task: TaskRecord, callbackRef: string): Promise<boolean> {
	const { meta } = await db
		.prepare(UPSERT_SQL)
		.bind(
			task.taskId,
			await payloadOf(task),
			...writtenValues(task),
			task.callbackUrl,
			task.createdAt,
			callbackRef,
			// A task object whose state predates tenants has no owner field.
			task.owner ?? null,
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
		.prepare(UPDATE_SQL)
		.bind(task.taskId, await payloadOf(task), ...writtenValues(task))
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
