/**
 * An Idempotency-Key never pays twice, whatever fails: a key that could not learn its task, a
 * create that outlives its lease, and a Worker gone silent mid-create leave the key in doubt
 * (504, retry later) rather than released, and the key learns the task from the create journal.
 * A create that was never sent releases its key at once.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { keyLeaseTiming } from "../../src/create/key-lease";
import { IdempotencyObject } from "../../src/idempotency/idempotency-object";
import { api, envelope, expectErrorEnvelope, recordInfo, runCron, simStats, uniquePrompt } from "./helpers";
import { d1With, objectsWith, unreachableObjects } from "./faults";

const DEFAULT_TIMING = { ...keyLeaseTiming };

afterEach(() => {
	Object.assign(keyLeaseTiming, DEFAULT_TIMING);
});

function createWithKey(prompt: string, key: string, overrides: Partial<Env> = {}) {
	return api(
		"/api/v1/lyrics",
		{ method: "POST", headers: { "content-type": "application/json", "idempotency-key": key }, body: JSON.stringify({ prompt }) },
		overrides,
	);
}

async function taskIdOf(response: Response): Promise<string> {
	const body = await envelope<{ taskId: string }>(response);
	expect(response.status, body.msg).toBe(200);
	return body.data.taskId;
}

describe("Idempotency-Key under faults", () => {
	it("a key that cannot learn its task from the create learns it from the task's object: a retry replays it", async () => {
		const prompt = uniquePrompt("key never told by the create");
		const key = crypto.randomUUID();
		const keyDeaf = objectsWith("IDEMPOTENCY", { complete: () => Promise.reject(new Error("Durable Object is overloaded")) });
		const taskId = await taskIdOf(await createWithKey(prompt, key, { IDEMPOTENCY: keyDeaf }));

		const replay = await createWithKey(prompt, key);
		expect(replay.headers.get("idempotent-replayed")).toBe("true");
		expect(await taskIdOf(replay)).toBe(taskId);
		expect((await simStats(prompt)).creates).toBe(1);
	});

	it("a key that cannot learn its task, whose object cannot be reached either, stays in doubt, then replays the task the journal registered", async () => {
		keyLeaseTiming.leaseMs = 500;
		const prompt = uniquePrompt("key never told, object unreachable");
		const key = crypto.randomUUID();
		const keyDeaf = objectsWith("IDEMPOTENCY", { complete: () => Promise.reject(new Error("Durable Object is overloaded")) });
		// (The create's background registration tries for about 13 s, all failing.)
		const taskId = await taskIdOf(await createWithKey(prompt, key, { IDEMPOTENCY: keyDeaf, TASKS: unreachableObjects("TASKS") }));

		// The lease has run out with the outcome unknown to the key: a retry is told to come back, not sent.
		await expectErrorEnvelope(await createWithKey(prompt, key), 504);
		expect((await simStats(prompt)).creates).toBe(1);

		// The journal kept the task for its key: the cron registers it and tells the key, and a retry replays it.
		await runCron(Date.now() + 2 * 60_000);
		const replay = await createWithKey(prompt, key);
		expect(replay.headers.get("idempotent-replayed")).toBe("true");
		expect(await taskIdOf(replay)).toBe(taskId);
		expect((await simStats(prompt)).creates).toBe(1);
		expect((await recordInfo(taskId)).data).toMatchObject({ taskId });
	});

	it("renews the lease while a slow create runs: a duplicate waits for it and gets its task", async () => {
		Object.assign(keyLeaseTiming, { leaseMs: 400, renewEveryMs: 100 });
		const prompt = uniquePrompt("slow create");
		const key = crypto.randomUUID();
		// The create's journal write takes 1.5 s, almost four leases.
		const first = createWithKey(prompt, key, { DB: d1With(/INTO create_records/, { delayMs: 1500 }) });
		await new Promise((resolve) => setTimeout(resolve, 300));
		const duplicate = createWithKey(prompt, key);
		const [firstId, duplicateId] = [await taskIdOf(await first), await taskIdOf(await duplicate)];
		expect(duplicateId).toBe(firstId);
		expect((await simStats(prompt)).creates).toBe(1);
	});

	it("a Worker gone silent past its lease leaves the key in doubt; the task's adoption settles it", async () => {
		const stub = env.IDEMPOTENCY.getByName(crypto.randomUUID());
		const claim = await stub.claim("body", "ref-silent", 50);
		expect(claim.kind).toBe("proceed");
		await new Promise((resolve) => setTimeout(resolve, 80));
		expect(await stub.claim("body", "ref-retry", 50)).toMatchObject({ kind: "in-doubt" });
		await stub.adopt("ref-silent", "task-of-silent-create");
		expect(await stub.claim("body", "ref-retry", 50)).toEqual({ kind: "replay", taskId: "task-of-silent-create" });
	});

	it("a create never sent (its journal unwritable) releases its key: the retry creates once", async () => {
		const prompt = uniquePrompt("never sent");
		const key = crypto.randomUUID();
		await expectErrorEnvelope(await createWithKey(prompt, key, { DB: d1With(/INTO create_records/, { fail: true }) }), 503);
		expect((await simStats(prompt)).creates).toBe(0);
		await taskIdOf(await createWithKey(prompt, key));
		expect((await simStats(prompt)).creates).toBe(1);
	});
});

describe("an Idempotency-Key object made before claims kept their ref", () => {
	it("gains the column and keeps its record: the key still replays its task", async () => {
		const stub = env.IDEMPOTENCY.getByName(crypto.randomUUID());
		await runInDurableObject(stub, (_instance, state) => {
			state.storage.sql.exec("DROP TABLE key_record");
			state.storage.sql.exec(`CREATE TABLE key_record (id INTEGER PRIMARY KEY CHECK (id = 1), fingerprint TEXT NOT NULL,
				claim_id TEXT NOT NULL, task_id TEXT, started_at INTEGER NOT NULL, lease_until INTEGER NOT NULL, failure TEXT,
				doubt_ref TEXT, doubt_until INTEGER)`);
			state.storage.sql.exec("INSERT INTO key_record VALUES (1, 'body', 'old-claim', 'task-from-before', ?, 0, NULL, NULL, NULL)", Date.now());
			// The next version's object starts on this storage.
			new IdempotencyObject(state, env);
		});
		expect(await stub.claim("body", "ref-new", 30_000)).toEqual({ kind: "replay", taskId: "task-from-before" });
	});
});
