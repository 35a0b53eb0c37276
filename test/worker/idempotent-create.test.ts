/**
 * `Idempotency-Key` on create: the same key and body within 24 hours answer the same taskId with
 * no second upstream call (also when the requests arrive together); another body answers 422;
 * keys belong to the client's API key; a failed create is not remembered.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { IDEMPOTENCY_WINDOW_MS } from "../../src/idempotency/idempotency-object";
import { claimKey } from "../../src/create/key-lease";
import { API_KEY, api, envelope, expectErrorEnvelope, idempotencyKeyObject, simScript, simStats, uniquePrompt } from "./helpers";

function create(body: unknown, key: string | undefined, apiKey = API_KEY, rawBody?: string) {
	const headers: Record<string, string> = { "content-type": "application/json", authorization: `Bearer ${apiKey}` };
	if (key !== undefined) headers["idempotency-key"] = key;
	return api("/api/v1/lyrics", { method: "POST", headers, body: rawBody ?? JSON.stringify(body) });
}

async function taskIdOf(response: Response): Promise<string> {
	const body = await envelope<{ taskId: string }>(response);
	expect(response.status, body.msg).toBe(200);
	return body.data.taskId;
}

describe("Idempotency-Key on create", () => {
	it("answers a repeat with the same taskId and no second upstream call", async () => {
		const prompt = uniquePrompt("a retried create");
		const key = crypto.randomUUID();
		const first = await create({ prompt }, key);
		const taskId = await taskIdOf(first);
		expect(first.headers.get("idempotent-replayed")).toBeNull();

		const again = await create({ prompt }, key);
		expect(await taskIdOf(again)).toBe(taskId);
		expect(again.headers.get("idempotent-replayed")).toBe("true");
		// The same fields in other JSON spelling are the same body.
		const respaced = await create(undefined, key, API_KEY, `{ "prompt" : ${JSON.stringify(prompt)} ,"callBackUrl":null }`);
		expect(await taskIdOf(respaced)).toBe(taskId);
		expect((await simStats(prompt)).creates).toBe(1);
	});

	it("makes one upstream call for 25 concurrent requests with one key", async () => {
		const prompt = uniquePrompt("a stampede of retries");
		// A slow upstream keeps the first create in flight while the others arrive.
		await simScript(prompt, { createDelayMs: 300 });
		const key = crypto.randomUUID();
		const responses = await Promise.all(Array.from({ length: 25 }, () => create({ prompt }, key)));
		const taskIds = await Promise.all(responses.map(taskIdOf));
		expect(new Set(taskIds).size).toBe(1);
		expect((await simStats(prompt)).creates).toBe(1);
	});

	it("answers 422 for the same key with a different body, and creates nothing", async () => {
		const prompt = uniquePrompt("first body");
		const key = crypto.randomUUID();
		await taskIdOf(await create({ prompt }, key));
		const other = uniquePrompt("second body");

		const body = await expectErrorEnvelope(await create({ prompt: other }, key), 422);
		expect(body.msg).toMatch(/Idempotency-Key/);
		await expectErrorEnvelope(await create({ prompt, callBackUrl: "https://app.example.com/hook" }, key), 422);
		expect((await simStats(other)).creates).toBe(0);
		expect((await simStats(prompt)).creates).toBe(1);
	});

	it("keeps each client's keys apart", async () => {
		const prompt = uniquePrompt("two clients, one key");
		const key = "order-42";
		const mine = await taskIdOf(await create({ prompt }, key, "test-key-1"));
		const theirs = await taskIdOf(await create({ prompt }, key, "test-key-2"));
		expect(theirs).not.toBe(mine);
		expect(await taskIdOf(await create({ prompt }, key, "test-key-2"))).toBe(theirs);
		expect((await simStats(prompt)).creates).toBe(2);
	});

	it("belongs to the tenant: two keys of one tenant replay each other's creates, another tenant's same key creates anew", async () => {
		const overrides = { API_KEYS: "acme:k-acme-old, acme:k-acme-new, rival:k-rival" };
		const send = (apiKey: string, prompt: string, key: string) =>
			api(
				"/api/v1/lyrics",
				{
					method: "POST",
					headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}`, "idempotency-key": key },
					body: JSON.stringify({ prompt }),
				},
				overrides,
			);
		const prompt = uniquePrompt("one tenant, two keys");
		const key = crypto.randomUUID();
		const first = await taskIdOf(await send("k-acme-old", prompt, key));
		const rotated = await send("k-acme-new", prompt, key);
		expect(rotated.headers.get("idempotent-replayed")).toBe("true");
		expect(await taskIdOf(rotated)).toBe(first);
		expect((await simStats(prompt)).creates).toBe(1);
		const rival = await taskIdOf(await send("k-rival", prompt, key));
		expect(rival).not.toBe(first);
		expect((await simStats(prompt)).creates).toBe(2);
	});

	it("does not remember a failed create: the retry with the key creates", async () => {
		const prompt = uniquePrompt("fails once");
		const key = crypto.randomUUID();
		await simScript(prompt, { createStatus: 500 });
		await expectErrorEnvelope(await create({ prompt }, key), 502, 500);

		await simScript(prompt, { createStatus: 200 });
		const taskId = await taskIdOf(await create({ prompt }, key));
		expect(await taskIdOf(await create({ prompt }, key))).toBe(taskId);
		expect((await simStats(prompt)).creates).toBe(2);
	});

	it("gives requests that arrived together the first one's failure, with no second attempt", async () => {
		const prompt = uniquePrompt("fails slowly");
		await simScript(prompt, { createStatus: 500, createDelayMs: 300 });
		const key = crypto.randomUUID();
		const responses = await Promise.all(Array.from({ length: 8 }, () => create({ prompt }, key)));
		for (const response of responses) await expectErrorEnvelope(response, 502, 500);
		expect((await simStats(prompt)).creates).toBe(1);

		// A retry after the failure is a new attempt.
		await expectErrorEnvelope(await create({ prompt }, key), 502, 500);
		expect((await simStats(prompt)).creates).toBe(2);
	});

	it("creates anew once the 24 hour window is over", async () => {
		const prompt = uniquePrompt("a day later");
		const key = crypto.randomUUID();
		const first = await taskIdOf(await create({ prompt }, key));
		const stub = await idempotencyKeyObject(key);
		await runInDurableObject(stub, (_instance, state) => {
			state.storage.sql.exec("UPDATE key_record SET started_at = started_at - ?", IDEMPOTENCY_WINDOW_MS + 1000);
		});
		const second = await taskIdOf(await create({ prompt }, key));
		expect(second).not.toBe(first);
		expect((await simStats(prompt)).creates).toBe(2);
	});

	it.each([
		["empty", ""],
		["too long", "k".repeat(256)],
		["holding a control character", "order\t42"],
	])("refuses a key that is %s with 400 and creates nothing", async (_label, key) => {
		const prompt = uniquePrompt("bad key");
		const body = await expectErrorEnvelope(await create({ prompt }, key), 400);
		expect(body.msg).toMatch(/Idempotency-Key/);
		expect((await simStats(prompt)).creates).toBe(0);
	});

	it("replays a duplicate as soon as the upstream named the task, before registering it has finished", async () => {
		const key = { scope: crypto.randomUUID(), fingerprint: "same body" };
		const first = await claimKey(env, key, "ref-named-early");
		if (!first.proceed) throw new Error("the first create with a key must proceed");
		// The upstream named the task; registering it has not finished (a slow registration, e.g. D1 lagging).
		await first.lease.learn("task-named-early");
		expect(await claimKey(env, key, "ref-duplicate")).toEqual({ proceed: false, outcome: { ok: true, taskId: "task-named-early", replayed: true } });
		// Registering then finishes: the key still replays the same task.
		await first.lease.settle({ ok: true, taskId: "task-named-early", replayed: false });
		expect(await claimKey(env, key, "ref-duplicate")).toEqual({ proceed: false, outcome: { ok: true, taskId: "task-named-early", replayed: true } });
	});

	it("replays a task adopted before the key heard its create had timed out", async () => {
		const stub = env.IDEMPOTENCY.getByName(crypto.randomUUID());
		const claim = await stub.claim("body", "ref-1", 30_000);
		if (claim.kind !== "proceed") throw new Error(`expected to proceed, got ${claim.kind}`);
		// The callback's adoption lands between the 504 and the key's doubt.
		await stub.adopt("ref-1", "task-adopted-early");
		await stub.doubt(claim.claimId, { kind: "upstream-timeout", status: 504, code: 504, msg: "timed out", upstream: "timeout", ref: "ref-1" }, "ref-1");
		expect(await stub.claim("body", "ref-2", 30_000)).toEqual({ kind: "replay", taskId: "task-adopted-early" });
	});
});
