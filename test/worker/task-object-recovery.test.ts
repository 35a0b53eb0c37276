/**
 * The task object stays correct when things around it go wrong: overlapping cron ticks, D1
 * holding a version the object never wrote, an object that lost its storage, and the cleanup of
 * callbacks held for a task that never came.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { upsertTask } from "../../src/db/task-writes";
import {
	callbackThrough,
	createdAt,
	createTask,
	deliver,
	finishUpstream,
	inspectTask,
	mintedCallbackTarget,
	recordInfo,
	runCron,
	simCallback,
	simScript,
	simTask,
	uniquePrompt,
} from "./helpers";

describe("task object recovery", () => {
	it("polls a task once when two cron ticks overlap, even when the later tick is far ahead", async () => {
		const marker = uniquePrompt("a slow poll");
		await simScript(marker, { recordHang: true });
		const taskId = await createTask(marker);
		const t0 = (await createdAt(taskId)) + 121_000;

		const first = runCron(t0);
		await new Promise((resolve) => setTimeout(resolve, 200)); // the first tick is now waiting on the upstream
		await runCron(t0 + 600_000);
		await first;
		expect((await simTask(taskId)).recordInfoRequests).toBe(1);
		expect((await inspectTask(taskId)).state).toMatchObject({ status: "PENDING", polls: 1, pollLeaseUntil: 0 });
	});

	it("moves past a version in D1 it never wrote, so its decision still becomes visible", async () => {
		const taskId = await createTask(uniquePrompt("a restored database"));
		const { state } = await inspectTask(taskId);
		// D1 now claims a later version of the pending task than the object has ever had.
		await upsertTask(env.DB, { ...state!, version: 50 }, state!.ref);

		expect((await deliver(await simCallback(taskId))).status).toBe(200);
		const visible = await recordInfo(taskId);
		expect(visible.data.status).toBe("SUCCESS");
		const after = (await inspectTask(taskId)).state!;
		expect(after.version).toBeGreaterThan(50);
		expect(after.syncedVersion).toBe(after.version);
	});

	it("rewrites D1 when the cron finds it listing a final task as pending", async () => {
		const taskId = await createTask(uniquePrompt("a database that forgot"));
		expect((await deliver(await simCallback(taskId))).status).toBe(200);
		const { state } = await inspectTask(taskId);
		// D1 loses the result (say, restored from before it) while the object keeps it.
		await upsertTask(
			env.DB,
			{ ...state!, status: "PENDING", items: [], resultSource: null, completedAt: null, version: state!.version + 5 },
			state!.ref,
		);
		expect((await recordInfo(taskId)).data.status).toBe("PENDING");

		await runCron(state!.createdAt + 121_000);
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "SUCCESS", resultSource: "callback" });
		expect((await simTask(taskId)).recordInfoRequests).toBe(0);
	});

	it("adopts D1's row when the object lost its storage, and finishes the task by polling", async () => {
		const taskId = await createTask(uniquePrompt("an object that forgot"));
		const stub = env.TASKS.getByName(taskId);
		await runInDurableObject(stub, (_instance, state) => state.storage.deleteAll());
		await evictDurableObject(stub);
		expect((await inspectTask(taskId)).state).toBeNull();

		await finishUpstream(taskId);
		await runCron((await recordInfo(taskId)).data.createTime + 121_000);
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "SUCCESS", resultSource: "poll" });
		expect((await inspectTask(taskId)).state).toMatchObject({ status: "SUCCESS" });
	});

	it("forgets callbacks held for a task never registered after a day, and keeps working", async () => {
		const taskId = crypto.randomUUID().replace(/-/g, "");
		const request = callbackThrough((await mintedCallbackTarget()).url, taskId);
		expect((await deliver(request)).status).toBe(200);
		const stub = env.TASKS.getByName(taskId);
		expect((await inspectTask(taskId)).earlyCallbacks).toBe(1);

		// A day passes.
		await runInDurableObject(stub, (_instance, state) => {
			state.storage.sql.exec("UPDATE early_callbacks SET received_at = 0");
		});
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect(await inspectTask(taskId)).toEqual({ state: null, earlyCallbacks: 0 });

		// The same object answers the next callback normally rather than failing.
		expect((await deliver(request)).status).toBe(200);
		expect((await inspectTask(taskId)).earlyCallbacks).toBe(1);
	});
});
