/**
 * A task object's own storage, by version: a fresh object makes only the tables it needs, each as
 * src/task/storage-schema.ts writes it (nothing altered after), and an object an older gateway
 * stored is brought up to the current version, keeping its task, its bookkeeping and what it held.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CURRENT_TABLES, STORAGE_VERSION } from "../../src/task/storage-schema";
import { alarmOf, createTask, deliver, inspectTask, recordInfo, recordInfoAsAdmin, runCron, simCallback, timedOutCreateCalledBack, uniquePrompt } from "./helpers";

const stubOf = (taskId: string) => env.TASKS.getByName(taskId);

/** The object's tables as SQLite keeps their definitions (an ALTER rewrites a table's). */
async function tablesOf(taskId: string): Promise<Map<string, string>> {
	return runInDurableObject(stubOf(taskId), (_instance, state) => {
		const rows = state.storage.sql
			.exec<{ name: string; sql: string }>(
				"SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_\\_%' ESCAPE '\\'",
			)
			.toArray();
		return new Map(rows.map((row) => [row.name, row.sql]));
	});
}

/**
 * Version 2's or 3's layout over a fresh object's: every table at once, the task's row without the
 * delivery lease, the lease in a table of its own, and the version row.
 */
function asVersion(sql: SqlStorage, version: 2 | 3, deliveryLeaseUntil = 0): void {
	for (const [name, definition] of Object.entries(CURRENT_TABLES)) {
		if (name === "task" || (version === 2 && (name === "adoption" || name === "key_adoption"))) continue;
		sql.exec(definition);
	}
	sql.exec("CREATE TABLE old_task (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL, ref TEXT NOT NULL, poll_lease_until INTEGER NOT NULL DEFAULT 0)");
	sql.exec("INSERT INTO old_task SELECT id, state, ref, poll_lease_until FROM task");
	sql.exec("DROP TABLE task");
	sql.exec("ALTER TABLE old_task RENAME TO task");
	sql.exec("CREATE TABLE delivery_lease (id INTEGER PRIMARY KEY CHECK (id = 1), until INTEGER NOT NULL)");
	sql.exec("INSERT INTO delivery_lease (id, until) VALUES (1, ?)", deliveryLeaseUntil);
	sql.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
	sql.exec("INSERT INTO meta (key, value) VALUES ('storage_version', ?)", version);
}

const EVERY_TABLE = Object.keys(CURRENT_TABLES).sort();

describe("a fresh object", () => {
	it(`is at version ${STORAGE_VERSION}: it makes only the tables its task needs, each as the schema writes it`, async () => {
		const taskId = await createTask(uniquePrompt("a fresh object's tables"));
		await deliver(await simCallback(taskId));
		// A task called back, with no webhook, no poll and nothing held: one table.
		expect(Object.fromEntries(await tablesOf(taskId))).toEqual({ task: CURRENT_TABLES.task });
	});
});

describe("an object stored by storage version 3", () => {
	it("drops its version row, moves the delivery lease into the task's row, and keeps its tables and its task", async () => {
		const taskId = await createTask(uniquePrompt("a version 3 object"));
		await deliver(await simCallback(taskId));
		const before = (await inspectTask(taskId)).state!;
		const leaseUntil = Date.now() + 60_000;
		await runInDurableObject(stubOf(taskId), (_instance, state) => asVersion(state.storage.sql, 3, leaseUntil));
		await evictDurableObject(stubOf(taskId));

		expect((await inspectTask(taskId)).state).toMatchObject({
			taskId,
			status: "SUCCESS",
			version: before.version,
			ref: before.ref,
			deliveryLeaseUntil: leaseUntil,
		});
		expect([...(await tablesOf(taskId)).keys()].sort()).toEqual(EVERY_TABLE);
		expect((await recordInfo(taskId)).data).toMatchObject({ taskId, status: "SUCCESS" });
	});
});

describe("an object stored by storage version 2", () => {
	it("keeps its task and held-callback bookkeeping under the new tables, without the unused count", async () => {
		const taskId = await createTask(uniquePrompt("a version 2 object"));
		const callback = await simCallback(taskId);
		await deliver(callback);
		const before = (await inspectTask(taskId)).state!;
		await runInDurableObject(stubOf(taskId), (_instance, state) => {
			const sql = state.storage.sql;
			asVersion(sql, 2);
			// Version 2's two tables that version 3 reshaped, as version 2 left them.
			sql.exec("CREATE TABLE key_handoff (id INTEGER PRIMARY KEY CHECK (id = 1), scope TEXT NOT NULL, ref TEXT NOT NULL, retry_at INTEGER)");
			sql.exec("CREATE TABLE late_create_check (id INTEGER PRIMARY KEY CHECK (id = 1), task_id TEXT NOT NULL, checks INTEGER NOT NULL DEFAULT 0, next_check_at INTEGER)");
			sql.exec("INSERT INTO late_create_check (id, task_id, checks, next_check_at) VALUES (1, ?, 4, NULL)", taskId);
			sql.exec("INSERT INTO key_handoff (id, scope, ref, retry_at) VALUES (1, 'a-key-scope', ?, NULL)", before.ref);
		});
		await evictDurableObject(stubOf(taskId));

		expect([...(await tablesOf(taskId)).keys()].sort()).toEqual(EVERY_TABLE);
		await runInDurableObject(stubOf(taskId), (_instance, state) => {
			const sql = state.storage.sql;
			expect(sql.exec("SELECT task_id, unlisted FROM adoption").toArray()).toEqual([{ task_id: taskId, unlisted: 0 }]);
			expect(sql.exec("SELECT scope, ref FROM key_adoption").toArray()).toEqual([{ scope: "a-key-scope", ref: before.ref }]);
		});
		expect((await inspectTask(taskId)).state).toMatchObject({ taskId, status: "SUCCESS", version: before.version, ref: before.ref });
		expect((await recordInfo(taskId)).data).toMatchObject({ taskId, status: "SUCCESS" });
	});
});

describe("an object stored by storage version 1", () => {
	it("loads its task, keeps its bookkeeping, and brings D1 up to it", async () => {
		const taskId = crypto.randomUUID().replace(/-/g, "");
		const now = Date.now();
		// Version 1 kept one row: the record and every piece of bookkeeping in one flat JSON.
		const flat = {
			taskId,
			prompt: "a song stored by the previous release",
			callbackUrl: null,
			status: "SUCCESS",
			items: [{ text: "[Verse]\nold", title: "Old", status: "complete", errorMessage: "" }],
			errorCode: null,
			errorMessage: null,
			resultSource: "callback",
			callbacksReceived: 2,
			polls: 0,
			nextPollAt: now - 60_000,
			createdAt: now - 60_000,
			updatedAt: now - 1000,
			completedAt: now - 1000,
			delivery: null,
			version: 3,
			ref: "0123456789abcdef0123456789abcdef",
			pollLeaseUntil: 0,
			syncedVersion: 2,
			syncFailures: 1,
			deliveryLeaseUntil: 0,
		};
		const stub = stubOf(taskId);
		await runInDurableObject(stub, async (_instance, state) => {
			await state.storage.deleteAll();
			state.storage.sql.exec("CREATE TABLE task (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)");
			state.storage.sql.exec("INSERT INTO task (id, state) VALUES (1, ?)", JSON.stringify(flat));
			// The old code's retry of the D1 write it still owed.
			await state.storage.setAlarm(now + 1000);
		});
		await evictDurableObject(stub);

		const loaded = await inspectTask(taskId);
		// Version 1 predates tenants: its task has no owner.
		expect(loaded).toEqual({ state: { ...flat, owner: null }, earlyCallbacks: 0 });
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect((await recordInfoAsAdmin(taskId)).data).toMatchObject({ taskId, status: "SUCCESS", callbacksReceived: 2 });
		expect((await inspectTask(taskId)).state).toMatchObject({ version: 3, syncedVersion: 3, syncFailures: 0 });

		// Loaded again (a new instance), it is already the current layout and still the same task.
		await evictDurableObject(stub);
		expect((await inspectTask(taskId)).state).toMatchObject({ taskId, version: 3, syncedVersion: 3, ref: flat.ref });
	});

	it("keeps callbacks it held for a task not yet registered, and still looks for their create", async () => {
		const taskId = crypto.randomUUID().replace(/-/g, "");
		const receivedAt = Date.now() - 60_000;
		const outcome = { final: true, status: "SUCCESS", items: [], errorCode: null, errorMessage: null };
		const stub = stubOf(taskId);
		await runInDurableObject(stub, async (_instance, state) => {
			await state.storage.deleteAll();
			const sql = state.storage.sql;
			// Version 1's tables for held callbacks (the first unchanged since).
			sql.exec("CREATE TABLE task (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)");
			sql.exec(
				"CREATE TABLE early_callbacks (ref TEXT PRIMARY KEY, outcome TEXT NOT NULL, final INTEGER NOT NULL, deliveries INTEGER NOT NULL, received_at INTEGER NOT NULL)",
			);
			sql.exec("INSERT INTO early_callbacks VALUES ('0123456789abcdef0123456789abcdef', ?, 1, 3, ?)", JSON.stringify(outcome), receivedAt);
			sql.exec(
				"CREATE TABLE early_identity (id INTEGER PRIMARY KEY CHECK (id = 1), task_id TEXT NOT NULL, checks INTEGER NOT NULL DEFAULT 0)",
			);
			sql.exec("INSERT INTO early_identity (id, task_id, checks) VALUES (1, ?, 2)", taskId);
			await state.storage.setAlarm(Date.now() + 60_000);
		});
		await evictDurableObject(stub);

		expect(await inspectTask(taskId)).toEqual({ state: null, earlyCallbacks: 3 });
		// The alarm lists them for the cron's check, and is then the callbacks' expiry.
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect(await inspectTask(taskId)).toEqual({ state: null, earlyCallbacks: 3 });
		expect(await alarmOf(taskId)).toBe(receivedAt + 86_400_000);
	});

	it("lists callbacks it held for a timed-out create in the held-callback budget, so the cron adopts the task", async () => {
		const { taskId } = await timedOutCreateCalledBack(uniquePrompt("v1: held for a timed-out create"));
		const stub = stubOf(taskId);
		// Rebuilt as version 1 left it: the held callback, its identity row and the old alarm, unknown to the budget.
		await runInDurableObject(stub, async (_instance, state) => {
			const held = state.storage.sql.exec("SELECT * FROM early_callbacks").toArray();
			await state.storage.deleteAll();
			state.storage.sql.exec(
				"CREATE TABLE early_callbacks (ref TEXT PRIMARY KEY, outcome TEXT NOT NULL, final INTEGER NOT NULL, deliveries INTEGER NOT NULL, received_at INTEGER NOT NULL)",
			);
			for (const row of held) {
				state.storage.sql.exec("INSERT INTO early_callbacks VALUES (?, ?, ?, ?, ?)", row.ref, row.outcome, row.final, row.deliveries, row.received_at);
			}
			state.storage.sql.exec("CREATE TABLE early_identity (id INTEGER PRIMARY KEY CHECK (id = 1), task_id TEXT NOT NULL, checks INTEGER NOT NULL DEFAULT 0)");
			state.storage.sql.exec("INSERT INTO early_identity (id, task_id) VALUES (1, ?)", taskId);
			await state.storage.setAlarm(Date.now() + 1000);
		});
		await env.HELD_CALLBACKS.getByName("global").release(taskId);
		await evictDurableObject(stub);

		expect(await runDurableObjectAlarm(stub)).toBe(true);
		// Listed now: the alarm goes back to the held callback's expiry, and a due tick adopts the task.
		expect((await alarmOf(taskId)) as number).toBeGreaterThan(Date.now() + 86_000_000);
		await runCron(Date.now() + 60_000);
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "SUCCESS", callbacksReceived: 1 });
	});
});
