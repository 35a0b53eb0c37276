/**
 * The version of a task object's own SQLite storage, and the steps that bring an object stored
 * by an older gateway up to it, run once from the constructor. Each collaborator creates its own
 * table; a step here only reshapes what an earlier version left behind.
 *
 * - 1: one `task` row whose JSON held the record and all bookkeeping flat; `early_identity`.
 * - 2: `task` holds the record, its ref and the poll lease; the D1 sync, the delivery lease, the
 *   key handoff and the late-create check each in their collaborator's table.
 */
import type { TaskRecord } from "../domain/task-record";
import type { KeyHandoff } from "../early-callbacks/key-adoption";
import type { UnansweredCreateClaim } from "../early-callbacks/adoption";
import type { D1Projection, SyncStatus } from "./d1-projection";
import type { DeliveryRunner } from "./delivery-runner";

export const STORAGE_VERSION = 2;

/** The collaborators that take over what an older version kept for them. */
export interface Heirs {
	d1: Pick<D1Projection, "restore">;
	delivery: Pick<DeliveryRunner, "setLease">;
	lateCreate: Pick<UnansweredCreateClaim, "restore">;
	keyHandoff: Pick<KeyHandoff, "set">;
}

/** What version 1 kept beside the record. */
interface Version1Leftovers {
	sync: SyncStatus | null;
	deliveryLeaseUntil: number;
	keyToAdopt: { scope: string; ref: string } | null;
	lateCreateCheck: { taskId: string; checks: number } | null;
}

type Version1State = TaskRecord &
	SyncStatus & { ref: string; pollLeaseUntil: number; deliveryLeaseUntil: number; keyToAdopt?: { scope: string; ref: string } | null };

/** Brings the storage to STORAGE_VERSION, in one transaction. */
export function migrateStorage(storage: DurableObjectStorage, heirs: Heirs): void {
	const sql = storage.sql;
	sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
	// No row: version 1 (which had no meta table), or a fresh object, whose empty tables step 1→2 reshapes as well.
	const version = sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'storage_version'").toArray()[0]?.value ?? 1;
	if (version >= STORAGE_VERSION) return;
	storage.transactionSync(() => {
		if (version < 2) handOver(toVersion2(sql), heirs);
		sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('storage_version', ?)", STORAGE_VERSION);
	});
}

function toVersion2(sql: SqlStorage): Version1Leftovers {
	sql.exec("ALTER TABLE task ADD COLUMN ref TEXT NOT NULL DEFAULT ''");
	sql.exec("ALTER TABLE task ADD COLUMN poll_lease_until INTEGER NOT NULL DEFAULT 0");
	sql.exec(
		"CREATE TABLE IF NOT EXISTS early_identity (id INTEGER PRIMARY KEY CHECK (id = 1), task_id TEXT NOT NULL, checks INTEGER NOT NULL DEFAULT 0)",
	);
	const identity = sql.exec<{ task_id: string; checks: number }>("SELECT task_id, checks FROM early_identity").toArray()[0];
	sql.exec("DROP TABLE early_identity");
	const leftovers: Version1Leftovers = {
		sync: null,
		deliveryLeaseUntil: 0,
		keyToAdopt: null,
		lateCreateCheck: identity ? { taskId: identity.task_id, checks: identity.checks } : null,
	};
	const row = sql.exec<{ state: string }>("SELECT state FROM task WHERE id = 1").toArray()[0];
	if (!row) return leftovers;
	const { ref, pollLeaseUntil, syncedVersion, syncFailures, deliveryLeaseUntil, keyToAdopt, ...record } = JSON.parse(
		row.state,
	) as Version1State;
	// Version 1 predates tenants: its task has no owner (only admin keys see it).
	const withOwner: TaskRecord = { ...record, owner: record.owner ?? null };
	sql.exec("UPDATE task SET state = ?, ref = ?, poll_lease_until = ? WHERE id = 1", JSON.stringify(withOwner), ref, pollLeaseUntil);
	return { ...leftovers, sync: { syncedVersion, syncFailures }, deliveryLeaseUntil, keyToAdopt: keyToAdopt ?? null };
}

function handOver(old: Version1Leftovers, heirs: Heirs): void {
	if (old.sync) heirs.d1.restore(old.sync);
	heirs.delivery.setLease(old.deliveryLeaseUntil);
	if (old.keyToAdopt) heirs.keyHandoff.set(old.keyToAdopt);
	// The old code's alarm may be gone by the next entry point: look again at once.
	if (old.lateCreateCheck) heirs.lateCreate.restore(old.lateCreateCheck.taskId, old.lateCreateCheck.checks, Date.now());
}
