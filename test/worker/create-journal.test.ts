/**
 * A create answered 200 is never lost: the create journal records it in D1 before it is sent, the
 * taskId is kept there before the client hears it when the task's object cannot be reached, and
 * the cron registers what the journal kept once the object can be reached again.
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { API_KEY, deliver, envelope, finishUpstream, postJson, recordInfo, runCron, simCallback, simScript, simStats, uniquePrompt } from "./helpers";
import { d1With, unreachableObjects } from "./faults";

/**
 * A create whose task objects cannot be reached at all: the answer, and the request's background
 * work (registration retried for about 13 s, all failing), which the test awaits at its end.
 */
async function createWhileObjectsUnreachable(prompt: string) {
	const ctx = createExecutionContext();
	const request = new Request("https://gateway.test/api/v1/lyrics", {
		method: "POST",
		headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
		body: JSON.stringify({ prompt }),
	});
	const response = await worker.fetch(request, { ...env, TASKS: unreachableObjects("TASKS") }, ctx);
	const taskId = (await envelope<{ taskId: string }>(response)).data.taskId;
	expect(response.status).toBe(200);
	return { taskId, background: () => waitOnExecutionContext(ctx) };
}

function journalled(taskId: string) {
	return env.DB.prepare("SELECT task_id, registered FROM create_records WHERE task_id = ?").bind(taskId).first<{ registered: number }>();
}

/** A tick a few minutes on: the journal's records are past the create's own retries. */
const minutesLater = (minutes: number) => runCron(Date.now() + minutes * 60_000);

// The two outages each last the create's whole registration (about 13 s): run side by side.
describe("the create journal", () => {
	it.concurrent("keeps a task whose object cannot be reached; the cron registers it and its held result applies", async () => {
		const prompt = uniquePrompt("object unreachable at create");
		const { taskId, background } = await createWhileObjectsUnreachable(prompt);
		expect(await journalled(taskId)).toMatchObject({ registered: 0 });
		expect((await recordInfo(taskId)).code).toBe(404);

		// The upstream calls back while the task is not stored: held, not lost.
		expect((await deliver(await simCallback(taskId))).status).toBe(200);
		await minutesLater(3);

		const stored = (await recordInfo(taskId)).data;
		expect(stored).toMatchObject({ taskId, status: "SUCCESS", resultSource: "callback" });
		expect(JSON.parse(stored.param).prompt).toBe(prompt);
		expect(await journalled(taskId)).toBeNull();
		expect((await simStats(prompt)).creates).toBe(1);
		await background();
	});

	it.concurrent("keeps a task whose callback is lost too: the cron registers it, then its poll recovers the result", async () => {
		const prompt = uniquePrompt("object unreachable, callback lost");
		const { taskId, background } = await createWhileObjectsUnreachable(prompt);
		expect((await recordInfo(taskId)).code).toBe(404);
		await finishUpstream(taskId);

		// One tick registers it, then finds it overdue and polls it.
		await minutesLater(3);
		expect((await recordInfo(taskId)).data).toMatchObject({ taskId, status: "SUCCESS", resultSource: "poll" });
		await background();
	});

	it("writes nothing when the journal cannot be written: 503, nothing sent", async () => {
		const prompt = uniquePrompt("journal unwritable");
		const response = await worker.fetch(
			new Request("https://gateway.test/api/v1/lyrics", {
				method: "POST",
				headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
				body: JSON.stringify({ prompt }),
			}),
			{ ...env, DB: d1With(/INTO create_records/, { fail: true }) },
			createExecutionContext(),
		);
		expect(response.status).toBe(503);
		expect((await simStats(prompt)).creates).toBe(0);
	});

	it("keeps the record of a create the upstream may have made (it failed inside), and forgets one it refused outright", async () => {
		const failedInside = uniquePrompt("upstream failed inside");
		await simScript(failedInside, { createStatus: 500 });
		expect((await postJson("/api/v1/lyrics", { prompt: failedInside })).status).toBe(502);
		const refused = uniquePrompt("upstream refused");
		await simScript(refused, { createBody: { code: 400, msg: "bad request", data: null } });
		expect((await postJson("/api/v1/lyrics", { prompt: refused })).status).toBe(400);
		const recorded = async (prompt: string) =>
			(await env.DB.prepare("SELECT count(*) AS n FROM create_records WHERE prompt = ?").bind(prompt).first<{ n: number }>())?.n;
		expect(await recorded(failedInside)).toBe(1);
		expect(await recorded(refused)).toBe(0);
	});

	it("forgets the record of a create registered at once", async () => {
		const prompt = uniquePrompt("registered at once");
		const ctx = createExecutionContext();
		const response = await worker.fetch(
			new Request("https://gateway.test/api/v1/lyrics", {
				method: "POST",
				headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
				body: JSON.stringify({ prompt }),
			}),
			env,
			ctx,
		);
		const { taskId } = (await envelope<{ taskId: string }>(response)).data;
		await waitOnExecutionContext(ctx);
		expect(await journalled(taskId)).toBeNull();
		const { count } = (await env.DB.prepare("SELECT count(*) AS count FROM create_records WHERE prompt = ?").bind(prompt).first<{ count: number }>())!;
		expect(count).toBe(0);
	});
});
