/**
 * D1 as a projection of the task object: the object decides, D1 is what readers see. This brings
 * D1's row up to the object's record and keeps at it until D1 agrees: writes are single-flight
 * (callers arriving during one share the next round, so N concurrent duplicate callbacks cost a
 * couple of D1 writes rather than N), guarded by version (a late write never replaces a newer
 * one), and retried with backoff when they fail. Owns its table, `d1_sync`.
 *
 * Not every change is urgent: a decision (a result, a poll's answer) is written at once, while a
 * count or an earlier poll time (a duplicate or not-final callback) is written within COALESCE_MS
 * (by the duplicates' fold, or the alarm for anything else), together with whatever else came
 * meanwhile, so a burst of duplicates costs one D1 write and none of them waits on D1.
 *
 * Its bookkeeping lives in memory and reaches `d1_sync` only where a restart must not forget it: a
 * failed write's backoff, and a state set from outside (an upgrade, D1's row adopted). A landed
 * write and the guard before a write stay in memory, sparing each result and each fold a storage
 * write of their own. What a restart loses costs at most one more D1 write: an object that starts
 * with D1 behind by its stored books writes at once, and a write of the version D1 holds lands.
 */
import type { TaskRecord } from "../domain/task-record";
import { getTask, getTaskVersion, updateTaskCounters, upsertTask } from "../db/tasks";
import { logEvent } from "../lib/log";
import { syncRetryDelayMs } from "./backoff";
import { type TaskState, stateFromStoredRow } from "./task-state";
import type { TaskStore } from "./task-store";
import { errorMessage } from "../lib/error-message";

type SyncRow = { synced_version: number; failures: number; retry_at: number | null };

/** How long a change that is not a decision may wait for D1: counters reach readers within this. */
export const COALESCE_MS = 5_000;

export interface SyncStatus {
	/** Highest version D1 has acknowledged. */
	syncedVersion: number;
	/** Failed writes since the last one that landed. */
	syncFailures: number;
}

export class D1Projection {
	/** The D1 write under way, if any, and whether another round is wanted after it. */
	private syncing: Promise<void> | null = null;
	private syncRequested = false;
	/**
	 * What this object last wrote to D1 (since it started): the version, and the record without
	 * its counters. A write that changes only counters then rewrites those alone.
	 */
	private lastWritten: { version: number; rest: string } | null = null;
	/** The books as this instance knows them (see open()). */
	private books: SyncRow = { synced_version: 0, failures: 0, retry_at: null };

	constructor(
		private readonly sql: SqlStorage,
		private readonly store: TaskStore,
		/** Read at each write: the binding can change under a running object (tests swap it). */
		private readonly db: () => D1Database,
	) {
		sql.exec(`CREATE TABLE IF NOT EXISTS d1_sync (
			id INTEGER PRIMARY KEY CHECK (id = 1),
			synced_version INTEGER NOT NULL,
			failures INTEGER NOT NULL,
			retry_at INTEGER
		)`);
	}

	/**
	 * Takes up the books as the last instance stored them; called once, when the object starts
	 * (after its storage is migrated). A write owed then, whose guard or coalescing time lived in
	 * that instance's memory, is due at once. A new task has no record yet, so nothing is owed.
	 */
	open(): void {
		const stored = this.sql.exec<SyncRow>("SELECT synced_version, failures, retry_at FROM d1_sync WHERE id = 1").toArray()[0];
		if (stored) this.books = stored;
		const version = this.store.version();
		if (version !== null && this.books.synced_version < version && this.books.retry_at === null) this.books.retry_at = Date.now();
	}

	status(): SyncStatus {
		const row = this.books;
		return { syncedVersion: row.synced_version, syncFailures: row.failures };
	}

	/** D1 does not yet hold `version` (the record's current one). */
	isBehind(version: number): boolean {
		return this.books.synced_version < version;
	}

	/** Sets the bookkeeping outright: an upgraded object's old state, or a state taken from D1. */
	restore(status: SyncStatus): void {
		this.write(status.syncedVersion, status.syncFailures, null, { durable: true });
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
		this.restore({ syncedVersion: stored.version, syncFailures: 0 });
		logEvent("warn", "task_adopted_from_d1", { taskId });
		return state;
	}

	/**
	 * When the alarm must write, while D1 lags behind `version` (the record's current one): a
	 * failed write's backoff, a guard behind one under way (should the object be reset during
	 * it), or a coalesced write's time. Null when D1 is current or no write is owed yet.
	 */
	nextRun(version: number): number | null {
		const row = this.books;
		return row.synced_version < version ? row.retry_at : null;
	}

	/** The earliest D1 can be expected to hold `version`: null when it does now. */
	caughtUpBy(version: number, now: number): number | null {
		const row = this.books;
		if (row.synced_version >= version) return null;
		return row.retry_at ?? now + syncRetryDelayMs(Math.max(1, row.failures));
	}

	/**
	 * A change readers may see a little later (a count, an earlier poll time): D1 is owed a write
	 * by COALESCE_MS from now, unless one is owed sooner already. Nothing is written to D1 here.
	 */
	defer(now: number): void {
		const row = this.books;
		if (row.retry_at === null) this.write(row.synced_version, row.failures, now + COALESCE_MS);
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
		const row = this.books;
		this.write(0, row.failures, row.retry_at);
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
		const started = this.books;
		// If the object is reset during the write, the alarm still comes back for it.
		if (started.retry_at === null) {
			this.write(started.synced_version, started.failures, Date.now() + syncRetryDelayMs(Math.max(1, started.failures)));
		}
		try {
			const rest = withoutCounters(state.record);
			const countersOnly = this.lastWritten?.rest === rest && this.lastWritten.version === started.synced_version;
			const landed =
				(countersOnly && (await updateTaskCounters(this.db(), state.record, started.synced_version))) ||
				(await upsertTask(this.db(), state.record, state.ref));
			this.lastWritten = landed ? { version: state.record.version, rest } : null;
			if (!landed) {
				await this.overtakeD1Version(state.record.taskId);
				return true;
			}
		} catch (error) {
			this.lastWritten = null;
			const failures = this.books.failures + 1;
			this.write(this.books.synced_version, failures, Date.now() + syncRetryDelayMs(failures), { durable: true });
			logEvent("error", "d1_write_failed", {
				taskId: state.record.taskId,
				version: state.record.version,
				failures,
				error: errorMessage(error),
			});
			return false;
		}
		// Changes that came during the write (duplicates, say) are owed a coalesced write.
		// A backoff stored by a failed write is cleared in storage too; otherwise memory is enough.
		const current = this.store.version() ?? state.record.version;
		const retryAt = current > state.record.version ? Date.now() + COALESCE_MS : null;
		this.write(Math.max(this.books.synced_version, state.record.version), 0, retryAt, { durable: this.books.failures > 0 });
		return true;
	}

	/**
	 * The version guard kept D1's row: D1 holds a version this object never wrote (restored
	 * storage, a manual edit). This object decides, so it moves past that version and writes again.
	 */
	private async overtakeD1Version(taskId: string): Promise<void> {
		const stored = await getTaskVersion(this.db(), taskId);
		const state = this.store.load();
		if (!state || stored === null || stored < state.record.version) return; // a newer write of ours landed meanwhile
		logEvent("warn", "d1_version_overtaken", { taskId, d1Version: stored, version: state.record.version });
		state.record.version = stored + 1;
		this.store.save(state);
		this.syncRequested = true;
	}

	/** Updates the books; `durable` also stores them, for what a restart must not forget. */
	private write(syncedVersion: number, failures: number, retryAt: number | null, { durable = false } = {}): void {
		this.books = { synced_version: syncedVersion, failures, retry_at: retryAt };
		if (!durable) return;
		this.sql.exec(
			"INSERT OR REPLACE INTO d1_sync (id, synced_version, failures, retry_at) VALUES (1, ?, ?, ?)",
			syncedVersion,
			failures,
			retryAt,
		);
	}
}

/** The record as JSON without the fields a coalesced write may change alone (updateTaskCounters). */
function withoutCounters(record: TaskRecord): string {
	const { callbacksReceived: _c, polls: _p, nextPollAt: _n, updatedAt: _u, version: _v, ...rest } = record;
	return JSON.stringify(rest);
}
