import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import {
	alarmOf,
	createTask,
	createdAt,
	d1CaughtUp,
	deliver,
	finishUpstream,
	forgetStoredTasks,
	recordInfo,
	runCron,
	simCallback,
	simScript,
	simTask,
	uniquePrompt,
} from "./helpers";

const GRACE_MS = 120_000;

describe("cron fallback", () => {
	// Ticks a day ahead would also poll and expire every other test's pending tasks: each test
	// starts with none, so a tick touches only its own.
	beforeEach(forgetStoredTasks);

	it("recovers a task whose callback never came, once it is past the grace period", async () => {
		const taskId = await createTask(uniquePrompt("a lost callback"));
		await finishUpstream(taskId);
		const t0 = await createdAt(taskId);

		await runCron(t0 + GRACE_MS - 5_000);
		expect((await simTask(taskId)).recordInfoRequests).toBe(0);
		expect((await recordInfo(taskId)).data.status).toBe("PENDING");

		await runCron(t0 + GRACE_MS + 1_000);
		expect((await simTask(taskId)).recordInfoRequests).toBe(1);
		const done = await recordInfo(taskId);
		expect(done.data).toMatchObject({ status: "SUCCESS", resultSource: "poll", polls: 1 });
		expect(done.data.response.data.length).toBeGreaterThanOrEqual(2);
	});

	it("answers a second ask 'busy' and re-arms the alarm for the first, should the object have stopped before arming it", async () => {
		const taskId = await createTask(uniquePrompt("an ask whose alarm was lost"));
		await finishUpstream(taskId);
		const stub = env.TASKS.getByName(taskId);
		const tickTime = (await createdAt(taskId)) + GRACE_MS + 1_000;
		const dueAt = Date.now() + 60_000;
		expect(await stub.askToPoll(taskId, tickTime, dueAt)).toBe("asked");
		// The object stops after recording the ask and before its alarm was stored.
		await runInDurableObject(stub, (_instance, state) => state.storage.deleteAlarm());
		await evictDurableObject(stub);
		expect(await stub.askedPoll()).toMatchObject({ dueAt });
		expect(await alarmOf(taskId)).toBeNull();

		// The next tick is told "busy", and the alarm is set again, for the ask at the latest.
		expect(await stub.askToPoll(taskId, tickTime + 60_000, Date.now())).toBe("busy");
		const alarm = await alarmOf(taskId);
		expect(alarm).not.toBeNull();
		expect(alarm).toBeLessThanOrEqual(dueAt);
		// Once the ask is due (as a minute later), that alarm makes the poll.
		await runInDurableObject(stub, (_instance, state) => {
			state.storage.sql.exec("UPDATE poll_schedule SET due_at = ?", Date.now() - 1);
		});
		await evictDurableObject(stub);
		await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(Date.now() + 60_000));
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "SUCCESS", resultSource: "poll" });
	});

	it("polls a still-pending task again only after its backoff, growing from about 30 s", async () => {
		const taskId = await createTask(uniquePrompt("a slow upstream"));
		const t0 = (await createdAt(taskId)) + GRACE_MS + 1_000;
		const polls = async () => (await simTask(taskId)).recordInfoRequests;

		await runCron(t0);
		expect(await polls()).toBe(1);
		const first = (await env.TASKS.getByName(taskId).inspect()).state!;
		expect(first.nextPollAt - t0).toBeGreaterThanOrEqual(27_000);
		expect(first.nextPollAt - t0).toBeLessThanOrEqual(33_000);

		await runCron(t0 + 20_000);
		expect(await polls()).toBe(1);
		await runCron(t0 + 40_000);
		expect(await polls()).toBe(2);

		// The second wait is about twice the first.
		const second = (await env.TASKS.getByName(taskId).inspect()).state!;
		expect(second.nextPollAt - (t0 + 40_000)).toBeGreaterThanOrEqual(54_000);
		expect(second.nextPollAt - (t0 + 40_000)).toBeLessThanOrEqual(66_000);
		await runCron(t0 + 40_000 + 50_000);
		expect(await polls()).toBe(2);
		await runCron(t0 + 40_000 + 70_000);
		expect(await polls()).toBe(3);
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "PENDING", polls: 3 });
	});

	it("never polls a task that is already final", async () => {
		const taskId = await createTask(uniquePrompt("a prompt callback"));
		expect((await deliver(await simCallback(taskId))).status).toBe(200);
		const t0 = await createdAt(taskId);

		await runCron(t0 + GRACE_MS + 1_000);
		await runCron(t0 + 24 * 3600_000);
		expect((await simTask(taskId)).recordInfoRequests).toBe(0);
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "SUCCESS", polls: 0 });
	});

	it("applies a poll and a late callback once: the first final result stands", async () => {
		const prompt = uniquePrompt("a race between poll and callback");
		const taskId = await createTask(prompt);
		await finishUpstream(taskId);
		await runCron((await createdAt(taskId)) + GRACE_MS + 1_000);
		const polled = await recordInfo(taskId);
		expect(polled.data.status).toBe("SUCCESS");

		const late = await deliver(await simCallback(taskId, "?fail=1"));
		expect(late.status).toBe(200);
		expect(await late.json()).toMatchObject({ data: { result: "already-final" } });
		// A duplicate's count reaches D1 with the object's coalesced write, seconds later.
		await d1CaughtUp(taskId);
		const after = await recordInfo(taskId);
		expect(after.data.status).toBe("SUCCESS");
		expect(after.data.response).toEqual(polled.data.response);
		expect(after.data.callbacksReceived).toBe(1);
	});

	it("stores a failure the upstream reports on poll", async () => {
		const marker = uniquePrompt("a refused prompt");
		await simScript(marker, {
			recordStatus: "SENSITIVE_WORD_ERROR",
			recordErrorCode: 400,
			recordErrorMessage: "Song Description flagged for moderation",
		});
		const taskId = await createTask(marker);
		await runCron((await createdAt(taskId)) + GRACE_MS + 1_000);
		expect((await recordInfo(taskId)).data).toMatchObject({
			status: "SENSITIVE_WORD_ERROR",
			errorCode: 400,
			errorMessage: "Song Description flagged for moderation",
			resultSource: "poll",
		});
	});

	it("reads lyrics under response.lyricsData as well as response.data", async () => {
		const marker = uniquePrompt("lyrics data variant");
		await simScript(marker, { itemsKey: "lyricsData", recordStatus: "SUCCESS" });
		const taskId = await createTask(marker);
		await runCron((await createdAt(taskId)) + GRACE_MS + 1_000);
		const done = await recordInfo(taskId);
		expect(done.data.status).toBe("SUCCESS");
		expect(done.data.response.data.length).toBeGreaterThanOrEqual(2);
	});

	it("keeps a task pending and backs off when the poll itself fails", async () => {
		const marker = uniquePrompt("a poll that errors");
		await simScript(marker, { recordHttpStatus: 500 });
		const taskId = await createTask(marker);
		const t0 = (await createdAt(taskId)) + GRACE_MS + 1_000;
		await runCron(t0);
		const { state } = await env.TASKS.getByName(taskId).inspect();
		expect(state).toMatchObject({ status: "PENDING", polls: 1 });
		expect(state!.nextPollAt).toBeGreaterThan(t0);
	});

	it("ends a task pending past its bounded age as a terminal failure, then stops polling it", async () => {
		const marker = uniquePrompt("an upstream that never finishes");
		await simScript(marker, { recordStatus: "PENDING" });
		const taskId = await createTask(marker);
		const maxAgeMs = Number(env.TASK_MAX_PENDING_SECONDS) * 1000;
		const t0 = await createdAt(taskId);

		await runCron(t0 + maxAgeMs + 1_000);
		const ended = await recordInfo(taskId);
		expect(ended.data).toMatchObject({ status: "GENERATE_LYRICS_FAILED", errorCode: 408, resultSource: "timeout" });
		expect(ended.data.errorMessage).toMatch(/no callback arrived/);
		const pollsSoFar = (await simTask(taskId)).recordInfoRequests;

		await runCron(t0 + maxAgeMs + 3600_000);
		expect((await simTask(taskId)).recordInfoRequests).toBe(pollsSoFar);
	});
});
