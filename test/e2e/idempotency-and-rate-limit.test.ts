/**
 * Creates that never spend a credit twice, over HTTP: concurrent requests with one
 * Idempotency-Key make one upstream call, and the gateway keeps to KIE_CREATE_LIMIT (20 per
 * 10 s, the default) whatever the burst. The burst test waits out its window before it ends, so
 * it never refuses another file's creates (the e2e files run one after another).
 */
import { describe, expect, it } from "vitest";
import { call, sim, unique } from "./client";

function createWithKey(prompt: string, key: string | undefined) {
	const headers: Record<string, string> = { "content-type": "application/json" };
	if (key) headers["idempotency-key"] = key;
	return call<{ taskId: string }>("/api/v1/lyrics", { method: "POST", headers, body: JSON.stringify({ prompt }) });
}

describe("idempotent creates and the upstream rate limit over HTTP", () => {
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

	it("sends at most 20 creates upstream from a burst of 25, refusing the rest with 429 and Retry-After", async () => {
		const marker = unique("A song in a crowd");
		const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => createWithKey(`${marker} ${i}`, undefined)));
		const accepted = answers.filter((answer) => answer.status === 200);
		const refused = answers.filter((answer) => answer.status === 429);
		expect(accepted.length + refused.length).toBe(25);
		expect(accepted.length).toBeLessThanOrEqual(20);
		expect(refused.length).toBeGreaterThanOrEqual(5);
		for (const answer of refused) {
			expect(answer.body).toMatchObject({ code: 429, data: null });
			expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
		}
		// Exactly the accepted ones reached the upstream.
		expect((await sim(`/__sim/stats?match=${encodeURIComponent(marker)}`)).creates).toBe(accepted.length);

		// Leave the window empty for whatever runs next: Retry-After says when the oldest slot
		// frees, but the burst's own slots stay counted for the whole window (10 s and a 1 s margin).
		await new Promise((resolve) => setTimeout(resolve, 11_500));
	}, 30_000);
});
