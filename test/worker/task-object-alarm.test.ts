/**
 * The task object's one alarm, reason by reason: each collaborator's need sets it (the alarm is at
 * the time that need names), running it does the work, and running it again changes nothing.
 * Also: an object stored by the previous storage layout (version 1) still loads and works.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	api,
	callbackThrough,
	createTask,
	deliver,
	eventually,
	expectErrorEnvelope,
	inspectTask,
	mintedCallbackTarget,
	recordInfo,
	recordInfoAsAdmin,
	runCron,
	setObjectEnv,
	simCallback,
	simHook,
	simScript,
	uniquePrompt,
	waitForSimTask,
	editStoredRecord,
} from "./helpers";

const stubOf = (taskId: string) => env.TASKS.getByName(taskId);
const alarmOf = (taskId: string) => runInDurableObject(stubOf(taskId), (_instance, state) => state.storage.getAlarm());
/** D1 refusing every statement, as during an outage. */
const downDb = { prepare: () => { throw new Error("D1_ERROR: simulated outage"); } } as unknown as D1Database;

/** A create whose upstream answer comes after the deadline (1.5 s here), with its callback delivered after the 504. */
async function lateCreateCalledBack(prompt: string, headers: Record<string, string> = {}) {
	await simScript(prompt, { createDelayMs: 3000 });
	const answer = api("/api/v1/lyrics", {
		method: "POST",
		headers: { "content-type": "application/json", ...headers },
		body: JSON.stringify({ prompt }),
	});
	const { taskId } = await waitForSimTask(prompt);
	await expectErrorEnvelope(await answer, 504, 504);
	const heldAt = Date.now();
	expect((await deliver(await simCallback(taskId))).status).toBe(200);
	return { taskId, heldAt };
}

describe("the task object's alarm, by reason", () => {
	it("is not set at all for a new task whose D1 write lands: nothing is owed from an earlier life", async () => {
		// Every setAlarm in this isolate, with the storage it was called on (objects run here too).
		const storageProto = await runInDurableObject(env.TASKS.getByName(uniquePrompt("alarm probe")), (_instance, state) =>
			Object.getPrototypeOf(state.storage) as DurableObjectStorage,
		);
		const setAlarm = storageProto.setAlarm;
		const calls: DurableObjectStorage[] = [];
		storageProto.setAlarm = function (this: DurableObjectStorage, ...args: Parameters<DurableObjectStorage["setAlarm"]>) {
			calls.push(this);
			return setAlarm.apply(this, args);
		};
		try {
			const taskId = await createTask(uniquePrompt("alarm: none at register"));
			const storage = await runInDurableObject(stubOf(taskId), (_instance, state) => state.storage);
			expect(calls.filter((called) => called === storage)).toEqual([]);
			expect(await alarmOf(taskId)).toBeNull();

			// The same watch sees this object's alarm once one is owed: a result's write that failed.
			await setObjectEnv(taskId, { DB: downDb });
			expect((await deliver(await simCallback(taskId))).status).toBe(200);
			expect(calls.filter((called) => called === storage).length).toBeGreaterThan(0);
			await setObjectEnv(taskId, { DB: env.DB });
		} finally {
			storageProto.setAlarm = setAlarm;
		}
	});

	it("retries a failed D1 write at its backoff, once", async () => {
		const taskId = await createTask(uniquePrompt("alarm: d1 retry"));
		await setObjectEnv(taskId, { DB: downDb });
		const before = Date.now();
		expect((await deliver(await simCallback(taskId))).status).toBe(200);
		// The write's first retry is due a second after it failed.
		const alarm = await alarmOf(taskId);
		expect(alarm).toBeGreaterThanOrEqual(before + 1000);
		expect(alarm).toBeLessThanOrEqual(Date.now() + 1000);

		await setObjectEnv(taskId, { DB: env.DB });
		expect(await runDurableObjectAlarm(stubOf(taskId))).toBe(true);
		const visible = await recordInfo(taskId);
		expect(visible.data.status).toBe("SUCCESS");
		const after = await inspectTask(taskId);
		expect(after.state?.syncedVersion).toBe(after.state?.version);
		expect(await alarmOf(taskId)).toBeNull();

		await runDurableObjectAlarm(stubOf(taskId));
		expect(await inspectTask(taskId)).toEqual(after);
		expect((await recordInfo(taskId)).data).toEqual(visible.data);
	});

	it("makes a delivery's next attempt when it is due, once", async () => {
		const hook = simHook("alarm-delivery");
		await hook.behave({ statuses: [500], thenStatus: 200 });
		const taskId = await createTask(uniquePrompt("alarm: delivery"), { callBackUrl: hook.url });
		await setObjectEnv(taskId, { WEBHOOK_RETRY_SCHEDULE: "600" });
		await deliver(await simCallback(taskId));
		const { state: failed } = await eventually(() => inspectTask(taskId), ({ state }) => state?.delivery?.attempts === 1);
		// The alarm is the retry's due time, ten minutes on.
		expect(await alarmOf(taskId)).toBe(failed?.delivery?.nextAttemptAt);

		// Run early, it sends nothing and keeps the retry's time.
		await runDurableObjectAlarm(stubOf(taskId));
		expect(await hook.deliveries()).toHaveLength(1);
		expect(await alarmOf(taskId)).toBe(failed?.delivery?.nextAttemptAt);

		// Due now (as ten minutes later): the alarm makes the attempt.
		await editStoredRecord(taskId, (record) => {
			record.delivery!.nextAttemptAt = Date.now() - 1;
		});
		expect(await runDurableObjectAlarm(stubOf(taskId))).toBe(true);
		expect(await hook.deliveries()).toHaveLength(2);
		const delivered = await inspectTask(taskId);
		expect(delivered.state?.delivery).toMatchObject({ state: "delivered", attempts: 2 });
		expect(await alarmOf(taskId)).toBeNull();

		await runDurableObjectAlarm(stubOf(taskId));
		expect(await hook.deliveries()).toHaveLength(2);
		expect(await inspectTask(taskId)).toEqual(delivered);
	});

	it("leaves the late-create check to the cron: the alarm is the held callback's expiry, and a due tick starts the task once", async () => {
		const { taskId, heldAt } = await lateCreateCalledBack(uniquePrompt("alarm: late create"));
		// Asking the upstream is the cron's, within its budget: the object's alarm only expires what it holds.
		const alarm = (await alarmOf(taskId)) as number;
		expect(alarm).toBeGreaterThanOrEqual(heldAt + 86_400_000);
		expect(alarm).toBeLessThanOrEqual(Date.now() + 86_400_000);
		await runDurableObjectAlarm(stubOf(taskId));
		expect((await inspectTask(taskId)).state).toBeNull();

		// The check is due at the upstream deadline (1.5 s) plus a 5 s margin after the callback was held.
		await runCron(heldAt + 5_000);
		expect((await inspectTask(taskId)).state).toBeNull();
		await runCron(Date.now() + 60_000);
		const started = await inspectTask(taskId);
		expect(started.state).toMatchObject({ status: "SUCCESS", callbacksReceived: 1 });
		expect((await recordInfo(taskId)).data.status).toBe("SUCCESS");

		await runCron(Date.now() + 120_000);
		await runDurableObjectAlarm(stubOf(taskId));
		expect(await inspectTask(taskId)).toEqual(started);
	});

	it("tells the late create's Idempotency-Key its task, retrying while the key cannot be reached", async () => {
		const prompt = uniquePrompt("alarm: key handoff");
		const key = crypto.randomUUID();
		const { taskId } = await lateCreateCalledBack(prompt, { "idempotency-key": key });
		const unreachable = { getByName: () => ({ adopt: () => Promise.reject(new Error("unreachable")) }) };
		await setObjectEnv(taskId, { IDEMPOTENCY: unreachable as unknown as Env["IDEMPOTENCY"] });
		const before = Date.now();
		await runCron(Date.now() + 60_000);
		expect((await inspectTask(taskId)).state?.status).toBe("SUCCESS");
		// The task is started, D1 agrees, and the handoff's retry (10 s) is what the alarm is for.
		const alarm = (await alarmOf(taskId)) as number;
		expect(alarm).toBeGreaterThanOrEqual(before + 10_000);
		expect(alarm).toBeLessThanOrEqual(Date.now() + 10_000);

		await setObjectEnv(taskId, { IDEMPOTENCY: env.IDEMPOTENCY });
		expect(await runDurableObjectAlarm(stubOf(taskId))).toBe(true);
		expect(await alarmOf(taskId)).toBeNull();
		const replay = () =>
			api("/api/v1/lyrics", {
				method: "POST",
				headers: { "content-type": "application/json", "idempotency-key": key },
				body: JSON.stringify({ prompt }),
			});
		const first = await replay();
		expect(first.headers.get("idempotent-replayed")).toBe("true");
		expect(((await first.json()) as { data: { taskId: string } }).data.taskId).toBe(taskId);

		const settled = await inspectTask(taskId);
		await runDurableObjectAlarm(stubOf(taskId));
		expect(await inspectTask(taskId)).toEqual(settled);
		expect((await replay()).headers.get("idempotent-replayed")).toBe("true");
	});

	it("forgets callbacks held for a task never registered when they expire, once", async () => {
		const taskId = crypto.randomUUID().replace(/-/g, "");
		const target = await mintedCallbackTarget();
		const heldAt = Date.now();
		expect((await deliver(callbackThrough(target.url, taskId))).status).toBe(200);
		// The alarm is the held callback's expiry, a day on (checking it with the upstream is the cron's).
		await runDurableObjectAlarm(stubOf(taskId));
		const expiry = (await alarmOf(taskId)) as number;
		expect(expiry).toBeGreaterThanOrEqual(heldAt + 86_400_000);
		expect(expiry).toBeLessThanOrEqual(Date.now() + 86_400_000);
		expect((await inspectTask(taskId)).earlyCallbacks).toBe(1);

		// A day passes.
		await runInDurableObject(stubOf(taskId), (_instance, state) => {
			state.storage.sql.exec("UPDATE early_callbacks SET received_at = received_at - 86400000");
		});
		expect(await runDurableObjectAlarm(stubOf(taskId))).toBe(true);
		expect(await inspectTask(taskId)).toEqual({ state: null, earlyCallbacks: 0 });
		expect(await alarmOf(taskId)).toBeNull();

		expect(await runDurableObjectAlarm(stubOf(taskId))).toBe(false);
		expect(await inspectTask(taskId)).toEqual({ state: null, earlyCallbacks: 0 });
	});
});

describe("an object stored by the previous layout (storage version 1)", () => {
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

	it("lists callbacks it held for a late create in the held-callback budget, so the cron adopts the task", async () => {
		const { taskId } = await lateCreateCalledBack(uniquePrompt("v1: held for a late create"));
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
