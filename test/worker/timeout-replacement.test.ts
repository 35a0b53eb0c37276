/**
 * The gateway's own timeout (TASK_MAX_PENDING_SECONDS) is decided only on the upstream's answer
 * that the task is unfinished: a poll that fails proves nothing, so the task stays pending and is
 * polled with backoff. A genuine result the upstream delivers after that timeout replaces it, is
 * stored with how it came, and is delivered to the client again under a webhook-id of its own.
 * Time is the cron's scheduled time: no test waits out the limit.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { verifyStandardWebhook } from "../support/webhook-verifier";
import {
	type HookDelivery,
	createTask,
	createdAt,
	deliver,
	eventually,
	finishUpstream,
	recordInfo,
	runCron,
	setObjectEnv,
	sim,
	simCallback,
	simHook,
	simTask,
	uniquePrompt,
} from "./helpers";

/** The reproduction: a 15 s limit, polled from the first tick on. */
const LIMITS = { TASK_MAX_PENDING_SECONDS: "15", POLL_GRACE_SECONDS: "0" } satisfies Partial<Env>;
const SIGNING_KEY = env.WEBHOOK_SIGNING_KEY as string;

const outages: string[] = [];
/** record-info about tasks whose prompt contains `match` fails this way until `endOutage`. */
async function startOutage(match: string, recordInfo: number | "hang") {
	outages.push(match);
	await sim("/__sim/outages", {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ match, recordInfo }),
	});
}
async function endOutage(match: string) {
	await sim(`/__sim/outages?match=${encodeURIComponent(match)}`, { method: "DELETE" });
}
afterEach(async () => {
	for (const match of outages.splice(0)) await endOutage(match);
});

/** A task under the 15 s limit (its object and the cron both see it), with a client webhook. */
async function limitedTask(label: string) {
	const prompt = uniquePrompt(label);
	const hook = simHook(label.replace(/\W+/g, "-"));
	const taskId = await createTask(prompt, { callBackUrl: hook.url });
	await setObjectEnv(taskId, LIMITS);
	return { prompt, hook, taskId, t0: await createdAt(taskId) };
}

const cron = (at: number) => runCron(at, LIMITS);

describe("the gateway's timeout after a failed poll", () => {
	it.each([
		["answers 503", 503],
		["answers 429", 429],
		["does not answer", "hang"],
	] as const)("keeps the task pending when record-info %s at the deadline, and stores the callback that comes later", async (_label, failure) => {
		const { prompt, hook, taskId, t0 } = await limitedTask(`an outage at the deadline ${String(failure)}`);
		await startOutage(prompt, failure);

		await cron(t0 + 16_000);
		expect((await simTask(taskId)).recordInfoRequests).toBe(1);
		// Nothing claims what the upstream never said: no timeout, no error, no delivery.
		const during = (await recordInfo(taskId)).data;
		expect(during).toMatchObject({
			status: "PENDING",
			resultSource: null,
			errorCode: null,
			errorMessage: null,
			delivery: null,
		});

		// The genuine callback, 26 s after the create: applied, not "already-final".
		const ack = await deliver(await simCallback(taskId));
		expect(ack.status).toBe(200);
		expect(await ack.json()).toMatchObject({ data: { result: "applied" } });
		const stored = (await recordInfo(taskId)).data;
		expect(stored).toMatchObject({ status: "SUCCESS", resultSource: "callback", errorCode: null });
		expect(stored.response.data.length).toBeGreaterThanOrEqual(2);
		const [received] = await eventually(hook.deliveries, (list) => list.length >= 1);
		expect(JSON.parse((received as HookDelivery).body)).toMatchObject({ code: 200, data: { task_id: taskId } });
	});

	it("polls a task past its deadline with backoff while the upstream cannot be asked, and stores the poll's result once it can", async () => {
		const { prompt, taskId, t0 } = await limitedTask("an outage that ends");
		const polls = async () => (await simTask(taskId)).recordInfoRequests;
		await startOutage(prompt, 503);

		await cron(t0 + 16_000);
		expect(await polls()).toBe(1);
		const { state } = await env.TASKS.getByName(taskId).inspect();
		expect(state!.nextPollAt - (t0 + 16_000)).toBeGreaterThanOrEqual(27_000);
		// Past the deadline, yet not asked again every minute: the backoff holds.
		await cron(t0 + 36_000);
		expect(await polls()).toBe(1);
		await cron(t0 + 50_000);
		expect(await polls()).toBe(2);
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "PENDING", resultSource: null });

		await endOutage(prompt);
		await finishUpstream(taskId);
		await cron(t0 + 50_000 + 70_000);
		expect(await polls()).toBe(3);
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "SUCCESS", resultSource: "poll" });
	});

	it("ends the task as a timeout once the upstream, asked again after the outage, answers that it is unfinished", async () => {
		const { prompt, taskId, t0 } = await limitedTask("an outage then still unfinished");
		await startOutage(prompt, 503);
		await cron(t0 + 16_000);
		await endOutage(prompt);
		await cron(t0 + 16_000 + 40_000);
		const ended = (await recordInfo(taskId)).data;
		expect(ended).toMatchObject({ status: "GENERATE_LYRICS_FAILED", errorCode: 408, resultSource: "timeout" });
		expect(ended.errorMessage).toMatch(/still reported the task unfinished/);
	});
});

describe("a genuine result after the gateway's timeout", () => {
	it("replaces the timeout, keeps how it came, and is delivered as a second delivery the client can tell apart", async () => {
		const { hook, taskId, t0 } = await limitedTask("a result after the timeout");
		// The upstream answers that the task is unfinished: the timeout is decided and delivered.
		await cron(t0 + 16_000);
		const timedOut = (await recordInfo(taskId)).data;
		expect(timedOut).toMatchObject({ status: "GENERATE_LYRICS_FAILED", errorCode: 408, resultSource: "timeout" });
		const [first] = await eventually(hook.deliveries, (list) => list.length >= 1);
		expect(first?.headers["webhook-id"]).toBe(`msg_${taskId}`);
		expect(JSON.parse(first?.body ?? "{}")).toMatchObject({ code: 408, data: { callbackType: "error", task_id: taskId } });

		// The upstream's result comes after all.
		const ack = await deliver(await simCallback(taskId));
		expect(ack.status).toBe(200);
		expect(await ack.json()).toMatchObject({ data: { result: "applied" } });
		const replaced = (await recordInfo(taskId)).data;
		expect(replaced).toMatchObject({ status: "SUCCESS", resultSource: "callback", errorCode: null, errorMessage: null });
		expect(replaced.response.data.length).toBeGreaterThanOrEqual(2);
		// Completed when the result came (the timeout was judged by the cron's scheduled time).
		expect(replaced.completeTime).not.toBe(timedOut.completeTime);
		expect(Math.abs((replaced.completeTime as number) - Date.now())).toBeLessThan(5_000);

		const deliveries = await eventually(hook.deliveries, (list) => list.length >= 2);
		const second = deliveries[1] as HookDelivery;
		expect(second.headers["webhook-id"]).toBe(`msg_${taskId}_2`);
		expect(await verifyStandardWebhook(SIGNING_KEY, second.headers, second.body)).toEqual({ ok: true });
		expect(JSON.parse(second.body)).toMatchObject({ code: 200, data: { callbackType: "complete", task_id: taskId } });
		const delivery = await eventually(
			async () => (await recordInfo(taskId)).data.delivery,
			(d) => d?.state === "delivered",
		);
		expect(delivery?.webhookId).toBe(`msg_${taskId}_2`);

		// Results from the upstream never change once stored: a later report is only counted.
		const later = await deliver(await simCallback(taskId, "?fail=1"));
		expect(await later.json()).toMatchObject({ data: { result: "already-final" } });
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "SUCCESS", resultSource: "callback" });
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(await hook.deliveries()).toHaveLength(2);
	});
});
