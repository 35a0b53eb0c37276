/**
 * The task's own row in its object's storage: the public record (as JSON, the shape D1 gets),
 * the ref its callbacks must carry, and the poll lease. Synchronous, like all of the object's
 * storage, so each decision reads and writes it in one step.
 */
import type { ResultSource, TaskRecord, TaskStatus } from "../domain/task-record";
import type { TaskState } from "./task-state";

/** What a callback's verdict turns on: which URL the task was made with, and whether it is final. */
export interface TaskHead {
	ref: string;
	status: TaskStatus;
	resultSource: ResultSource | null;
}

export class TaskStore {
	constructor(private readonly sql: SqlStorage) {
		// The table as the first storage version made it; src/task/storage-schema.ts adds the rest.
		sql.exec("CREATE TABLE IF NOT EXISTS task (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)");
	}

	load(): TaskState | null {
		const row = this.sql
			.exec<{ state: string; ref: string; poll_lease_until: number }>("SELECT state, ref, poll_lease_until FROM task WHERE id = 1")
			.toArray()[0];
		return row ? { record: JSON.parse(row.state) as TaskRecord, ref: row.ref, pollLeaseUntil: row.poll_lease_until } : null;
	}

	/** The task's head, read without parsing the record (SQLite picks the two fields out). */
	head(): TaskHead | null {
		const row = this.sql
			.exec<{ ref: string; status: TaskStatus; result_source: ResultSource | null }>(
				"SELECT ref, json_extract(state, '$.status') AS status, json_extract(state, '$.resultSource') AS result_source FROM task WHERE id = 1",
			)
			.toArray()[0];
		return row ? { ref: row.ref, status: row.status, resultSource: row.result_source } : null;
	}

	/** The record's current version, read without parsing the record. */
	version(): number | null {
		return (
			this.sql.exec<{ version: number }>("SELECT json_extract(state, '$.version') AS version FROM task WHERE id = 1").toArray()[0]
				?.version ?? null
		);
	}

	/** Stores bookkeeping only (a lease): readers see no change, so no new version. */
	save(state: TaskState): void {
		this.sql.exec(
			"INSERT OR REPLACE INTO task (id, state, ref, poll_lease_until) VALUES (1, ?, ?, ?)",
			JSON.stringify(state.record),
			state.ref,
			state.pollLeaseUntil,
		);
	}

	/** Stores a change readers should see: a new version, for D1 to be brought up to. */
	commit(state: TaskState, now: number): void {
		state.record.version += 1;
		state.record.updatedAt = now;
		this.save(state);
	}
}
