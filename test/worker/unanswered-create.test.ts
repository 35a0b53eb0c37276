/**
 * A create the upstream answers only after the gateway's deadline gets 504, yet the upstream
 * may have made (and charged for) the task. Its callback carries the ref of the URL minted for
 * that create and is held; a cron tick (within its poll budget) asks the upstream to confirm the
 * task was made for that create's prompt, then adopts it: the result is stored and delivered
 * instead of lost.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
	api,
	callbackBody,
	deliver,
	eventually,
	expectErrorEnvelope,
	idempotencyKeyObject,
	postJson,
	recordInfo,
	runCron,
	simCallback,
	simHook,
	simScript,
	simStats,
	uniquePrompt,
	waitForSimTask,
	withBody,
} from "./helpers";

/**
 * Runs a cron tick a minute on, when the held callbacks' check is due (the upstream deadline plus
 * a margin): the tick checks them with the upstream, within its POLL_MAX_PER_TICK.
 */
async function checkHeldCallbacks() {
	await runCron(Date.now() + 60_000);
}

function createWithKey(prompt: string, key: string) {
	return api("/api/v1/lyrics", {
		method: "POST",
		headers: { "content-type": "application/json", "idempotency-key": key },
		body: JSON.stringify({ prompt }),
	});
}

/**
 * The upstream makes the task but holds its answer at a gate the test never opens: the gateway's
 * deadline (UPSTREAM_TIMEOUT_MS, 1.5 s here) always passes first, however slow the machine.
 */
function answerNever(prompt: string) {
	return simScript(prompt, { createGate: `never-${crypto.randomUUID()}` });
}

/** A create whose upstream answer comes after the deadline. */
async function timedOutCreate(prompt: string, extra: Record<string, unknown> = {}) {
	await answerNever(prompt);
	const answer = postJson("/api/v1/lyrics", { prompt, ...extra });
	const upstreamTask = await waitForSimTask(prompt);
	return { answer, upstreamTaskId: upstreamTask.taskId };
}

describe("a create the upstream answered too late", () => {
	it("is adopted once the upstream confirms its callback's task: stored with its prompt and result", async () => {
		const prompt = uniquePrompt("answered too late");
		const { answer, upstreamTaskId } = await timedOutCreate(prompt);
		await expectErrorEnvelope(await answer, 504, 504);
		expect((await recordInfo(upstreamTaskId)).code).toBe(404);

		const ack = await deliver(await simCallback(upstreamTaskId));
		expect(ack.status).toBe(200);
		// Held, not yet believed: the callback's body is only the caller's word.
		expect((await recordInfo(upstreamTaskId)).code).toBe(404);
		await checkHeldCallbacks();

		const stored = (await recordInfo(upstreamTaskId)).data;
		expect(stored).toMatchObject({ status: "SUCCESS", resultSource: "callback", callbacksReceived: 1 });
		expect(JSON.parse(stored.param).prompt).toBe(prompt);
	});

	it("delivers the adopted result to the client's callBackUrl", async () => {
		const hook = simHook("adopted");
		const prompt = uniquePrompt("too late, with a webhook");
		const { answer, upstreamTaskId } = await timedOutCreate(prompt, { callBackUrl: hook.url });
		await expectErrorEnvelope(await answer, 504, 504);
		await deliver(await simCallback(upstreamTaskId));
		await checkHeldCallbacks();
		const [received] = await eventually(hook.deliveries, (list) => list.length >= 1);
		expect(JSON.parse(received?.body ?? "{}").data.task_id).toBe(upstreamTaskId);
	});

	it("adopts a callback that came before the 504, from the cron's check", async () => {
		const prompt = uniquePrompt("called back before the deadline");
		const { answer, upstreamTaskId } = await timedOutCreate(prompt);
		// The callback arrives while the create still waits: held, as for any early callback.
		expect((await deliver(await simCallback(upstreamTaskId))).status).toBe(200);
		await expectErrorEnvelope(await answer, 504, 504);
		expect((await recordInfo(upstreamTaskId)).code).toBe(404);

		await checkHeldCallbacks();
		expect((await recordInfo(upstreamTaskId)).data).toMatchObject({ status: "SUCCESS", callbacksReceived: 1 });
	});

	it("stores nothing for a forged callback through the create's URL, and still adopts the real one", async () => {
		const prompt = uniquePrompt("a forged adoption");
		const { answer, upstreamTaskId } = await timedOutCreate(prompt);
		await answer;
		const callback = await simCallback(upstreamTaskId);

		// Someone holding the URL sends a callback for a task of their own making, first.
		const forged = callbackBody(callback);
		forged.data.task_id = `${upstreamTaskId.slice(0, -4)}beef`;
		expect((await deliver(withBody(callback, forged))).status).toBe(200);
		await checkHeldCallbacks();
		expect((await recordInfo(forged.data.task_id)).code).toBe(404);
		// Refuted, so forgotten rather than held for a day.
		expect((await env.TASKS.getByName(forged.data.task_id).inspect()).earlyCallbacks).toBe(0);

		// The upstream's own callback still adopts its task.
		expect((await deliver(callback)).status).toBe(200);
		await checkHeldCallbacks();
		expect((await recordInfo(upstreamTaskId)).data.status).toBe("SUCCESS");
	});

	it("makes a retry with the same Idempotency-Key wait for the adoption instead of paying again", async () => {
		const prompt = uniquePrompt("a retried timeout");
		const key = crypto.randomUUID();
		const withKey = () => createWithKey(prompt, key);
		await answerNever(prompt);
		const first = withKey();
		const { taskId: upstreamTaskId } = await waitForSimTask(prompt);
		await expectErrorEnvelope(await first, 504, 504);

		// Retried before the upstream has said anything: told to come back, nothing sent upstream.
		const early = await withKey();
		expect(Number(early.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
		const body = await expectErrorEnvelope(early, 504, 504);
		expect(body.msg).toMatch(/retry with the same key/);
		expect((await simStats(prompt)).creates).toBe(1);

		// The callback adopts the task; the retry now gets it.
		await deliver(await simCallback(upstreamTaskId));
		await checkHeldCallbacks();
		const replay = await withKey();
		expect(replay.status).toBe(200);
		expect(replay.headers.get("idempotent-replayed")).toBe("true");
		expect(((await replay.json()) as { data: { taskId: string } }).data.taskId).toBe(upstreamTaskId);
		expect((await simStats(prompt)).creates).toBe(1);
	});

	it("lets a retry create again once the doubt has run out with no callback", async () => {
		const prompt = uniquePrompt("a timeout never called back");
		const key = crypto.randomUUID();
		const withKey = () => createWithKey(prompt, key);
		await answerNever(prompt);
		await expectErrorEnvelope(await withKey(), 504, 504);
		const keyObject = await idempotencyKeyObject(key);
		await runInDurableObject(keyObject, (_instance, state) => {
			state.storage.sql.exec("UPDATE key_record SET doubt_until = ?", Date.now() - 1);
		});
		await simScript(prompt, { createDelayMs: 0 });
		expect((await withKey()).status).toBe(200);
		expect((await simStats(prompt)).creates).toBe(2);
	});

	it("binds no create when two timed-out creates with one prompt could have made the task", async () => {
		const prompt = uniquePrompt("twice the same prompt");
		await answerNever(prompt);
		const first = postJson("/api/v1/lyrics", { prompt });
		const second = postJson("/api/v1/lyrics", { prompt });
		await Promise.all([expectErrorEnvelope(await first, 504, 504), expectErrorEnvelope(await second, 504, 504)]);
		const { tasks } = (await (await fetch(`${env.KIE_BASE_URL}/__sim/tasks?match=${encodeURIComponent(prompt)}`)).json()) as {
			tasks: { taskId: string }[];
		};
		const [one, two] = tasks.map((task) => task.taskId) as [string, string];
		const callbackOne = await simCallback(one);
		const callbackTwo = await simCallback(two);

		// Task two's result forged through create one's URL, beside task two's own callback.
		const forged = callbackBody(callbackTwo);
		expect((await deliver(withBody(callbackOne, forged))).status).toBe(200);
		expect((await deliver(callbackTwo)).status).toBe(200);
		await checkHeldCallbacks();
		expect((await recordInfo(two)).code).toBe(404);

		// Task one's own callback still adopts it through create one's URL.
		expect((await deliver(callbackOne)).status).toBe(200);
		await checkHeldCallbacks();
		expect((await recordInfo(one)).data.status).toBe("SUCCESS");
	});
});
