/**
 * The one bound on what callbacks for tasks not stored yet may hold, across every task object:
 * by count, by bytes, and by task ids per callback URL. Each test uses a budget object of its
 * own, with the limits passed in, so the tests do not share holds.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { HoldRequest } from "../../src/early-callbacks/held-callback-budget";

const DAY = 24 * 3600_000;
const LIMITS = { count: 3, bytes: 1000 };

function budget() {
	return env.HELD_CALLBACKS.getByName(`test-${crypto.randomUUID()}`);
}

function hold(taskId: string, ref: string, bytes = 100, now = Date.now()): HoldRequest {
	return { taskId, ref, bytes, expiresAt: now + DAY, firstCheckAt: now + 10_000 };
}

const ref = () => crypto.randomUUID().replace(/-/g, "");

describe("the held-callback budget", () => {
	it("refuses the hold past the count, while the same task and URL again costs nothing", async () => {
		const b = budget();
		for (const id of ["a", "b", "c"]) expect(await b.reserve(hold(id, ref()), LIMITS)).toEqual({ granted: true });
		expect(await b.reserve(hold("d", ref()), LIMITS)).toEqual({ granted: false, reason: "count" });
		expect(await b.usage()).toMatchObject({ count: 3, bytes: 300, tasks: 3 });

		const one = ref();
		const small = budget();
		expect(await small.reserve(hold("x", one), LIMITS)).toEqual({ granted: true });
		expect(await small.reserve(hold("x", one), LIMITS)).toEqual({ granted: true });
		expect(await small.usage()).toMatchObject({ count: 1, bytes: 100 });
	});

	it("refuses the hold past the bytes, counting a grown hold by its new size", async () => {
		const b = budget();
		const r = ref();
		expect(await b.reserve(hold("a", r, 600), LIMITS)).toEqual({ granted: true });
		expect(await b.reserve(hold("b", ref(), 500), LIMITS)).toEqual({ granted: false, reason: "bytes" });
		expect(await b.reserve(hold("a", r, 900), LIMITS)).toEqual({ granted: true });
		expect(await b.usage()).toMatchObject({ count: 1, bytes: 900 });
		expect(await b.reserve(hold("a", r, 1200), LIMITS)).toEqual({ granted: false, reason: "bytes" });
	});

	it("lets one callback URL name only a few task ids: one create makes one task", async () => {
		const b = budget();
		const shared = ref();
		const wide = { count: 100, bytes: 100_000 };
		for (let i = 0; i < 5; i++) expect((await b.reserve(hold(`made-up-${i}`, shared), wide)).granted).toBe(true);
		expect(await b.reserve(hold("made-up-5", shared), wide)).toEqual({ granted: false, reason: "ref" });
		// Other URLs are not affected.
		expect((await b.reserve(hold("elsewhere", ref()), wide)).granted).toBe(true);
	});

	it("frees room when holds are released or expire", async () => {
		const b = budget();
		const now = Date.now();
		const r = ref();
		await b.reserve(hold("a", r), LIMITS);
		await b.reserve(hold("b", ref()), LIMITS);
		await b.reserve({ ...hold("c", ref()), expiresAt: now + 1000 }, LIMITS);
		expect((await b.reserve(hold("d", ref()), LIMITS)).granted).toBe(false);
		await b.release("a", [r]);
		expect((await b.reserve(hold("d", ref()), LIMITS)).granted).toBe(true);
		expect((await b.reserve(hold("e", ref(), 100, now + 2000), LIMITS, now + 2000)).granted).toBe(true);
		await b.release("b");
		expect(await b.usage(now + 2000)).toMatchObject({ count: 2, tasks: 2 });
	});

	it("lists held callbacks due a check once each, soonest first, and backs off those that could not be decided", async () => {
		const b = budget();
		const now = Date.now();
		await b.reserve({ ...hold("late", ref()), firstCheckAt: now + 5000 }, LIMITS);
		await b.reserve({ ...hold("early", ref()), firstCheckAt: now + 1000 }, LIMITS);
		await b.reserve({ ...hold("later", ref()), firstCheckAt: now + 600_000 }, LIMITS);
		expect(await b.dueForCheck(10, now)).toEqual([]);
		expect(await b.dueForCheck(10, now + 6000)).toEqual(["early", "late"]);
		// Leased: an overlapping tick does not list them again.
		expect(await b.dueForCheck(10, now + 7000)).toEqual([]);

		await b.checked("early", "retry", now + 7000);
		await b.checked("late", "done", now + 7000);
		expect(await b.dueForCheck(10, now + 7000 + 59_000)).toEqual([]);
		expect(await b.dueForCheck(10, now + 7000 + 61_000)).toEqual(["early"]);
		await b.checked("early", "retry", now + 70_000);
		expect(await b.dueForCheck(10, now + 70_000 + 119_000)).toEqual([]);
		expect(await b.dueForCheck(10, now + 70_000 + 121_000)).toEqual(["early"]);
		// A lease that ran out with no word from the check lists the task again, oldest due first.
		expect(await b.dueForCheck(10, now + 600_000)).toEqual(["early", "later"]);
		// "done" checks are never listed again, but still count until released.
		expect(await b.usage(now)).toMatchObject({ count: 3 });
	});
});
