/**
 * The gateway never sends the upstream more than KIE_CREATE_LIMIT creates in any 10 seconds per
 * upstream key, however many requests arrive at once: the rest answer 429 with Retry-After and
 * are not sent. Each test uses an upstream key of its own, so it has a limiter of its own.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createRateLimiter, type CreateRateLimiter } from "../../src/create/create-rate-limiter";
import { envelope, expectErrorEnvelope, postJson, simStats, uniquePrompt } from "./helpers";

function limitedTo(limit: number) {
	return { KIE_CREATE_LIMIT: String(limit), KIE_API_KEY: `upstream-key-${crypto.randomUUID()}` };
}

describe("the gateway's own upstream rate limit", () => {
	it("refuses the 21st create inside 10 s with 429 and Retry-After, sending it nowhere", async () => {
		const overrides = limitedTo(20);
		const marker = uniquePrompt("rate limited burst");
		const responses = await Promise.all(
			Array.from({ length: 21 }, (_, i) => postJson("/api/v1/lyrics", { prompt: `${marker} take ${i}` }, overrides)),
		);
		const statuses = responses.map((response) => response.status);
		expect(statuses.filter((status) => status === 200)).toHaveLength(20);
		const refused = responses.find((response) => response.status === 429) as Response;
		const retryAfter = Number(refused.headers.get("retry-after"));
		const body = await expectErrorEnvelope(refused, 429, 429);
		expect(body.msg).toMatch(/at most 20 creates in any 10 seconds/);
		expect(retryAfter).toBeGreaterThanOrEqual(1);
		expect(retryAfter).toBeLessThanOrEqual(11);
		expect((await simStats(marker)).creates).toBe(20);
	});

	it("counts per upstream key: another key still has its whole budget", async () => {
		const busy = limitedTo(2);
		const marker = uniquePrompt("per key");
		for (let i = 0; i < 2; i++) expect((await postJson("/api/v1/lyrics", { prompt: `${marker} a${i}` }, busy)).status).toBe(200);
		expect((await postJson("/api/v1/lyrics", { prompt: `${marker} a2` }, busy)).status).toBe(429);
		const other = await postJson("/api/v1/lyrics", { prompt: `${marker} b0` }, limitedTo(2));
		expect((await envelope(other)).code).toBe(200);
	});

	it("slides: a slot frees 11 s after the create that took it (10 s and a margin for the trip upstream)", async () => {
		const stub = await createRateLimiter(env, `upstream-key-${crypto.randomUUID()}`);
		const decisions = await runInDurableObject(stub, (limiter: CreateRateLimiter) => {
			const t0 = 1_000_000;
			return [
				limiter.acquire(2, t0),
				limiter.acquire(2, t0 + 4_000),
				limiter.acquire(2, t0 + 10_999),
				limiter.acquire(2, t0 + 11_000),
				limiter.acquire(2, t0 + 11_001),
				limiter.acquire(2, t0 + 15_000),
			];
		});
		expect(decisions).toEqual([
			{ granted: true },
			{ granted: true },
			{ granted: false, retryAfterMs: 1 },
			{ granted: true },
			{ granted: false, retryAfterMs: 3_999 },
			{ granted: true },
		]);
	});

	it("answers 503 and sends nothing when the limiter cannot be reached", async () => {
		const marker = uniquePrompt("limiter unreachable");
		const unreachable = {
			getByName: () => ({ acquire: () => Promise.reject(new Error("Durable Object reset because its code was updated")) }),
		} as unknown as Env["CREATE_LIMITER"];
		const response = await postJson("/api/v1/lyrics", { prompt: marker }, { CREATE_LIMITER: unreachable });
		const body = await expectErrorEnvelope(response, 503);
		expect(body.msg).toMatch(/nothing was created/);
		expect(response.headers.get("retry-after")).toBe("1");
		expect((await simStats(marker)).creates).toBe(0);
	});
});
