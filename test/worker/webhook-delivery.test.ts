/**
 * Deliveries to the client's own callBackUrl: when a task becomes final its object POSTs the
 * provider's callback body there, signed both ways, once per task however many upstream reports
 * arrive, retried until a 2xx (here on a 1 s schedule; see vitest.config.ts) and never again after.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { verifyProviderStyle, verifyStandardWebhook } from "../support/webhook-verifier";
import {
	type HookDelivery,
	callbackBody,
	createTask,
	deliver,
	eventually,
	finishUpstream,
	forgetStoredTasks,
	recordInfo,
	runCron,
	setObjectEnv,
	simCallback,
	simHook,
	uniquePrompt,
	editStoredRecord,
} from "./helpers";

const SIGNING_KEY = env.WEBHOOK_SIGNING_KEY as string;

async function deliveryOf(taskId: string) {
	return (await recordInfo(taskId)).data.delivery;
}

/**
 * Runs the task object's alarm, the only thing that makes delivery attempts, to completion (twice
 * over: directly, and whatever it had scheduled), then checks that the object still says `delivery`
 * and the hook received exactly `count` requests: a further send would have happened by now.
 */
async function expectNothingMoreToSend(
	taskId: string,
	hook: ReturnType<typeof simHook>,
	delivery: { state: string; attempts: number },
	count: number,
) {
	const stub = env.TASKS.getByName(taskId);
	await runInDurableObject(stub, (instance) => instance.alarm());
	await runDurableObjectAlarm(stub);
	expect((await stub.inspect()).state?.delivery).toMatchObject({ state: delivery.state, attempts: delivery.attempts });
	expect(await deliveryOf(taskId)).toMatchObject(delivery);
	expect(await hook.deliveries()).toHaveLength(count);
}

describe("delivery to the client's callBackUrl", () => {
	// Its ticks run an hour ahead, which would poll and expire every other test's pending task
	// too: each test starts with none, so a tick touches only its own.
	beforeEach(forgetStoredTasks);

	it("POSTs the provider's callback body with the stored lyrics once the callback arrives", async () => {
		const hook = simHook("first-delivery");
		const taskId = await createTask(uniquePrompt("a delivered result"), { callBackUrl: hook.url });
		expect(await deliveryOf(taskId)).toBeNull();

		const callback = await simCallback(taskId);
		await deliver(callback);

		const [received] = await eventually(hook.deliveries, (list) => list.length >= 1);
		const body = JSON.parse((received as HookDelivery).body);
		const upstream = callbackBody(callback);
		expect(body).toEqual({
			code: 200,
			msg: "All generated successfully.",
			data: {
				callbackType: "complete",
				task_id: taskId,
				data: (upstream.data.data ?? []).map((item) => ({
					text: item.text,
					title: item.title,
					status: "complete",
					error_message: "",
				})),
			},
		});
		expect(received?.headers["content-type"]).toMatch(/^application\/json/);

		const delivery = await eventually(() => deliveryOf(taskId), (d) => d?.state === "delivered");
		expect(delivery).toMatchObject({ webhookId: `msg_${taskId}`, attempts: 1, lastStatus: 200, lastError: null, nextAttemptTime: null });
		expect(delivery?.deliveredTime).toBeGreaterThanOrEqual((await recordInfo(taskId)).data.completeTime as number);
	});

	it("carries both signatures, which a receiver verifies with the signing key", async () => {
		const hook = simHook("signed");
		const taskId = await createTask(uniquePrompt("a signed delivery"), { callBackUrl: hook.url });
		await deliver(await simCallback(taskId));
		const [received] = await eventually(hook.deliveries, (list) => list.length >= 1);
		const { headers, body } = received as HookDelivery;

		expect(headers["webhook-id"]).toBe(`msg_${taskId}`);
		expect(headers["webhook-timestamp"]).toBe(headers["x-webhook-timestamp"]);
		expect(Math.abs(Number(headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(30);
		expect(await verifyStandardWebhook(SIGNING_KEY, headers, body)).toEqual({ ok: true });
		expect(await verifyProviderStyle(SIGNING_KEY, headers, body)).toEqual({ ok: true });

		// The receiver's checks are real: another key, another body or an old timestamp fail.
		const otherKey = "whsec_b3RoZXIta2V5LW9mLWFub3RoZXItZ2F0ZXdheQ==";
		expect((await verifyStandardWebhook(otherKey, headers, body)).ok).toBe(false);
		expect((await verifyProviderStyle(otherKey, headers, body)).ok).toBe(false);
		expect((await verifyStandardWebhook(SIGNING_KEY, headers, body.replace("complete", "failed"))).ok).toBe(false);
		const later = Number(headers["webhook-timestamp"]) + 10 * 60;
		expect((await verifyStandardWebhook(SIGNING_KEY, headers, body, later)).ok).toBe(false);
	});

	it("retries non-2xx answers with the same webhook-id until one succeeds, then never again", async () => {
		const hook = simHook("flaky");
		await hook.behave({ statuses: [500, 503] });
		const taskId = await createTask(uniquePrompt("a flaky receiver"), { callBackUrl: hook.url });
		await deliver(await simCallback(taskId));

		const delivered = await eventually(() => deliveryOf(taskId), (d) => d?.state === "delivered");
		expect(delivered).toMatchObject({ attempts: 3, lastStatus: 200 });
		const received = await hook.deliveries();
		expect(received.map((d) => d.answered)).toEqual([500, 503, 200]);
		expect(new Set(received.map((d) => d.headers["webhook-id"]))).toEqual(new Set([`msg_${taskId}`]));
		expect(new Set(received.map((d) => d.body)).size).toBe(1);
		// The schedule spaces retries out (1 s here).
		expect((received[1] as HookDelivery).receivedAt - (received[0] as HookDelivery).receivedAt).toBeGreaterThanOrEqual(900);
		for (const attempt of received) expect(await verifyStandardWebhook(SIGNING_KEY, attempt.headers, attempt.body)).toEqual({ ok: true });

		// Later reports and a poll change nothing, and running the alarm again sends nothing. Every
		// attempt is made by the object's alarm: once each has run to completion, nothing is left to send.
		await deliver(await simCallback(taskId));
		await finishUpstream(taskId);
		await runCron(Date.now() + 3_600_000);
		await expectNothingMoreToSend(taskId, hook, { state: "delivered", attempts: 3 }, 3);
	});

	it("counts a slow answer as a failure and records why", async () => {
		const hook = simHook("slow");
		await hook.behave({ stallMs: 2500 });
		const taskId = await createTask(uniquePrompt("a slow receiver"), { callBackUrl: hook.url });
		await deliver(await simCallback(taskId));

		const delivery = await eventually(() => deliveryOf(taskId), (d) => (d?.attempts ?? 0) >= 1);
		expect(delivery).toMatchObject({ state: "pending", lastStatus: null });
		expect(delivery?.lastError).toMatch(/no answer within 1 s/);
		expect(delivery?.nextAttemptTime).toBeGreaterThan(delivery?.lastAttemptTime as number);
	});

	it("gives up once the retry schedule is used up, keeping the result readable", async () => {
		const hook = simHook("down");
		await hook.behave({ thenStatus: 500 });
		const taskId = await createTask(uniquePrompt("a receiver that is down"), { callBackUrl: hook.url });
		await deliver(await simCallback(taskId));

		const delivery = await eventually(() => deliveryOf(taskId), (d) => d?.state === "failed", 15_000);
		// The first attempt plus one per entry of WEBHOOK_RETRY_SCHEDULE ("1,1,1").
		expect(delivery).toMatchObject({ attempts: 4, lastStatus: 500, nextAttemptTime: null, deliveredTime: null });
		expect(delivery?.lastError).toMatch(/HTTP 500/);
		expect(await hook.deliveries()).toHaveLength(4);
		expect((await recordInfo(taskId)).data.status).toBe("SUCCESS");
	});

	it("sends one delivery for 30 concurrent duplicate callbacks and a racing poll", async () => {
		const hook = simHook("duplicates");
		const taskId = await createTask(uniquePrompt("many duplicate reports"), { callBackUrl: hook.url });
		const callback = await simCallback(taskId);
		await finishUpstream(taskId);
		await Promise.all([
			...Array.from({ length: 30 }, () => deliver(callback)),
			runCron(Date.now() + 3_600_000),
		]);
		await eventually(() => deliveryOf(taskId), (d) => d?.state === "delivered");
		await expectNothingMoreToSend(taskId, hook, { state: "delivered", attempts: 1 }, 1);
	});

	it("lets only one of two alarms running at once make the attempt", async () => {
		const hook = simHook("double-alarm");
		await hook.behave({ stallMs: 300 });
		const taskId = await createTask(uniquePrompt("two alarms at once"), { callBackUrl: hook.url });
		const stub = env.TASKS.getByName(taskId);
		await deliver(await simCallback(taskId));
		await runInDurableObject(stub, (instance) => Promise.all([instance.alarm(), instance.alarm(), instance.alarm()]));
		await eventually(() => deliveryOf(taskId), (d) => d?.state === "delivered");
		await expectNothingMoreToSend(taskId, hook, { state: "delivered", attempts: 1 }, 1);
	});

	it("delivers a failed task too, in the provider's failure shape", async () => {
		const hook = simHook("failure");
		const taskId = await createTask(uniquePrompt("a failing task"), { callBackUrl: hook.url });
		await deliver(await simCallback(taskId, "?fail=1"));
		const [received] = await eventually(hook.deliveries, (list) => list.length >= 1);
		const body = JSON.parse((received as HookDelivery).body);
		const stored = (await recordInfo(taskId)).data;
		expect(stored.status).not.toBe("SUCCESS");
		expect(body.code).toBe(stored.errorCode);
		expect(body.msg).toBe(stored.errorMessage);
		expect(body.data).toMatchObject({ callbackType: "error", task_id: taskId });
	});

	it("delivers a result found by the poller when no callback came", async () => {
		const hook = simHook("polled");
		const taskId = await createTask(uniquePrompt("a lost callback"), { callBackUrl: hook.url });
		await finishUpstream(taskId);
		await runCron(Date.now() + 3_600_000);
		const [received] = await eventually(hook.deliveries, (list) => list.length >= 1);
		expect(JSON.parse((received as HookDelivery).body).data.task_id).toBe(taskId);
		expect((await recordInfo(taskId)).data.resultSource).toBe("poll");
	});

	it("makes no delivery for a task created without a callBackUrl", async () => {
		const taskId = await createTask(uniquePrompt("no webhook"));
		await deliver(await simCallback(taskId));
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "SUCCESS", delivery: null });
	});

	it("gives up at once on a URL the gateway has since stopped delivering to", async () => {
		const hook = simHook("now-refused");
		const taskId = await createTask(uniquePrompt("private urls turned off"), { callBackUrl: hook.url });
		// The operator turns private URLs off after the create (the object reads its own env).
		await setObjectEnv(taskId, PUBLIC_ONLY);
		await deliver(await simCallback(taskId));
		const delivery = await eventually(() => deliveryOf(taskId), (d) => d?.state === "failed");
		expect(delivery).toMatchObject({ attempts: 1, lastStatus: null, nextAttemptTime: null });
		expect(delivery?.lastError).toMatch(/loopback, private or internal/);
		expect(await hook.deliveries()).toHaveLength(0);
	});

	it("retries, rather than sends, while the URL's name resolves inside a network", async () => {
		const taskId = await createTask(uniquePrompt("a rebound name"), { callBackUrl: "https://hooks.example.com/lyrics" });
		// The name now points inside (DNS rebinding), and the operator runs with private URLs off.
		await setObjectEnv(taskId, PUBLIC_ONLY);
		await pointCallbackUrlAt(taskId, "https://rebound.private.dns.example.net/lyrics");
		await deliver(await simCallback(taskId));
		const delivery = await eventually(() => deliveryOf(taskId), (d) => (d?.attempts ?? 0) >= 1);
		expect(delivery).toMatchObject({ state: "pending", lastStatus: null });
		expect(delivery?.lastError).toMatch(/10\.20\.30\.40/);
	});

	it.each([
		["https://hooks.partial-stall.dns.example.net/lyrics", /\(10\.0\.0\.5\).*loopback, private or internal/],
		["https://hooks.partial-servfail.dns.example.net/lyrics", /\(10\.0\.0\.5\).*loopback, private or internal/],
		["https://hooks.public-servfail.dns.example.net/lyrics", /could not be resolved \(AAAA lookup: SERVFAIL\)/],
		["https://hooks.missing.dns.example.net/lyrics", /does not exist in DNS/],
		["https://hooks.empty.dns.example.net/lyrics", /has no A or AAAA address/],
	])("counts a send-time check of %s as a failed attempt, retried on schedule", async (url, reason) => {
		const taskId = await createTask(uniquePrompt("a name gone bad"), { callBackUrl: "https://hooks.example.com/lyrics" });
		await setObjectEnv(taskId, PUBLIC_ONLY);
		await pointCallbackUrlAt(taskId, url);
		await deliver(await simCallback(taskId));
		const first = await eventually(() => deliveryOf(taskId), (d) => (d?.attempts ?? 0) >= 1);
		expect(first).toMatchObject({ state: "pending", lastStatus: null, deliveredTime: null });
		expect(first?.nextAttemptTime).not.toBeNull();
		expect(first?.lastError).toMatch(reason);
		// The same policy again at the next attempt (1 s later in tests).
		const second = await eventually(() => deliveryOf(taskId), (d) => (d?.attempts ?? 0) >= 2);
		expect(second?.lastStatus).toBeNull();
		expect(second?.lastError).toMatch(reason);
	});
});

/** Private URLs refused; lookups judged by their answers, never by a deadline a loaded machine could pass. */
const PUBLIC_ONLY = { ALLOW_PRIVATE_CALLBACK_URLS: "false", CALLBACK_DNS_TIMEOUT_MS: "10000" };

/** Rewrites the URL the task's object delivers to, as if its name had changed since the create. */
async function pointCallbackUrlAt(taskId: string, url: string): Promise<void> {
	await editStoredRecord(taskId, (record) => {
		record.callbackUrl = url;
	});
}
