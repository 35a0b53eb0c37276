/**
 * What a task object knows of D1's copy of its record, as a value, and the named steps that move
 * it on. Pure: no storage, no I/O (src/task/d1-projection.ts does the writing and keeps the books).
 *
 * D1 is either current (it holds `version`, and nothing newer is owed yet) or owed a write by a
 * time (`at`), for one of these reasons:
 * - coalescing: a change readers may see a little later (a count, an earlier poll time), written
 *   by COALESCE_MS with whatever else comes meanwhile;
 * - writing: a write is under way; should this instance be reset during it, an alarm set
 *   meanwhile comes back for it at `at`;
 * - failed: the last write failed; retried with backoff;
 * - restarted: this instance started with D1 behind its record (a write the last one owed);
 * - contradicted: D1 was seen to lack what these books say it holds: written again at once.
 *
 * Only a change in the count of failed writes reaches storage (with a failure's backoff): a restart
 * must keep the backoff. Every other state lives in memory, and a restart costs at most one more
 * D1 write (`restored`).
 */
import { syncRetryDelayMs } from "./backoff";

/** How long a change that is not a decision may wait for D1: counters reach readers within this. */
export const COALESCE_MS = 5_000;

export type OwedReason = "coalescing" | "writing" | "failed" | "restarted" | "contradicted";

export type D1Books =
	/** D1 holds `version`, the highest this object has seen it acknowledge. */
	| { kind: "current"; version: number }
	| { kind: "owed"; version: number; failures: number; at: number; why: OwedReason };

/** The books as stored (the `d1_sync` row). */
export type StoredBooks = {
	synced_version: number;
	failures: number;
	retry_at: number | null;
};

export const NOTHING_WRITTEN: D1Books = { kind: "current", version: 0 };

/** D1 lacks the record's current version. */
export function isBehind(books: D1Books, recordVersion: number): boolean {
	return books.version < recordVersion;
}

/** When the alarm must write: the owed time while D1 is behind; null when nothing is owed yet. */
export function nextWriteAt(books: D1Books, recordVersion: number): number | null {
	return books.kind === "owed" && isBehind(books, recordVersion) ? books.at : null;
}

/** The earliest D1 can be expected to hold the record's version: null when it does now. */
export function caughtUpBy(books: D1Books, recordVersion: number, now: number): number | null {
	if (!isBehind(books, recordVersion)) return null;
	return books.kind === "owed" ? books.at : now + syncRetryDelayMs(1);
}

function failuresOf(books: D1Books): number {
	return books.kind === "owed" ? books.failures : 0;
}

/** A change that can wait: owed by COALESCE_MS from now, unless something is owed sooner already. */
export function deferred(books: D1Books, now: number): D1Books {
	if (books.kind === "owed") return books;
	return { kind: "owed", version: books.version, failures: 0, at: now + COALESCE_MS, why: "coalescing" };
}

/** A write starts: if none is owed yet, the guard should this instance be reset during it. */
export function writeStarted(books: D1Books, now: number): D1Books {
	if (books.kind === "owed") return books;
	return { kind: "owed", version: books.version, failures: 0, at: now + syncRetryDelayMs(1), why: "writing" };
}

/** A write of `written` landed; `recordVersion` is the record's version now (changes may have come during it). */
export function writeLanded(books: D1Books, written: number, recordVersion: number, now: number): D1Books {
	const version = Math.max(books.version, written);
	if (recordVersion > version) return { kind: "owed", version, failures: 0, at: now + COALESCE_MS, why: "coalescing" };
	return { kind: "current", version };
}

export function writeFailed(books: D1Books, now: number): D1Books {
	const failures = failuresOf(books) + 1;
	return { kind: "owed", version: books.version, failures, at: now + syncRetryDelayMs(failures), why: "failed" };
}

/** D1 lacks what the books say it holds (it listed a final task as pending): D1 holds none of our versions as far as we know. */
export function contradicted(books: D1Books, now: number): D1Books {
	return { kind: "owed", version: 0, failures: failuresOf(books), at: books.kind === "owed" ? books.at : now, why: "contradicted" };
}

/** D1 is known to hold `version` (an upgraded object's books, or a state taken from D1's row). */
export function holding(version: number): D1Books {
	return { kind: "current", version };
}

/** The books a starting instance takes up: a write the last instance owed is due at once (or at its backoff). */
export function restored(stored: StoredBooks | null, recordVersion: number | null, now: number): D1Books {
	const version = stored?.synced_version ?? 0;
	if (recordVersion === null || version >= recordVersion) return { kind: "current", version };
	const failures = stored?.failures ?? 0;
	if (failures > 0 && stored?.retry_at != null) return { kind: "owed", version, failures, at: stored.retry_at, why: "failed" };
	return { kind: "owed", version, failures, at: now, why: "restarted" };
}

/**
 * The books of an instance that started with its record ahead of what it knows D1 holds, with no
 * failed write on record: the last instance's write may well have landed, only this one cannot know.
 */
export function unsureSinceRestart(books: D1Books): boolean {
	return books.kind === "owed" && books.why === "restarted";
}

/** Whether going from `before` to `after` must be stored: the count of failed writes (and a failure's backoff) changed. */
export function mustStore(before: D1Books, after: D1Books): boolean {
	return failuresOf(before) !== failuresOf(after);
}

export function toStored(books: D1Books): StoredBooks {
	return books.kind === "owed"
		? { synced_version: books.version, failures: books.failures, retry_at: books.at }
		: { synced_version: books.version, failures: 0, retry_at: null };
}
