/**
 * A create the upstream answers only after the gateway's deadline (504), over HTTP: the
 * simulator still makes the task and calls back, and the gateway's cron adopts it once the
 * upstream confirms it, so the result is stored; a retry with the create's Idempotency-Key waits for
 * that adoption and then replays the task, with no second upstream create.
 */
import { describe, expect, it } from "vitest";
import { call, eventually, fireCron, recordInfo, sim, unique } from "./client";

function createWithKey(prompt: string, key: string) {
	return call<{ taskId: string }>("/api/v1/lyrics", {
		method: "POST",
		headers: { "content-type": "application/json", "idempotency-key": key },
		body: JSON.stringify({ prompt }),
	});
}

describe("a create answered after the deadline, over HTTP", () => {
	it("is adopted from its callback and replayed to a retry with its key, never paid for twice", async () => {
		const prompt = unique("A song about a slow answer");
		const key = crypto.randomUUID();
		// UPSTREAM_TIMEOUT_MS is 2 s in the e2e stack; the simulator calls back after 300 ms.
		await sim("/__sim/scripts", { match: prompt, createDelayMs: 4000 });
		const first = await createWithKey(prompt, key);
		expect(first.status).toBe(504);
		const [upstreamTask] = (await sim<{ tasks: { taskId: string }[] }>(`/__sim/tasks?match=${encodeURIComponent(prompt)}`)).tasks;
		const taskId = upstreamTask?.taskId as string;

		// Before the adoption: told to come back, nothing sent upstream.
		const early = await createWithKey(prompt, key);
		expect(early.status).toBe(504);
		expect(Number(early.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

		// The cron checks held callbacks with the upstream once their check is due (the upstream
		// deadline plus 5 s); `wrangler dev` fires it only when asked, so the test does, each second.
		let lastTick = 0;
		const adopted = await eventually(async () => {
			if (Date.now() - lastTick >= 1000) {
				lastTick = Date.now();
				await fireCron();
			}
			const info = await recordInfo(taskId);
			return info.body.data?.status === "SUCCESS" ? info.body.data : undefined;
		}, 20_000);
		expect(JSON.parse(adopted.param).prompt).toBe(prompt);

		const replay = await createWithKey(prompt, key);
		expect(replay.status).toBe(200);
		expect(replay.headers.get("idempotent-replayed")).toBe("true");
		expect(replay.body.data.taskId).toBe(taskId);
		expect((await sim(`/__sim/stats?match=${encodeURIComponent(prompt)}`)).creates).toBe(1);
	}, 40_000);
});
