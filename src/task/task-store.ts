/**
 * The task's own row in its object's storage: the public record (as JSON, the shape D1 gets),
 * the ref its callbacks must carry, and the poll and delivery leases (in the row, so taking a lease
 * and releasing it with what the attempt decided are one write each). Synchronous, like all of the object's
 * storage, so each decision reads and writes it in one step.
 *
 * The row is read from storage once per object instance and mirrored in memory after that, as
 * MirroredRow does for the collaborators' tables: only this store writes it and the object runs
 * one step at a time, so the mirror is the row. A callback then costs no storage read at all, and
 * a duplicate (told from the head) costs no parse either. A new instance reads storage afresh.
 */
import type { ResultSource, TaskRecord, TaskStatus } from "../domain/task-record";
import { MirroredRow } from "../lib/mirrored-row";
import type { ObjectTable } from "../lib/object-table";
import type { TaskState } from "./task-state";

/** What a callback's verdict turns on: which URL the task was made with, and whether it is final. */
export interface TaskHead {
	ref: string;
	status: TaskStatus;
	resultSource: ResultSource | null;
	version: number;
}

/** The row as stored: the record still as JSON (parsed afresh for each caller, who may change it). */
interface StoredRow {
	state: string;
	/** `state` parsed, once someone needed it (peek). */
	parsed?: TaskRecord;
	head: TaskHead;
	pollLeaseUntil: number;
	deliveryLeaseUntil: number;
}

export class TaskStore {
	private readonly row: MirroredRow<StoredRow>;

	constructor(
		private readonly sql: SqlStorage,
		private readonly table: ObjectTable,
	) {
		this.row = new MirroredRow(() => {
			if (!table.exists) return null;
			const stored = sql
				.exec<{ state: string; ref: string; poll_lease_until: number; delivery_lease_until: number }>(
					"SELECT state, ref, poll_lease_until, delivery_lease_until FROM task WHERE id = 1",
				)
				.toArray()[0];
			if (!stored) return null;
			const record = JSON.parse(stored.state) as TaskRecord;
			return { ...storedRow(stored.state, record, stored.ref, stored.poll_lease_until, stored.delivery_lease_until), parsed: record };
		});
	}

	/** The object's storage was erased: no task any more. */
	reset(): void {
		this.row.forget();
	}

	load(): TaskState | null {
		const row = this.row.get();
		return row ? { record: JSON.parse(row.state) as TaskRecord, ref: row.head.ref, pollLeaseUntil: row.pollLeaseUntil } : null;
	}

	/**
	 * The record as stored, parsed once per write and shared: for reading only (load() gives a
	 * copy to change). Null when no task is stored.
	 */
	peek(): Readonly<TaskRecord> | null {
		const row = this.row.get();
		if (!row) return null;
		row.parsed ??= JSON.parse(row.state) as TaskRecord;
		return row.parsed;
	}

	/** The task's head, without parsing the record. */
	head(): TaskHead | null {
		return this.row.get()?.head ?? null;
	}

	/** The record's current version, without parsing the record. */
	version(): number | null {
		return this.row.get()?.head.version ?? null;
	}

	/** A webhook attempt is under way until this time (unix ms); 0 when none is. */
	deliveryLeaseUntil(): number {
		return this.row.get()?.deliveryLeaseUntil ?? 0;
	}

	/** Takes the delivery lease for an attempt (the task is stored). */
	leaseDelivery(until: number): void {
		const row = this.row.get();
		if (!row) return;
		this.sql.exec("UPDATE task SET delivery_lease_until = ? WHERE id = 1", until);
		this.row.wrote({ ...row, deliveryLeaseUntil: until });
	}

	/**
	 * Stores bookkeeping only (a lease): readers see no change, so no new version. The delivery
	 * lease stays as it is, unless `releaseDelivery` (the attempt's outcome is what is stored).
	 */
	save(state: TaskState, { releaseDelivery = false } = {}): void {
		const json = JSON.stringify(state.record);
		const current = this.row.get();
		const deliveryLeaseUntil = releaseDelivery ? 0 : (current?.deliveryLeaseUntil ?? 0);
		if (current) {
			// An update writes one row; a replace would delete and insert it.
			this.sql.exec(
				"UPDATE task SET state = ?, ref = ?, poll_lease_until = ?, delivery_lease_until = ? WHERE id = 1",
				json,
				state.ref,
				state.pollLeaseUntil,
				deliveryLeaseUntil,
			);
		} else {
			this.table.ensure();
			this.sql.exec("INSERT INTO task (id, state, ref, poll_lease_until) VALUES (1, ?, ?, ?)", json, state.ref, state.pollLeaseUntil);
		}
		this.row.wrote(storedRow(json, state.record, state.ref, state.pollLeaseUntil, deliveryLeaseUntil));
	}

	/** Stores a change readers should see: a new version, for D1 to be brought up to. */
	commit(state: TaskState, now: number, options: { releaseDelivery?: boolean } = {}): void {
		state.record.version += 1;
		state.record.updatedAt = now;
		this.save(state, options);
	}
}

function storedRow(state: string, record: TaskRecord, ref: string, pollLeaseUntil: number, deliveryLeaseUntil: number): StoredRow {
	const head = { ref, status: record.status, resultSource: record.resultSource, version: record.version };
	return { state, head, pollLeaseUntil, deliveryLeaseUntil };
}
