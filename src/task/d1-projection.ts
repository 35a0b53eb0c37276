/**
 * D1 as a projection of the task object: the object decides, D1 is what readers see. This brings
 * D1's row up to the object's record and keeps at it until D1 agrees: writes are single-flight
 * (callers arriving during one share the next round, so N concurrent duplicate callbacks cost a
 * couple of D1 writes rather than N), guarded by version (a late write never replaces a newer
 * one), and retried with backoff when they fail. What it knows of D1 is a D1Books value
 * (./d1-books.ts), moved on only by that module's named steps; it owns the table `d1_sync`,
 * where the books are stored while a write keeps failing.
 *
 * Not every change is urgent: a decision (a result, a poll's answer) is written at once, while a
 * count or an earlier poll time is `deferred`: written within COALESCE_MS by the alarm, together
 * with whatever else came meanwhile.
 */
import type { TaskRecord } from "../domain/task-record";
import { findMark } from "../db/marks";
import { getTask, getTaskVersion } from "../db/tasks";
import { updateTask, updateTaskCounters, upsertTask } from "../db/task-writes";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import * as books from "./d1-books";
import { type TaskState, stateFromStoredRow } from "./task-state";
import type { ObjectTable } from "../lib/object-table";
import type { TaskStore } from "./task-store";

export interface SyncStatus {
	/** Highest version D1 has acknowledged. */
	syncedVersion: number;
	/** Failed writes since the last one that landed. */
	syncFailures: number;
}

export class D1Projection {
	private books: books.D1Books = books.NOTHING_WRITTEN;
	/** The D1 write under way, if any, and whether another round is wanted after it. */
	private syncing: Promise<void> | null = null;
	private syncRequested = false;
	/**
	 * What this object last wrote to D1 (since it started): the version, and the record without
	 * its counters. A write that changes only counters then rewrites those alone.
	 */
	private lastWritten: { version: number; rest: string } | null = null;
	private marked = false;

	constructor(
		private readonly sql: SqlStorage,
		/** Made only when the books must outlive a restart: a D1 write that keeps failing. */
		private readonly table: ObjectTable,
		private readonly store: TaskStore,
		/** Read at each write: the binding can change under a running object (tests swap it). */
		private readonly db: () => D1Database,
	) {}

	/** Takes up the books as the last instance stored them; called once, when the object starts. */
	open(): void {
		const stored = this.table.exists
			? this.sql.exec<books.StoredBooks>("SELECT synced_version, failures, retry_at FROM d1_sync WHERE id = 1").toArray()[0]
			: undefined;
		this.books = books.restored(stored ?? null, this.store.version(), Date.now());
	}

	/** The object's storage was erased: nothing of the task is owed to D1 any more. */
	reset(): void {
		this.books = books.NOTHING_WRITTEN;
		this.lastWritten = null;
		this.syncRequested = false;
		this.marked = false;
	}

	/** D1 marks the task archived or deleted (a write found it so): the object is to erase itself. */
	isMarked(): boolean {
		return this.marked;
	}

	status(): SyncStatus {
		return { syncedVersion: this.books.version, syncFailures: this.books.kind === "owed" ? this.books.failures : 0 };
	}

	isBehind(version: number): boolean {
		return books.isBehind(this.books, version);
	}

	/** When the alarm must write: null when D1 is current or no write is owed yet. */
	nextRun(version: number): number | null {
		return books.nextWriteAt(this.books, version);
	}

	/** The earliest D1 can be expected to hold `version`: null when it does now. */
	caughtUpBy(version: number, now: number): number | null {
		return books.caughtUpBy(this.books, version, now);
	}

	/** A change readers may see a little later: D1 is owed a write by COALESCE_MS from now. Nothing is written here. */
	defer(now: number): void {
		this.move(books.deferred(this.books, now));
	}

	/**
	 * The object lost its storage but D1 still has the task (restored from a backup, say): take
	 * D1's row as the state, so the task can still finish instead of being listed as due forever.
	 */
	async restoreState(taskId: string): Promise<TaskState | null> {
		const stored = await getTask(this.db(), taskId);
		const current = this.store.load();
		if (!stored || current) return current;
		const state = stateFromStoredRow(stored);
		this.store.save(state);
		this.move(books.holding(stored.version), { store: true });
		logEvent("warn", "task_adopted_from_d1", { taskId });
		return state;
	}

	/**
	 * Brings D1 up to the current state; resolves once a write covering every change made before
	 * the call has landed, or has failed and been left to the alarm. Never throws.
	 */
	sync(): Promise<void> {
		this.syncRequested = true;
		this.syncing ??= this.runRounds();
		return this.syncing;
	}

	/** Writes even if D1 is believed current: the caller has just seen that it is not. */
	resync(): Promise<void> {
		this.move(books.contradicted(this.books, Date.now()));
		return this.sync();
	}

	private async runRounds(): Promise<void> {
		try {
			while (this.syncRequested) {
				this.syncRequested = false;
				if (!(await this.writeOnce())) return;
			}
		} finally {
			// Cleared in the same step as the last check, so a caller arriving now starts a new round.
			this.syncing = null;
		}
	}

	/** One D1 write of the current state; false when it failed (and the alarm will retry). */
	private async writeOnce(): Promise<boolean> {
		const state = this.store.load();
		if (!state || !this.isBehind(state.record.version)) return true;
		const written = state.record.version;
		const before = this.books;
		this.move(books.writeStarted(before, Date.now()));
		try {
			const rest = withoutCounters(state.record);
			const countersOnly = this.lastWritten?.rest === rest && this.lastWritten.version === before.version;
			// A restarted object asks D1 first: a row read costs a thousandth of the row written again,
			// and an object restarts whenever it wakes from eviction (its week-later archive, say).
			const alreadyThere = books.unsureSinceRestart(before) && (await getTaskVersion(this.db(), state.record.taskId)) === written;
			// Over the row D1 is known to hold, an UPDATE; the insert only when there may be none.
			const landed =
				alreadyThere ||
				(countersOnly && (await updateTaskCounters(this.db(), state.record, before.version))) ||
				(before.version > 0 && (await updateTask(this.db(), state.record))) ||
				(await upsertTask(this.db(), state.record, state.ref));
			this.lastWritten = landed ? { version: written, rest } : null;
			if (!landed) {
				await this.overtakeD1Version(state.record.taskId);
				return true;
			}
		} catch (error) {
			this.lastWritten = null;
			this.move(books.writeFailed(this.books, Date.now()));
			logEvent("error", "d1_write_failed", {
				taskId: state.record.taskId,
				version: written,
				failures: this.status().syncFailures,
				error: errorMessage(error),
			});
			return false;
		}
		this.move(books.writeLanded(this.books, written, this.store.version() ?? written, Date.now()));
		return true;
	}

	/**
	 * The version guard kept D1's row: D1 holds a version this object never wrote (restored
	 * storage, a manual edit). This object decides, so it moves past that version and writes again.
	 */
	private async overtakeD1Version(taskId: string): Promise<void> {
		const [stored, mark] = await Promise.all([getTaskVersion(this.db(), taskId), findMark(this.db(), taskId)]);
		if (mark) {
			// Archived or deleted while this object still held it (it stopped between marking and erasing).
			this.marked = true;
			return;
		}
		const state = this.store.load();
		if (!state || stored === null || stored < state.record.version) return; // a newer write of ours landed meanwhile
		logEvent("warn", "d1_version_overtaken", { taskId, d1Version: stored, version: state.record.version });
		state.record.version = stored + 1;
		this.store.save(state);
		this.syncRequested = true;
	}

	/** Moves the books on, storing them when a restart must not forget the step (or `store` says so). */
	private move(next: books.D1Books, { store = books.mustStore(this.books, next) } = {}): void {
		this.books = next;
		if (!store) return;
		const row = books.toStored(next);
		this.table.ensure();
		this.sql.exec(
			"INSERT OR REPLACE INTO d1_sync (id, synced_version, failures, retry_at) VALUES (1, ?, ?, ?)",
			row.synced_version,
			row.failures,
			row.retry_at,
		);
	}
}

/** The record as JSON without the fields a coalesced write may change alone (updateTaskCounters). */
function withoutCounters(record: TaskRecord): string {
	const { callbacksReceived: _c, polls: _p, nextPollAt: _n, updatedAt: _u, version: _v, ...rest } = record;
	return JSON.stringify(rest);
}
