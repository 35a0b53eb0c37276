/**
 * D1 bills every row a write touches ($1 a million rows written), the triggers' included, and
 * reports them itself (`meta.rows_written`). A task's result and each change of its delivery's
 * state write one row of the figures' counts (task_counts, migrations/0007_task_counts.sql): one
 * row fewer than task_rollups, which moved the task from one of its rows to another.
 *
 * What the tasks upsert (src/db/tasks.ts) writes, as measured: the task's row (1); the row of
 * sqlite_sequence that the AUTOINCREMENT of `seq` writes back at the end of every INSERT statement,
 * even one that turns into an update (1); no index entry (leaving the poller's index removes an
 * entry, which D1 does not count; no other indexed column changes); the rollups' rows. The task
 * object writes over a row D1 holds with an UPDATE instead (updateTask), which spares the
 * sqlite_sequence row.
 */
import { env } from "cloudflare:workers";
import { type D1Migration, applyD1Migrations } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTask, d1CaughtUp, deliver, recordInfo, setObjectEnv, simCallback, uniquePrompt } from "./helpers";
import { type StoredTaskSpec, storeTask } from "./stats-fixtures";

const { TEST_MIGRATIONS, SCHEMA_CHECK_DB } = env as unknown as { TEST_MIGRATIONS: D1Migration[]; SCHEMA_CHECK_DB: D1Database };

/** A D1 binding that runs each statement on `db` and records the rows D1 says it wrote. */
function meteredDb(db: D1Database) {
	const writes: { sql: string; rowsWritten: number }[] = [];
	const statement = (sql: string, real: D1PreparedStatement): D1PreparedStatement =>
		({
			bind: (...values: unknown[]) => statement(sql, real.bind(...values)),
			run: async () => {
				const result = await real.run();
				writes.push({ sql: sql.replace(/\s+/g, " ").trim(), rowsWritten: result.meta.rows_written });
				return result;
			},
			first: (column?: string) => (column === undefined ? real.first() : real.first(column)),
			all: () => real.all(),
		}) as unknown as D1PreparedStatement;
	return { db: { prepare: (sql: string) => statement(sql, db.prepare(sql)) } as unknown as D1Database, writes };
}

/** Rows written by storing each state in turn of one task (the first one inserts it). */
async function rowsWrittenFor(db: D1Database, states: StoredTaskSpec[]): Promise<number[]> {
	const metered = meteredDb(db);
	const [first, ...later] = states as [StoredTaskSpec, ...StoredTaskSpec[]];
	const taskId = await storeTask(first, metered.db);
	for (const [i, state] of later.entries()) await storeTask({ ...state, taskId, version: i + 2 }, metered.db);
	return metered.writes.map((write) => write.rowsWritten);
}

const at = Date.now() - 60_000;
const webhook = "https://hooks.example.com/lyrics";
const lifeOfATask: StoredTaskSpec[] = [
	{ createdAt: at, status: "PENDING", owner: "acme", callbackUrl: webhook },
	// The result by callback: the delivery to the client's webhook starts with it.
	{ createdAt: at, status: "SUCCESS", resultSource: "callback", completedAt: at + 4_000, owner: "acme", delivery: "pending" },
	{ createdAt: at, status: "SUCCESS", resultSource: "callback", completedAt: at + 4_000, owner: "acme", delivery: "delivered" },
];

describe("the rows a task's changes write in D1", () => {
	it("writes 3 for a result by callback, over the row the registration inserted: the row, its counts' row, its time to result", async () => {
		const taskId = await createTask(uniquePrompt("a result's rows written"));
		await d1CaughtUp(taskId);
		const metered = meteredDb(env.DB);
		await setObjectEnv(taskId, { DB: metered.db });
		expect(await (await deliver(await simCallback(taskId))).json()).toMatchObject({ data: { result: "applied" } });
		await d1CaughtUp(taskId);
		await setObjectEnv(taskId, { DB: env.DB });
		// An UPDATE (updateTask), not the insert: no sqlite_sequence row.
		expect(metered.writes).toEqual([{ sql: expect.stringMatching(/^UPDATE tasks SET prompt = ''/), rowsWritten: 3 }]);
	});

	it("inserts the row again when D1 has lost it (restored from an older backup, say): the UPDATE finds nothing, the upsert writes", async () => {
		const taskId = await createTask(uniquePrompt("a row D1 lost"));
		await d1CaughtUp(taskId);
		await env.DB.prepare("DELETE FROM tasks WHERE task_id = ?1").bind(taskId).run();
		const metered = meteredDb(env.DB);
		await setObjectEnv(taskId, { DB: metered.db });
		expect(await (await deliver(await simCallback(taskId))).json()).toMatchObject({ data: { result: "applied" } });
		await d1CaughtUp(taskId);
		await setObjectEnv(taskId, { DB: env.DB });
		expect(metered.writes.map((write) => write.sql.slice(0, 18))).toEqual(["UPDATE tasks SET p", "INSERT INTO tasks "]);
		expect(metered.writes[0]!.rowsWritten).toBe(0);
		expect((await recordInfo(taskId)).data).toMatchObject({ taskId, status: "SUCCESS" });
	});

	it("writes one row fewer for a result and for a delivery's new state than task_rollups did", async () => {
		await applyD1Migrations(SCHEMA_CHECK_DB, TEST_MIGRATIONS.filter((migration) => migration.name < "0007"));
		const [insertBefore, ...before] = await rowsWrittenFor(SCHEMA_CHECK_DB, lifeOfATask);
		const [insertNow, ...now] = await rowsWrittenFor(env.DB, lifeOfATask);
		// The insert, either way: the row, its four index entries (task_id, callback_ref, tenant, poller),
		// sqlite_sequence and the one rollup row the task is counted in.
		expect([insertBefore, insertNow]).toEqual([7, 7]);
		// Each later write: the row and sqlite_sequence (2), then the result's rollups: the old key's
		// row, the new key's row and the time to result before (5), the counts' row and the time to
		// result now (4); the delivery's new state: the two rollup rows before (4), the counts' row now (3).
		expect(before).toEqual([5, 4]);
		expect(now).toEqual([4, 3]);
	});
});
