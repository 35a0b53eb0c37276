/**
 * A callback that arrives before the create request has finished storing the task is kept and
 * applied once the task is stored; the create path never overwrites it back to PENDING. An early
 * callback minted for another create is never applied to this task.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/config";
import { callbackTokenKey, mintCallbackTarget } from "../../src/security/callback-token";
import {
	api,
	callbackBody,
	createTask,
	d1CaughtUp,
	deliver,
	inspectTask,
	recordInfo,
	sim,
	simCallback,
	simScript,
	simTask,
	uniquePrompt,
	waitForSimTask,
	withBody,
} from "./helpers";

/**
 * Starts a create the simulator holds at a gate: the upstream has made (and named) the task, but
 * the gateway has no answer until the test calls `release()`, however long its early deliveries
 * take. `creating` settles only after that.
 */
async function heldCreate(label: string) {
	const prompt = uniquePrompt(label);
	const gate = `early-${crypto.randomUUID()}`;
	await simScript(prompt, { createGate: gate });
	// The longest upstream deadline the gateway allows (15 s), far beyond the few deliveries made
	// before the release: the gate, not the clock, decides when the create lands.
	const creating = createTask(prompt, {}, { UPSTREAM_TIMEOUT_MS: "15000" });
	// Surfaces a failed create at the await below, not as an unhandled rejection meanwhile.
	creating.catch(() => undefined);
	const upstream = await waitForSimTask(prompt);
	const release = async () => {
		await sim(`/__sim/gates/${gate}/open`, { method: "POST" });
		return creating;
	};
	return { prompt, release, taskId: upstream.taskId };
}

describe("early callbacks", () => {
	it("keeps a callback that beats the create and applies it once the task is stored", async () => {
		const { release, taskId } = await heldCreate("a letter that arrived before it was sent");
		const callback = await simCallback(taskId);

		const ack = await deliver(callback);
		expect(ack.status).toBe(200);
		expect(await ack.json()).toEqual({
			code: 200,
			msg: "success",
			data: { taskId, result: "held-until-task-stored" },
		});
		// Held by the task's object, not yet visible: the create has not stored the task.
		expect(await inspectTask(taskId)).toEqual({ state: null, earlyCallbacks: 1 });
		expect((await api(`/api/v1/lyrics/record-info?taskId=${taskId}`)).status).toBe(404);

		expect(await release()).toBe(taskId);

		const done = await recordInfo(taskId);
		expect(done.code).toBe(200);
		expect(done.data.status).toBe("SUCCESS");
		expect(done.data.resultSource).toBe("callback");
		expect(done.data.callbacksReceived).toBe(1);
		expect(done.data.errorCode).toBeNull();
		const sent = callbackBody(callback);
		expect(done.data.response.data.map((item) => [item.title, item.text, item.status])).toEqual(
			(sent.data.data ?? []).map((item) => [item.title, item.text, "complete"]),
		);

		const { state, earlyCallbacks } = await inspectTask(taskId);
		expect(earlyCallbacks).toBe(0);
		expect(state?.status).toBe("SUCCESS");

		// The task is final now: the same callback again is a duplicate, not a second result.
		const again = await deliver(callback);
		expect(await again.json()).toMatchObject({ data: { result: "already-final" } });
		await d1CaughtUp(taskId); // counts reach D1 with the object's coalesced write, seconds later
		const after = await recordInfo(taskId);
		expect(after.data.status).toBe("SUCCESS");
		expect(after.data.response).toEqual(done.data.response);
		expect(after.data.callbacksReceived).toBe(2);
	});

	it("applies the first of several early callbacks and counts them all", async () => {
		const { release, taskId } = await heldCreate("three knocks before the door was built");
		const failure = await simCallback(taskId, "?fail=1");
		const success = await simCallback(taskId);
		for (const request of [failure, success, success]) {
			expect(await (await deliver(request)).json()).toMatchObject({ data: { result: "held-until-task-stored" } });
		}
		expect((await inspectTask(taskId)).earlyCallbacks).toBe(3);
		await release();

		const done = await recordInfo(taskId);
		expect(done.data.status).toBe("GENERATE_LYRICS_FAILED");
		expect(done.data.errorCode).toBe(callbackBody(failure).code);
		expect(done.data.errorMessage).toBe(callbackBody(failure).msg);
		expect(done.data.callbacksReceived).toBe(3);
		expect((await inspectTask(taskId)).earlyCallbacks).toBe(0);
	});

	it("does not apply an early callback that carries another create's callback URL", async () => {
		// Task B is stored normally; its callback URL is valid, but minted for B's create.
		const other = await createTask(uniquePrompt("somebody else's mailbox"));
		const otherUrl = (await simTask(other)).callBackUrl;

		const { release, taskId } = await heldCreate("a letter with the wrong address");
		const own = await simCallback(taskId);
		expect(own.url).not.toBe(otherUrl);
		const misdirected = { ...own, url: otherUrl };

		const ack = await deliver(misdirected);
		expect(ack.status).toBeLessThan(500);
		expect(await release()).toBe(taskId);

		const stored = await recordInfo(taskId);
		expect(stored.data.status).toBe("PENDING");
		expect(stored.data.callbacksReceived).toBe(0);
		expect(stored.data.response.data).toEqual([]);
		const { state, earlyCallbacks } = await inspectTask(taskId);
		expect(earlyCallbacks).toBe(0);
		expect(state?.status).toBe("PENDING");
		expect(state?.version).toBe(1);

		// B was not touched either.
		const untouched = await recordInfo(other);
		expect(untouched.data.status).toBe("PENDING");
		expect(untouched.data.callbacksReceived).toBe(0);

		// The task's own callback still applies afterwards.
		expect(await (await deliver(own)).json()).toMatchObject({ data: { taskId, result: "applied" } });
		expect((await recordInfo(taskId)).data.status).toBe("SUCCESS");
	});

	it("applies the right early callback even when a misdirected one came first", async () => {
		const other = await createTask(uniquePrompt("a neighbour's parcel"));
		const otherUrl = (await simTask(other)).callBackUrl;
		const { release, taskId } = await heldCreate("the parcel that was really ours");
		const own = await simCallback(taskId);
		const misdirectedFailure = { ...(await simCallback(taskId, "?fail=1")), url: otherUrl };

		await deliver(misdirectedFailure);
		expect(await (await deliver(own)).json()).toMatchObject({ data: { result: "held-until-task-stored" } });
		await release();

		const done = await recordInfo(taskId);
		expect(done.data.status).toBe("SUCCESS");
		expect(done.data.callbacksReceived).toBe(1);
		expect(done.data.response.data.map((item) => item.text)).toEqual(
			(callbackBody(own).data.data ?? []).map((item) => item.text),
		);
	});

	it("holds nothing for an early callback that is malformed or forged", async () => {
		const { release, taskId } = await heldCreate("an unsigned note under the door");
		const own = await simCallback(taskId);
		const url = new URL(own.url);
		const badToken = { ...own, url: `${url.origin}${url.pathname}?token=${"A".repeat(43)}` };

		expect((await deliver(withBody(own, "{not json"))).status).toBe(400);
		expect((await deliver(badToken)).status).toBe(401);
		expect((await deliver(own, { KIE_WEBHOOK_HMAC_KEY: "early-hmac-key" })).status).toBe(401);

		// Nothing was held: the object stores nothing at all.
		expect(await env.TASKS.getByName(taskId).storedBytes()).toBe(0);

		await release();
		const stored = await recordInfo(taskId);
		expect(stored.data.status).toBe("PENDING");
		expect(stored.data.callbacksReceived).toBe(0);
	});

	it("acknowledges and counts 60 concurrent early deliveries, holding one copy", async () => {
		const { release, taskId } = await heldCreate("a crowd at the door");
		const callback = await simCallback(taskId);
		const answers = await Promise.all(Array.from({ length: 60 }, async () => (await deliver(callback)).status));
		expect(answers.every((status) => status === 200)).toBe(true);
		const held = await runInDurableObject(env.TASKS.getByName(taskId), (_instance, state) =>
			state.storage.sql.exec("SELECT COUNT(*) AS n FROM early_callbacks").one().n,
		);
		expect(held).toBe(1);
		expect((await inspectTask(taskId)).earlyCallbacks).toBe(60);

		expect(await release()).toBe(taskId);
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "SUCCESS", callbacksReceived: 60 });
	});

	it("refuses early callbacks from more than 20 different callback URLs with 429 and a retry hint", async () => {
		const { release, taskId } = await heldCreate("twenty-one strangers at the door");
		const callback = await simCallback(taskId);
		const secret = callbackTokenKey(readConfig(env)) as string;
		// Valid URLs minted for creates the gateway never stored: misdirected, but genuine tokens.
		const strangers = await Promise.all(
			Array.from({ length: 21 }, () => mintCallbackTarget("https://gateway.test", secret)),
		);
		const answers = [];
		for (const stranger of strangers) answers.push(await deliver({ ...callback, url: stranger.url }));
		expect(answers.slice(0, 20).map((answer) => answer.status)).toEqual(Array(20).fill(200));
		expect(answers[20]!.status).toBe(429);
		expect(answers[20]!.headers.get("retry-after")).toMatch(/^\d+$/);

		// The task's own callback, retried once the task is stored, still applies.
		expect(await release()).toBe(taskId);
		expect((await deliver(callback)).status).toBe(200);
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "SUCCESS", callbacksReceived: 1 });
	});
});
