/** The poll backoff: about 30 s after the first unfinished poll, doubling, capped at 15 minutes. */
import { describe, expect, it } from "vitest";
import { pollDelayMs } from "../../src/task/backoff";

const MINUTE = 60_000;
const middle = () => 0.5; // no jitter

describe("pollDelayMs", () => {
	it("doubles from 30 s", () => {
		expect([1, 2, 3, 4, 5].map((polls) => pollDelayMs(polls, middle))).toEqual([30_000, 60_000, 120_000, 240_000, 480_000]);
	});

	it("stops at 15 minutes where doubling would pass it, and stays there", () => {
		// The sixth wait would be 16 minutes.
		expect(pollDelayMs(6, middle)).toBe(15 * MINUTE);
		expect(pollDelayMs(7, middle)).toBe(15 * MINUTE);
		expect(pollDelayMs(100, middle)).toBe(15 * MINUTE);
		expect(pollDelayMs(5000, middle)).toBe(15 * MINUTE);
	});

	it("spreads the capped wait by at most 10% either way", () => {
		expect(pollDelayMs(40, () => 0)).toBe(13.5 * MINUTE);
		expect(pollDelayMs(40, () => 0.999_999)).toBeLessThanOrEqual(16.5 * MINUTE);
		expect(pollDelayMs(40, () => 0.999_999)).toBeGreaterThan(16.49 * MINUTE);
	});
});
