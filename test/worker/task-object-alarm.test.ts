/**
 * The task object's one alarm, reason by reason: each collaborator's need sets it (the alarm is at
 * the time that need names), running it does the work, and running it again changes nothing.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	api,
	callbackThrough,
	createTask,
	deliver,
	eventually,
	inspectTask,
	mintedCallbackTarget,
	recordInfo,
	runCron,
	setObjectEnv,
	simCallback,
	simHook,
	uniquePrompt,
	editStoredRecord,
	alarmOf,
	expectOnlyArchiveAlarm,
	timedOutCreateCalledBack,
} from "./helpers";

const stubOf = (taskId: string) => env.TASKS.getByName(taskId);
/** D1 refusing every statement, as during an outage. */
const downDb = { prepare: () => { throw new Error("D1_ERROR: simulated outage"); } } as unknown as D1Database;

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
		await expectOnlyArchiveAlarm(taskId);

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
		await expectOnlyArchiveAlarm(taskId);

		await runDurableObjectAlarm(stubOf(taskId));
		expect(await hook.deliveries()).toHaveLength(2);
		expect(await inspectTask(taskId)).toEqual(delivered);
	});

	it("leaves adoption checks to the cron: the alarm is the held callback's expiry, and a due tick starts the task once", async () => {
		const { taskId, heldAt } = await timedOutCreateCalledBack(uniquePrompt("alarm: timed-out create"));
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

	it("tells the timed-out create's Idempotency-Key its task, retrying while the key cannot be reached", async () => {
		const prompt = uniquePrompt("alarm: key handoff");
		const key = crypto.randomUUID();
		const { taskId } = await timedOutCreateCalledBack(prompt, { "idempotency-key": key });
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
		await expectOnlyArchiveAlarm(taskId);
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

	it("forgets callbacks held for a task never registered when they expire, once, and then stores nothing", async () => {
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
		expect(await stubOf(taskId).storedBytes()).toBe(0);

		expect(await runDurableObjectAlarm(stubOf(taskId))).toBe(false);
		expect(await inspectTask(taskId)).toEqual({ state: null, earlyCallbacks: 0 });
	});
});
