/**
 * The task object decides and D1 is what readers see: when the D1 write after a decision fails,
 * the object's alarm retries it until D1 agrees, so a result is never decided yet invisible.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createTask, deliver, eventually, forgetStoredTasks, recordInfo, runCron, simCallback, setObjectEnv, simHook, uniquePrompt } from "./helpers";

/** A D1 binding whose every statement fails, as during an outage. */
const failingDb = {
	prepare: () => ({
		bind: () => ({
			run: () => Promise.reject(new Error("D1_ERROR: simulated outage")),
			first: () => Promise.reject(new Error("D1_ERROR: simulated outage")),
		}),
	}),
} as unknown as D1Database;

/** Swaps the DB binding the object sees, leaving the rest of the Worker untouched. */
function setObjectDb(taskId: string, db: D1Database) {
	return setObjectEnv(taskId, { DB: db });
}

/** A D1 binding that records each statement and runs it on `db`. */
function recordingDb(db: D1Database) {
	const statements: string[] = [];
	const recorded = {
		prepare: (sql: string) => {
			statements.push(sql.replace(/\s+/g, " ").trim());
			return db.prepare(sql);
		},
	} as unknown as D1Database;
	return { db: recorded, statements };
}

describe("D1 write retries", () => {
	it("keeps a decided result and writes it to D1 from the alarm once D1 is back", async () => {
		const taskId = await createTask(uniquePrompt("a result decided during an outage"));
		const stub = env.TASKS.getByName(taskId);
		await setObjectDb(taskId, failingDb);

		// The callback is decided and acknowledged even though D1 is down...
		const ack = await deliver(await simCallback(taskId));
		expect(ack.status).toBe(200);
		const { state } = await stub.inspect();
		expect(state).toMatchObject({ status: "SUCCESS", syncFailures: 1 });
		expect(state!.syncedVersion).toBeLessThan(state!.version);
		// ...readers still see the old state, and a retry is scheduled.
		expect((await recordInfo(taskId)).data.status).toBe("PENDING");
		expect(await runInDurableObject(stub, (_instance, objectState) => objectState.storage.getAlarm())).not.toBeNull();

		// A retry during the outage fails again and schedules another.
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect((await stub.inspect()).state).toMatchObject({ syncFailures: 2 });

		await setObjectDb(taskId, env.DB);
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		const healed = (await stub.inspect()).state!;
		expect(healed.syncedVersion).toBe(healed.version);
		expect(healed.syncFailures).toBe(0);
		const visible = await recordInfo(taskId);
		expect(visible.data).toMatchObject({ status: "SUCCESS", resultSource: "callback" });
		expect(visible.data.response.data.length).toBeGreaterThanOrEqual(2);

		// Running the alarm again changes nothing: it is safe to run twice.
		await runDurableObjectAlarm(stub);
		expect((await recordInfo(taskId)).data).toEqual(visible.data);
	});

	it("keeps a landed write's books in memory; an object restarted without them asks D1 and writes nothing D1 holds", async () => {
		const taskId = await createTask(uniquePrompt("books kept in memory"));
		const stub = env.TASKS.getByName(taskId);
		expect((await deliver(await simCallback(taskId))).status).toBe(200);
		const decided = (await stub.inspect()).state!;
		expect(decided.syncedVersion).toBe(decided.version);
		// The result's write landed within its budget: nothing about it was stored in the object (not even the books' table).
		const booksTable = await runInDurableObject(stub, (_instance, objectState) =>
			objectState.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'd1_sync'").toArray(),
		);
		expect(booksTable).toEqual([]);

		// Restarted, the object does not know D1 has the record: a write is owed until D1 says otherwise.
		await evictDurableObject(stub);
		const restarted = (await stub.inspect()).state!;
		expect(restarted.syncedVersion).toBeLessThan(restarted.version);
		// No alarm for it (only the archive's, a week on): the next entry point or alarm run settles it.
		await runInDurableObject(stub, async (_instance, objectState) => {
			expect(await objectState.storage.getAlarm()).toBe((decided.completedAt as number) + 7 * 24 * 3_600_000);
		});
		const recorder = recordingDb(env.DB);
		await setObjectDb(taskId, recorder.db);
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		const settled = await eventually(
			async () => (await stub.inspect()).state!,
			(state) => state.syncedVersion === state.version,
		);
		await setObjectDb(taskId, env.DB);
		expect(settled).toMatchObject({ version: decided.version, syncFailures: 0 });
		// D1 held the version: it was asked, and nothing was written.
		expect(recorder.statements).toEqual([expect.stringMatching(/^SELECT version FROM tasks/)]);
	});

	it("writes the record again when an object restarted without its books finds D1 behind it", async () => {
		const taskId = await createTask(uniquePrompt("a restart with D1 behind"));
		const stub = env.TASKS.getByName(taskId);
		expect((await deliver(await simCallback(taskId))).status).toBe(200);
		const decided = (await stub.inspect()).state!;
		// D1 lost the result (restored from an older backup, say) while the object slept.
		await env.DB.prepare("UPDATE tasks SET status = 'PENDING', result_source = NULL, version = 1 WHERE task_id = ?1").bind(taskId).run();
		await evictDurableObject(stub);
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		await eventually(
			async () => (await stub.inspect()).state!,
			(state) => state.syncedVersion === state.version,
		);
		const row = await env.DB.prepare("SELECT version, status FROM tasks WHERE task_id = ?1").bind(taskId).first();
		expect(row).toEqual({ version: decided.version, status: "SUCCESS" });
	});

	it("never lets an older state replace a newer one in D1", async () => {
		const taskId = await createTask(uniquePrompt("a stale write arriving late"));
		expect((await deliver(await simCallback(taskId))).status).toBe(200);
		const final = await recordInfo(taskId);
		expect(final.data.status).toBe("SUCCESS");

		// Replay the registration-time state (version 1) straight into D1, as a delayed write would.
		const { upsertTask } = await import("../../src/db/task-writes");
		const { state } = await env.TASKS.getByName(taskId).inspect();
		await upsertTask(
			env.DB,
			{ ...state!, status: "PENDING", items: [], resultSource: null, completedAt: null, version: 1 },
			state!.ref,
		);
		expect((await recordInfo(taskId)).data).toEqual(final.data);
	});

	it("delivers to the client's callBackUrl only once D1 holds the result", async () => {
		const hook = simHook("after-d1");
		const taskId = await createTask(uniquePrompt("a delivery held for D1"), { callBackUrl: hook.url });
		const stub = env.TASKS.getByName(taskId);
		await setObjectDb(taskId, failingDb);
		expect((await deliver(await simCallback(taskId))).status).toBe(200);

		// The delivery is decided, but the alarm sends nothing while D1 lags behind: the attempt
		// would be made inside the alarm, so once it has run to completion there is none.
		expect((await stub.inspect()).state?.delivery).toMatchObject({ state: "pending", attempts: 0 });
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect((await stub.inspect()).state?.delivery).toMatchObject({ state: "pending", attempts: 0 });
		expect(await hook.deliveries()).toHaveLength(0);

		await setObjectDb(taskId, env.DB);
		await runDurableObjectAlarm(stub);
		const [received] = await eventually(hook.deliveries, (list) => list.length >= 1);
		// By the time the client hears of it, record-info serves it.
		expect((await recordInfo(taskId)).data.status).toBe("SUCCESS");
		expect(received?.receivedAt).toBeGreaterThan(0);
	});

	it("backs off while D1 is down instead of re-running the alarm for a due delivery", async () => {
		const hook = simHook("storm");
		const taskId = await createTask(uniquePrompt("a delivery waiting out an outage"), { callBackUrl: hook.url });
		const stub = env.TASKS.getByName(taskId);
		await setObjectDb(taskId, failingDb);
		await deliver(await simCallback(taskId));

		for (let run = 0; run < 3; run++) {
			await runDurableObjectAlarm(stub);
			const alarm = await runInDurableObject(stub, (_instance, objectState) => objectState.storage.getAlarm());
			// The D1 retry's backoff (1 s, 2 s, 4 s…), not "due now" again.
			expect(alarm).not.toBeNull();
			expect((alarm as number) - Date.now()).toBeGreaterThan(500);
		}
		expect((await stub.inspect()).state?.syncFailures).toBe(4);
		expect(await hook.deliveries()).toHaveLength(0);
		await setObjectDb(taskId, env.DB);
	});
});

describe("a delivery decided just before the object was reset", () => {
	// Its ticks run an hour ahead, which would poll and expire every other test's pending task
	// too: each test starts with none, so a tick touches only its own.
	beforeEach(forgetStoredTasks);

	it("is still made: the cron's resync re-arms its alarm", async () => {
		const hook = simHook("stranded");
		const taskId = await createTask(uniquePrompt("a delivery without its alarm"), { callBackUrl: hook.url });
		const stub = env.TASKS.getByName(taskId);
		// The result is decided but D1 never heard of it, and the alarm is gone, as after a reset
		// between the decision and the D1 write.
		await setObjectDb(taskId, failingDb);
		await deliver(await simCallback(taskId));
		await setObjectDb(taskId, env.DB);
		await runInDurableObject(stub, (_instance, objectState) => objectState.storage.deleteAlarm());
		expect((await recordInfo(taskId)).data.status).toBe("PENDING");

		await runCron(Date.now() + 3_600_000);
		await eventually(hook.deliveries, (list) => list.length === 1);
		expect((await recordInfo(taskId)).data.delivery).toMatchObject({ state: "delivered" });
	});
});
