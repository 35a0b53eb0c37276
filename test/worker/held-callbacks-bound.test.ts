/**
 * Callbacks for tasks the gateway has not stored are held, but within one overall bound across
 * all task objects (HELD_CALLBACKS_MAX, HELD_CALLBACKS_MAX_BYTES): past it they are answered 429
 * with Retry-After and hold nothing. A timed-out create's URL holds callbacks for a few task ids
 * only, and asking the upstream about them is the cron's work, inside POLL_MAX_PER_TICK.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	type CallbackRequest,
	callbackBody,
	createTask,
	deliver,
	expectErrorEnvelope,
	inspectTask,
	mintedCallbackTarget,
	postJson,
	recordInfo,
	runCron,
	setObjectEnv,
	simCallback,
	simScript,
	simStats,
	uniquePrompt,
	waitForSimTask,
	withBody,
} from "./helpers";

const budget = () => env.HELD_CALLBACKS.getByName("global");

function hexId(prefix = ""): string {
	return (prefix + crypto.randomUUID().replace(/-/g, "") + crypto.randomUUID().replace(/-/g, "")).slice(0, 32);
}

/** A callback for `taskId` through a freshly minted URL, as whoever holds the token key could send. */
async function forgedCallback(taskId: string, text = "[Verse]\nmade up"): Promise<CallbackRequest> {
	const target = await mintedCallbackTarget();
	const body = {
		code: 200,
		msg: "All generated successfully.",
		data: { callbackType: "complete", task_id: taskId, data: [{ error_message: "", status: "complete", text, title: "Made up" }] },
	};
	return { url: target.url, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** Delivers `request` to a made-up task's object, under these limits. */
async function deliverUnder(limits: Partial<Env>, taskId: string, request: CallbackRequest) {
	await setObjectEnv(taskId, limits);
	return deliver(request);
}

describe("the overall bound on held callbacks", () => {
	it("answers 429 with Retry-After once HELD_CALLBACKS_MAX callbacks are held across objects, holding nothing more", async () => {
		const before = await budget().usage();
		const limits = { HELD_CALLBACKS_MAX: String(before.count + 3) };
		const ids = Array.from({ length: 5 }, () => hexId());
		const answers: number[] = [];
		for (const taskId of ids) {
			const response = await deliverUnder(limits, taskId, await forgedCallback(taskId));
			answers.push(response.status);
			if (response.status === 429) {
				expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
				const body = await expectErrorEnvelope(response, 429, 429);
				expect(body.msg).toMatch(/held for tasks it has not stored/);
			}
		}
		expect(answers).toEqual([200, 200, 200, 429, 429]);
		expect((await inspectTask(ids[3] as string)).earlyCallbacks).toBe(0);
		expect((await inspectTask(ids[4] as string)).earlyCallbacks).toBe(0);
		expect((await budget().usage()).count).toBe(before.count + 3);
	});

	it("bounds the bytes held too", async () => {
		const before = await budget().usage();
		const limits = { HELD_CALLBACKS_MAX_BYTES: String(before.bytes + 150_000) };
		const big = "la ".repeat(30_000);
		const first = hexId();
		const second = hexId();
		expect((await deliverUnder(limits, first, await forgedCallback(first, big))).status).toBe(200);
		expect((await deliverUnder(limits, second, await forgedCallback(second, big))).status).toBe(429);
		expect((await inspectTask(second)).earlyCallbacks).toBe(0);
		const after = await budget().usage();
		expect(after.bytes - before.bytes).toBeGreaterThan(90_000);
		expect(after.bytes - before.bytes).toBeLessThanOrEqual(150_000);
	});

	it("gives the room back when the create stores the task its callback was held for", async () => {
		const prompt = uniquePrompt("a callback before its create");
		await simScript(prompt, { createDelayMs: 1000 });
		const creating = createTask(prompt, {}, { UPSTREAM_TIMEOUT_MS: "10000" });
		creating.catch(() => undefined);
		const { taskId } = await waitForSimTask(prompt);
		const before = await budget().usage();
		expect((await deliver(await simCallback(taskId))).status).toBe(200);
		expect((await budget().usage()).count).toBe(before.count + 1);
		expect(await creating).toBe(taskId);
		expect((await recordInfo(taskId)).data.status).toBe("SUCCESS");
		expect((await budget().usage()).count).toBe(before.count);
	});
});

describe("a timed-out create's callback URL", () => {
	/** A create answered after the deadline (504), and the callback the upstream would send for its task. */
	async function timedOutCreate(label: string) {
		const prompt = uniquePrompt(label);
		await simScript(prompt, { createDelayMs: 3000 });
		const answer = postJson("/api/v1/lyrics", { prompt });
		const { taskId } = await waitForSimTask(prompt);
		await expectErrorEnvelope(await answer, 504, 504);
		return { taskId, genuine: await simCallback(taskId) };
	}

	/** Callbacks for made-up task ids (all starting with `prefix`) through the genuine URL; their answers. */
	async function forgeThrough(genuine: CallbackRequest, prefix: string, count: number) {
		const ids: string[] = [];
		const answers: number[] = [];
		for (let i = 0; i < count; i++) {
			const forged = callbackBody(genuine);
			forged.data.task_id = hexId(prefix);
			ids.push(forged.data.task_id);
			answers.push((await deliver(withBody(genuine, forged))).status);
		}
		return { ids, answers };
	}

	it("holds callbacks for a few made-up task ids only, and asks the upstream about them within the cron's POLL_MAX_PER_TICK", async () => {
		// Checks other tests left due are made first, so this test's are the only ones due below.
		await runCron(Date.now() + 60_000, { POLL_MAX_PER_TICK: "100" });
		const leaked = await timedOutCreate("a leaked timed-out create URL");
		const prefix = crypto.randomUUID().replace(/-/g, "").slice(0, 12);
		const { ids, answers } = await forgeThrough(leaked.genuine, prefix, 7);
		expect(answers).toEqual([200, 200, 200, 200, 200, 429, 429]);
		// Holding them asked the upstream nothing.
		const upstreamCalls = async () => (await simStats("", prefix)).recordInfo;
		expect(await upstreamCalls()).toBe(0);

		// A 4-poll budget gives checks at most 2 a tick: 2, 4, then the last one.
		const tick = (n: number) => runCron(Date.now() + n * 60_000, { POLL_MAX_PER_TICK: "4" });
		await tick(1);
		expect(await upstreamCalls()).toBe(2);
		await tick(2);
		expect(await upstreamCalls()).toBe(4);
		await tick(3);
		expect(await upstreamCalls()).toBe(5);
		await tick(4);
		expect(await upstreamCalls()).toBe(5);
		// Refuted by the upstream: forgotten, and their room given back.
		for (const id of ids) expect((await inspectTask(id)).earlyCallbacks).toBe(0);
	});

	it("still adopts the real task, and drops made-up ids through its URL without asking the upstream once its create is claimed", async () => {
		await runCron(Date.now() + 60_000, { POLL_MAX_PER_TICK: "100" });
		const { taskId, genuine } = await timedOutCreate("a timed-out create with company");
		expect((await deliver(genuine)).status).toBe(200);
		const prefix = crypto.randomUUID().replace(/-/g, "").slice(0, 12);
		const { ids, answers } = await forgeThrough(genuine, prefix, 4);
		expect(answers).toEqual([200, 200, 200, 200]);
		const usage = (await budget().usage()).count;

		// The real callback was held first, so it is checked first: one tick of 2 checks adopts it.
		await runCron(Date.now() + 60_000, { POLL_MAX_PER_TICK: "4" });
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "SUCCESS", resultSource: "callback" });
		await runCron(Date.now() + 120_000, { POLL_MAX_PER_TICK: "4" });
		await runCron(Date.now() + 180_000, { POLL_MAX_PER_TICK: "4" });
		for (const id of ids) expect((await inspectTask(id)).earlyCallbacks).toBe(0);
		// At most the one checked beside the real task, before its create was claimed, was asked about.
		expect((await simStats("", prefix)).recordInfo).toBeLessThanOrEqual(1);
		expect((await budget().usage()).count).toBe(usage - 5);
	});
});
