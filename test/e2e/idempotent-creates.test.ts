/**
 * Creates that never spend a credit twice, over HTTP: concurrent requests with one
 * Idempotency-Key make one upstream call. (The rate limit's burst test is in
 * production-config.test.ts, on a gateway with the default limit.)
 */
import { describe, expect, it } from "vitest";
import { call, sim, unique } from "./client";

function createWithKey(prompt: string, key: string | undefined) {
	const headers: Record<string, string> = { "content-type": "application/json" };
	if (key) headers["idempotency-key"] = key;
	return call<{ taskId: string }>("/api/v1/lyrics", { method: "POST", headers, body: JSON.stringify({ prompt }) });
}

describe("idempotent creates over HTTP", () => {
	it("answers 10 concurrent creates with one key with one taskId and one upstream call", async () => {
		const prompt = unique("A song about asking twice");
		await sim("/__sim/scripts", { match: prompt, createDelayMs: 300 });
		const key = crypto.randomUUID();
		const answers = await Promise.all(Array.from({ length: 10 }, () => createWithKey(prompt, key)));
		expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
		expect(new Set(answers.map((answer) => answer.body.data.taskId)).size).toBe(1);
		expect((await sim(`/__sim/stats?match=${encodeURIComponent(prompt)}`)).creates).toBe(1);

		const other = await createWithKey(unique("A different song"), key);
		expect(other.status).toBe(422);
		expect(other.body).toMatchObject({ code: 422, data: null });
	});
});
