/** Waiting before trying again (src/lib/retry.ts and its users) and the client delivery's schedule. */
import { describe, expect, it } from "vitest";
import { newDelivery, recordAttempt } from "../../src/domain/delivery";
import { backoffMs, withRetries } from "../../src/lib/retry";
import { pollDelayMs, syncRetryDelayMs } from "../../src/task/backoff";

describe("backoffMs", () => {
	it("doubles from the first pause up to the cap", () => {
		const backoff = { firstMs: 1000, maxMs: 5000 };
		expect([0, 1, 2, 3, 4, 10].map((attempt) => backoffMs(attempt, backoff))).toEqual([1000, 1000, 2000, 4000, 5000, 5000]);
	});

	it("spreads each pause by its jitter, both ways", () => {
		const backoff = { firstMs: 1000, maxMs: 1000, jitter: 0.1 };
		expect(backoffMs(1, backoff, () => 0)).toBe(900);
		expect(backoffMs(1, backoff, () => 1)).toBe(1100);
	});

	it("gives the D1 write 1 s doubling to 5 minutes, and polls 30 s doubling to 15 minutes", () => {
		expect([1, 2, 3, 9, 20].map(syncRetryDelayMs)).toEqual([1000, 2000, 4000, 256_000, 300_000]);
		expect([1, 2, 6, 20].map((polls) => pollDelayMs(polls, () => 0.5))).toEqual([30_000, 60_000, 900_000, 900_000]);
	});
});

describe("withRetries", () => {
	it("tries once more than its retries, hearing each failure, then gives up", async () => {
		const heard: number[] = [];
		let tries = 0;
		const result = await withRetries(
			async () => {
				tries += 1;
				throw new Error("down");
			},
			{ retries: 2, backoff: { firstMs: 0, maxMs: 0 }, gaveUp: "failed" as const, onError: (_error, attempt) => heard.push(attempt) },
		);
		expect(result).toBe("failed");
		expect(tries).toBe(3);
		expect(heard).toEqual([1, 2, 3]);
	});

	it("returns the first success", async () => {
		let tries = 0;
		const result = await withRetries(async () => (++tries < 2 ? Promise.reject(new Error("once")) : "ok"), {
			retries: 5,
			backoff: { firstMs: 0, maxMs: 0 },
			gaveUp: "failed" as const,
			onError: () => {},
		});
		expect([result, tries]).toEqual(["ok", 2]);
	});
});

describe("the delivery schedule", () => {
	const schedule = [5_000, 300_000];

	it("retries after each pause of the schedule, then gives up", () => {
		const delivery = newDelivery("t1", 0);
		recordAttempt(delivery, { ok: false, status: 500, error: "answered HTTP 500" }, 10, schedule);
		expect(delivery).toMatchObject({ state: "pending", attempts: 1, nextAttemptAt: 5_010, lastStatus: 500 });
		recordAttempt(delivery, { ok: false, status: null, error: "no answer" }, 6_000, schedule);
		expect(delivery).toMatchObject({ state: "pending", attempts: 2, nextAttemptAt: 306_000, lastStatus: null });
		recordAttempt(delivery, { ok: false, status: 503, error: "answered HTTP 503" }, 400_000, schedule);
		expect(delivery).toMatchObject({ state: "failed", attempts: 3, nextAttemptAt: null, lastError: "answered HTTP 503" });
	});

	it("ends at the first 2xx, and at once for a refusal no retry can change", () => {
		const delivered = newDelivery("t1", 0);
		recordAttempt(delivered, { ok: true, status: 204 }, 50, schedule);
		expect(delivered).toMatchObject({ state: "delivered", deliveredAt: 50, nextAttemptAt: null, lastError: null });
		const refused = newDelivery("t2", 0);
		recordAttempt(refused, { ok: false, status: null, error: "private address", permanent: true }, 50, schedule);
		expect(refused).toMatchObject({ state: "failed", attempts: 1, nextAttemptAt: null });
	});
});
