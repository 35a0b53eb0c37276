/**
 * A create the upstream answers only after the gateway's deadline gets 504, yet the upstream
 * may have made (and charged for) the task. Its callback carries the ref of the URL minted for
 * that create, and adopts the task: the result is stored and delivered instead of lost.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
	callbackBody,
	deliver,
	eventually,
	expectErrorEnvelope,
	postJson,
	recordInfo,
	simCallback,
	simHook,
	simScript,
	uniquePrompt,
	waitForSimTask,
	withBody,
} from "./helpers";

/** A create whose upstream answer comes after the deadline (UPSTREAM_TIMEOUT_MS is 1.5 s here). */
async function timedOutCreate(prompt: string, extra: Record<string, unknown> = {}) {
	await simScript(prompt, { createDelayMs: 3000 });
	const answer = postJson("/api/v1/lyrics", { prompt, ...extra });
	const upstreamTask = await waitForSimTask(prompt);
	return { answer, upstreamTaskId: upstreamTask.taskId };
}

describe("a create the upstream answered too late", () => {
	it("is adopted by its callback: stored with its prompt and result, never lost", async () => {
		const prompt = uniquePrompt("answered too late");
		const { answer, upstreamTaskId } = await timedOutCreate(prompt);
		await expectErrorEnvelope(await answer, 504, 504);
		expect((await recordInfo(upstreamTaskId)).code).toBe(404);

		const ack = await deliver(await simCallback(upstreamTaskId));
		expect(ack.status).toBe(200);
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
		const [received] = await eventually(hook.deliveries, (list) => list.length >= 1);
		expect(JSON.parse(received?.body ?? "{}").data.task_id).toBe(upstreamTaskId);
	});

	it("adopts a callback that came before the 504, from the object's alarm", async () => {
		const prompt = uniquePrompt("called back before the deadline");
		const { answer, upstreamTaskId } = await timedOutCreate(prompt);
		// The callback arrives while the create still waits: held, as for any early callback.
		expect((await deliver(await simCallback(upstreamTaskId))).status).toBe(200);
		await expectErrorEnvelope(await answer, 504, 504);
		expect((await recordInfo(upstreamTaskId)).code).toBe(404);

		expect(await runDurableObjectAlarm(env.TASKS.getByName(upstreamTaskId))).toBe(true);
		expect((await recordInfo(upstreamTaskId)).data).toMatchObject({ status: "SUCCESS", callbacksReceived: 1 });
	});

	it("lets the create's callback URL adopt one task only", async () => {
		const prompt = uniquePrompt("one adoption per url");
		const { answer, upstreamTaskId } = await timedOutCreate(prompt);
		await answer;
		const callback = await simCallback(upstreamTaskId);
		expect((await deliver(callback)).status).toBe(200);

		const forged = callbackBody(callback);
		forged.data.task_id = `${upstreamTaskId.slice(0, -4)}beef`;
		const refused = await deliver(withBody(callback, forged));
		expect(refused.status).toBe(401);
		expect((await recordInfo(forged.data.task_id)).code).toBe(404);
	});
});
