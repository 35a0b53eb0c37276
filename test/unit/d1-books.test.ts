/** What a task object knows of D1's copy of its record, as pure steps: each named transition, and the rules they keep together. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
	COALESCE_MS,
	type D1Books,
	NOTHING_WRITTEN,
	caughtUpBy,
	contradicted,
	deferred,
	holding,
	isBehind,
	mustStore,
	nextWriteAt,
	restored,
	toStored,
	unsureSinceRestart,
	writeFailed,
	writeLanded,
	writeStarted,
} from "../../src/task/d1-books";

const T0 = 1_700_000_000_000;

describe("D1's books", () => {
	it("owe a deferred change within COALESCE_MS, and keep an earlier debt as it is", () => {
		const owed = deferred(holding(3), T0);
		expect(owed).toEqual({ kind: "owed", version: 3, failures: 0, at: T0 + COALESCE_MS, why: "coalescing" });
		expect(nextWriteAt(owed, 4)).toBe(T0 + COALESCE_MS);
		// Nothing is owed while D1 holds the record's version.
		expect(nextWriteAt(owed, 3)).toBeNull();
		const failed = writeFailed(holding(3), T0);
		expect(deferred(failed, T0 + 1)).toBe(failed);
	});

	it("set a guard when a write starts, so an alarm set during it comes back for it", () => {
		const writing = writeStarted(holding(1), T0);
		expect(writing).toMatchObject({ kind: "owed", why: "writing", version: 1 });
		expect((writing as Extract<D1Books, { kind: "owed" }>).at).toBeGreaterThan(T0);
		// A write started while a write is owed for a reason of its own keeps that reason's time.
		const coalescing = deferred(holding(1), T0);
		expect(writeStarted(coalescing, T0 + 10)).toBe(coalescing);
	});

	it("are current once a write of the record's version lands, and owe a coalesced write for changes made during it", () => {
		expect(writeLanded(writeStarted(holding(1), T0), 2, 2, T0 + 5)).toEqual({ kind: "current", version: 2 });
		expect(writeLanded(writeStarted(holding(1), T0), 2, 3, T0 + 5)).toEqual({ kind: "owed", version: 2, failures: 0, at: T0 + 5 + COALESCE_MS, why: "coalescing" });
		// A late write of an older version never moves the books back.
		expect(writeLanded(holding(5), 4, 5, T0)).toEqual({ kind: "current", version: 5 });
	});

	it("back off after each failed write, doubling, and are stored while failures count", () => {
		const once = writeFailed(writeStarted(holding(1), T0), T0);
		const twice = writeFailed(once, T0);
		expect(once).toMatchObject({ kind: "owed", failures: 1, why: "failed", at: T0 + 1000 });
		expect(twice).toMatchObject({ failures: 2, at: T0 + 2000 });
		expect(mustStore(holding(1), once)).toBe(true);
		expect(mustStore(once, twice)).toBe(true);
		// Landing after failures is stored too (the stored backoff is cleared); an ordinary landing is not.
		expect(mustStore(twice, writeLanded(twice, 2, 2, T0))).toBe(true);
		expect(mustStore(writeStarted(holding(1), T0), writeLanded(holding(1), 2, 2, T0))).toBe(false);
		expect(toStored(twice)).toEqual({ synced_version: 1, failures: 2, retry_at: T0 + 2000 });
	});

	it("write again at once when D1 is seen to lack what they say it holds", () => {
		const books = contradicted(holding(7), T0);
		expect(isBehind(books, 7)).toBe(true);
		expect(nextWriteAt(books, 7)).toBe(T0);
	});

	it("are taken up after a restart: current, a write owed at once, or a failure's backoff kept", () => {
		expect(restored(null, null, T0)).toEqual(NOTHING_WRITTEN);
		expect(restored(null, 1, T0)).toMatchObject({ kind: "owed", version: 0, at: T0, why: "restarted" });
		expect(restored({ synced_version: 3, failures: 0, retry_at: null }, 3, T0)).toEqual({ kind: "current", version: 3 });
		expect(restored({ synced_version: 2, failures: 2, retry_at: T0 + 4000 }, 3, T0)).toEqual({ kind: "owed", version: 2, failures: 2, at: T0 + 4000, why: "failed" });
	});

	it("are unsure of D1 only after a restart with nothing on record (D1 is asked then), never after a failure or a change", () => {
		expect(unsureSinceRestart(restored(null, 1, T0))).toBe(true);
		expect(unsureSinceRestart(restored({ synced_version: 2, failures: 2, retry_at: T0 + 4000 }, 3, T0))).toBe(false);
		expect(unsureSinceRestart(restored(null, null, T0))).toBe(false);
		expect(unsureSinceRestart(deferred(holding(1), T0))).toBe(false);
		expect(unsureSinceRestart(contradicted(holding(1), T0))).toBe(false);
		expect(unsureSinceRestart(writeFailed(writeStarted(restored(null, 1, T0), T0), T0))).toBe(false);
	});

	it("say when D1 can be expected to hold a version: never earlier than now", () => {
		expect(caughtUpBy(holding(2), 2, T0)).toBeNull();
		expect(caughtUpBy(holding(1), 2, T0)).toBeGreaterThan(T0);
		expect(caughtUpBy(deferred(holding(1), T0), 2, T0)).toBe(T0 + COALESCE_MS);
	});

	it("keep their rules through any run of steps: nothing is owed while D1 is current, and failures only count up until a write lands", () => {
		const step = fc.oneof(
			fc.constant("defer" as const),
			fc.constant("start" as const),
			fc.constant("fail" as const),
			fc.constant("contradict" as const),
			fc.record({ land: fc.integer({ min: 0, max: 10 }), record: fc.integer({ min: 0, max: 10 }) }),
		);
		fc.assert(
			fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
				let books: D1Books = NOTHING_WRITTEN;
				for (const [index, s] of steps.entries()) {
					const now = T0 + index;
					const before = books;
					if (s === "defer") books = deferred(books, now);
					else if (s === "start") books = writeStarted(books, now);
					else if (s === "fail") books = writeFailed(books, now);
					else if (s === "contradict") books = contradicted(books, now);
					else books = writeLanded(books, s.land, Math.max(s.land, s.record), now);
					const failures = (b: D1Books) => (b.kind === "owed" ? b.failures : 0);
					if (s === "fail") expect(failures(books)).toBe(failures(before) + 1);
					if (typeof s === "object") expect(failures(books)).toBe(0);
					expect(mustStore(before, books)).toBe(failures(before) !== failures(books));
					if (books.kind === "current") expect(nextWriteAt(books, books.version)).toBeNull();
				}
			}),
		);
	});
});
