/**
 * The gateway never sends the upstream more than KIE_CREATE_LIMIT creates in any 10 seconds,
 * however many requests arrive at once: the rest answer 429 with Retry-After and are not sent.
 * While other tenants are creating too, each gets an equal share, so one tenant's burst leaves
 * room for the others. The deployment has one limiter (one upstream account, whatever its key),
 * which each test here starts empty.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { type CreateRateLimiter, createRateLimiter } from "../../src/create/create-rate-limiter";
import { envelope, expectErrorEnvelope, gateway, postJson, simStats, uniquePrompt } from "./helpers";

/** Two tenants of their own, and the limit, for one test. */
const TENANTS = { API_KEYS: "flood:flood-key,steady:steady-key" } satisfies Partial<Env>;

function createAs(key: string, prompt: string, overrides: Partial<Env>) {
	return gateway(
		"/api/v1/lyrics",
		{ method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ prompt }) },
		{ ...TENANTS, ...overrides },
	);
}

/** A limiter object of its own, for the decisions at chosen times. */
const freshLimiter = () => env.CREATE_LIMITER.getByName(`test-${crypto.randomUUID()}`);

describe("the gateway's own upstream rate limit", () => {
	beforeEach(async () => {
		await runInDurableObject(createRateLimiter(env), (_limiter, state) => {
			state.storage.sql.exec("DELETE FROM sends");
			state.storage.sql.exec("DELETE FROM asks");
		});
	});

	it("refuses the 21st create inside 10 s with 429 and Retry-After, sending it nowhere", async () => {
		const marker = uniquePrompt("rate limited burst");
		const responses = await Promise.all(
			Array.from({ length: 21 }, (_, i) => postJson("/api/v1/lyrics", { prompt: `${marker} take ${i}` }, { KIE_CREATE_LIMIT: "20" })),
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

	it("keeps its window when KIE_API_KEY is rotated: the account's limit, whatever its key", async () => {
		const marker = uniquePrompt("rotated upstream key");
		for (let i = 0; i < 2; i++) {
			expect((await postJson("/api/v1/lyrics", { prompt: `${marker} a${i}` }, { KIE_CREATE_LIMIT: "2", KIE_API_KEY: "old-upstream-key" })).status).toBe(200);
		}
		const rotated = await postJson("/api/v1/lyrics", { prompt: `${marker} b0` }, { KIE_CREATE_LIMIT: "2", KIE_API_KEY: "new-upstream-key" });
		expect(rotated.status).toBe(429);
		expect((await simStats(marker)).creates).toBe(2);
	});

	it("gives a tenant flooding no more than its share while another is creating, and the other keeps getting through", async () => {
		const limit = { KIE_CREATE_LIMIT: "20" };
		const marker = uniquePrompt("fair share");
		// The steady tenant creates now and then: it is active.
		expect((await createAs("steady-key", `${marker} steady 0`, limit)).status).toBe(200);
		// The other floods: thirty at once.
		const flood = await Promise.all(Array.from({ length: 30 }, (_, i) => createAs("flood-key", `${marker} flood ${i}`, limit)));
		const granted = flood.filter((response) => response.status === 200).length;
		// Two active tenants: a share is half the limit.
		expect(granted).toBe(10);
		const refused = flood.find((response) => response.status === 429) as Response;
		expect((await envelope(refused)).msg).toMatch(/shared among the tenants creating now: this tenant has had its share \(10\)/);
		// The steady tenant keeps getting its creates through.
		for (let i = 1; i <= 5; i++) expect((await createAs("steady-key", `${marker} steady ${i}`, limit)).status).toBe(200);
		// And the limit itself is never exceeded.
		expect((await simStats(marker)).creates).toBe(16);
	});

	it("lets a tenant alone use the whole limit, and shares it once another asks (granted or refused)", async () => {
		const stub = freshLimiter();
		const decisions = await runInDurableObject(stub, (limiter: CreateRateLimiter) => {
			const t0 = 1_000_000;
			const alone = Array.from({ length: 4 }, (_, i) => limiter.acquire(4, "a", t0 + i));
			// b asks, and is refused (the limit is full): it is active all the same.
			const b = limiter.acquire(4, "b", t0 + 10);
			// 11 s on, a's four have left the window: a may now take 2 (its share), b the rest.
			const later = t0 + 11_010;
			return { alone, b, a: [limiter.acquire(4, "a", later), limiter.acquire(4, "a", later), limiter.acquire(4, "a", later)], b2: limiter.acquire(4, "b", later) };
		});
		expect(decisions.alone).toEqual(Array(4).fill({ granted: true }));
		expect(decisions.b).toEqual({ granted: false, retryAfterMs: 10_990 });
		expect(decisions.a).toEqual([{ granted: true }, { granted: true }, { granted: false, retryAfterMs: 11_000, share: 2 }]);
		expect(decisions.b2).toEqual({ granted: true });
	});

	it("slides: a slot frees 11 s after the create that took it (10 s and a margin for the trip upstream)", async () => {
		const decisions = await runInDurableObject(freshLimiter(), (limiter: CreateRateLimiter) => {
			const t0 = 1_000_000;
			return [
				limiter.acquire(2, "t", t0),
				limiter.acquire(2, "t", t0 + 4_000),
				limiter.acquire(2, "t", t0 + 10_999),
				limiter.acquire(2, "t", t0 + 11_000),
				limiter.acquire(2, "t", t0 + 11_001),
				limiter.acquire(2, "t", t0 + 15_000),
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

	it("writes one row of the window per create at a steady rate: a slot out of the window is taken over, not deleted and replaced", async () => {
		const stub = freshLimiter();
		const { decisions, written, slots } = await runInDurableObject(stub, (limiter: CreateRateLimiter, state) => {
			const sql = state.storage.sql;
			let cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
			const exec = sql.exec.bind(sql);
			sql.exec = ((query: string, ...bindings: SqlStorageValue[]) => {
				const cursor = exec(query, ...bindings);
				if (/\bsends\b/.test(query)) cursors.push(cursor);
				return cursor;
			}) as typeof sql.exec;
			// Rows the window's statements wrote, read once the limiter is done with their cursors.
			const rowsWritten = () => {
				const sum = cursors.reduce((total, cursor) => total + cursor.rowsWritten, 0);
				cursors = [];
				return sum;
			};
			const t0 = 1_000_000;
			// Three creates a second apart, then three more 12 s later: the first three are out of the window.
			const early = [0, 1_000, 2_000].map((at) => limiter.acquire(3, "t", t0 + at));
			const writtenEarly = rowsWritten();
			const late = [12_000, 13_000, 14_000].map((at) => limiter.acquire(3, "t", t0 + at));
			const refused = limiter.acquire(3, "t", t0 + 14_500);
			return {
				decisions: [...early, ...late, refused],
				written: { early: writtenEarly, late: rowsWritten() },
				slots: exec("SELECT COUNT(*) AS n FROM sends").one().n,
			};
		});
		expect(decisions.slice(0, 6)).toEqual(Array(6).fill({ granted: true }));
		// The window is still exact: three in it, the fourth refused until the oldest leaves.
		expect(decisions[6]).toEqual({ granted: false, retryAfterMs: 8_500 });
		expect(written).toEqual({ early: 3, late: 3 });
		expect(slots).toBe(3);
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
