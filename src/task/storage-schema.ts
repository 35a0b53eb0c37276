/**
 * A task object's own SQLite storage: every table as the current version has it, in one place,
 * and the steps that bring an object stored by an older gateway up to it. A fresh object has no
 * table at all; each table is made when its owner first writes to it, so a task makes only the
 * tables it needs (creating a table costs rows written, as any write does: a plain task makes
 * one). The steps run only for an object an older version stored.
 *
 * Each collaborator of the object owns one table (and only reads and writes that one):
 *
 * | table           | owner                          | holds                                               |
 * |-----------------|--------------------------------|-----------------------------------------------------|
 * | task            | TaskStore                      | the record (JSON), the callback ref, the poll and   |
 * |                 |                                | delivery leases                                     |
 * | d1_sync         | D1Projection                   | D1's books, stored only while a write keeps failing |
 * | poll_schedule   | PollRunner                     | the poll a cron tick asked for                      |
 * | early_callbacks | HeldCallbacks (early-callbacks)| callbacks held before the task was stored           |
 * | adoption        | Adoption (early-callbacks)     | which task held callbacks are for                   |
 * | key_adoption    | KeyAdoption (early-callbacks)  | an Idempotency-Key still to learn an adopted task   |
 *
 * Versions:
 * - 1: one `task` row whose JSON held the record and all bookkeeping flat; `early_identity`.
 * - 2: `task` holds the record, its ref and the poll lease; the D1 books, the delivery lease, the
 *   key handoff and the late-create check each in a table of their own.
 * - 3: the late-create check is `adoption`, without its `checks` count (never read) and with a
 *   flag for callbacks a version 1 object held unknown to the held-callback budget; the key
 *   handoff is `key_adoption`.
 * - 4: no `meta` table, and each table made on first need rather than all at once; the delivery
 *   lease is a column of `task`. Told from version 1 (which had no `meta` either) by its tables:
 *   version 1 had `early_identity`, or a `task` table without the `ref` column.
 */

import type { ObjectTable } from "../lib/object-table";

export const STORAGE_VERSION = 4;

export type TableName = "task" | "d1_sync" | "poll_schedule" | "early_callbacks" | "adoption" | "key_adoption";

/** Every table of the current version, as SQLite keeps its definition. */
export const CURRENT_TABLES: Record<TableName, string> = {
	task: `CREATE TABLE task (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		state TEXT NOT NULL,
		ref TEXT NOT NULL,
		poll_lease_until INTEGER NOT NULL DEFAULT 0,
		delivery_lease_until INTEGER NOT NULL DEFAULT 0
	)`,
	d1_sync: `CREATE TABLE d1_sync (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		synced_version INTEGER NOT NULL,
		failures INTEGER NOT NULL,
		retry_at INTEGER
	)`,
	poll_schedule: `CREATE TABLE poll_schedule (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		due_at INTEGER NOT NULL,
		tick_time INTEGER NOT NULL,
		asked_at INTEGER NOT NULL
	)`,
	early_callbacks: `CREATE TABLE early_callbacks (
		ref TEXT PRIMARY KEY,
		outcome TEXT NOT NULL,
		final INTEGER NOT NULL,
		deliveries INTEGER NOT NULL,
		received_at INTEGER NOT NULL
	)`,
	// unlisted: held by a version 1 object, before the held-callback budget listed holds.
	adoption: "CREATE TABLE adoption (id INTEGER PRIMARY KEY CHECK (id = 1), task_id TEXT NOT NULL, unlisted INTEGER NOT NULL DEFAULT 0)",
	key_adoption: "CREATE TABLE key_adoption (id INTEGER PRIMARY KEY CHECK (id = 1), scope TEXT NOT NULL, ref TEXT NOT NULL, retry_at INTEGER)",
};



/**
 * The object's storage as a whole: which tables it has, each made on first need, and erased at the
 * end of the task's life. A fresh object (or one erased) has no table at all and costs no storage;
 * reads then see nothing.
 */
export class ObjectStorage {
	private readonly tables: Set<string>;

	/** Brings an object an older gateway stored up to STORAGE_VERSION, in one transaction. */
	constructor(private readonly storage: DurableObjectStorage) {
		this.tables = tableNames(storage.sql);
		const version = storedVersion(storage.sql, this.tables);
		if (version !== null && version < STORAGE_VERSION) {
			storage.transactionSync(() => {
				if (version < 2) toVersion2(storage.sql);
				if (version < 3) toVersion3(storage.sql);
				if (version < 4) toVersion4(storage.sql);
			});
			this.tables = tableNames(storage.sql);
		}
	}

	/** Whether the object stores anything (any table of its own exists). */
	get exists(): boolean {
		return this.tables.size > 0;
	}

	table(name: TableName): ObjectTable {
		const { tables, storage } = this;
		return {
			get exists() {
				return tables.has(name);
			},
			ensure() {
				if (tables.has(name)) return;
				storage.sql.exec(CURRENT_TABLES[name]);
				tables.add(name);
			},
		};
	}

	/** Deletes everything the object stores, its alarm included: from now on it costs nothing. */
	async erase(): Promise<void> {
		await this.storage.deleteAlarm();
		await this.storage.deleteAll();
		this.tables.clear();
	}
}

/** The object's own tables (not SQLite's, nor the runtime's). */
function tableNames(sql: SqlStorage): Set<string> {
	// (LIKE would read `_` as any character.)
	const rows = sql.exec<{ name: string }>(
		"SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) != 'sqlite_' AND substr(name, 1, 4) != '_cf_' AND substr(name, 1, 2) != '__'",
	);
	return new Set(rows.toArray().map((row) => row.name));
}

/** The version the storage is at; null for a fresh object (no table at all). */
function storedVersion(sql: SqlStorage, tables: Set<string>): number | null {
	if (tables.has("meta")) {
		return sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'storage_version'").toArray()[0]?.value ?? 1;
	}
	if (tables.size === 0) return null;
	// No meta: version 1 or 4. Version 1 kept held callbacks' task in early_identity, and its task row had no ref.
	if (tables.has("early_identity")) return 1;
	if (tables.has("task")) {
		const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('task')").toArray();
		if (!columns.some((column) => column.name === "ref")) return 1;
		// Made while version 4 was being written, before the delivery lease moved into the row.
		if (!columns.some((column) => column.name === "delivery_lease_until")) return 3;
	}
	return tables.has("early_callbacks") && !tables.has("adoption") && !tables.has("task") ? 1 : STORAGE_VERSION;
}

/** What version 1 kept flat in the task's JSON beside the record. */
interface Version1Bookkeeping {
	ref: string;
	pollLeaseUntil: number;
	syncedVersion?: number;
	syncFailures?: number;
	deliveryLeaseUntil?: number;
	keyToAdopt?: { scope: string; ref: string } | null;
	owner?: string | null;
}

function toVersion2(sql: SqlStorage): void {
	sql.exec("CREATE TABLE IF NOT EXISTS task (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)");
	sql.exec("ALTER TABLE task ADD COLUMN ref TEXT NOT NULL DEFAULT ''");
	sql.exec("ALTER TABLE task ADD COLUMN poll_lease_until INTEGER NOT NULL DEFAULT 0");
	sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
	sql.exec("CREATE TABLE d1_sync (id INTEGER PRIMARY KEY CHECK (id = 1), synced_version INTEGER NOT NULL, failures INTEGER NOT NULL, retry_at INTEGER)");
	sql.exec("CREATE TABLE delivery_lease (id INTEGER PRIMARY KEY CHECK (id = 1), until INTEGER NOT NULL)");
	sql.exec("CREATE TABLE poll_schedule (id INTEGER PRIMARY KEY CHECK (id = 1), due_at INTEGER NOT NULL, tick_time INTEGER NOT NULL, asked_at INTEGER NOT NULL)");
	sql.exec(
		"CREATE TABLE IF NOT EXISTS early_callbacks (ref TEXT PRIMARY KEY, outcome TEXT NOT NULL, final INTEGER NOT NULL, deliveries INTEGER NOT NULL, received_at INTEGER NOT NULL)",
	);
	sql.exec("CREATE TABLE key_handoff (id INTEGER PRIMARY KEY CHECK (id = 1), scope TEXT NOT NULL, ref TEXT NOT NULL, retry_at INTEGER)");
	sql.exec(
		"CREATE TABLE late_create_check (id INTEGER PRIMARY KEY CHECK (id = 1), task_id TEXT NOT NULL, checks INTEGER NOT NULL DEFAULT 0, next_check_at INTEGER)",
	);
	// Held callbacks' task: its check was the object's own then, so it is due at once (and listed by the next alarm).
	sql.exec("CREATE TABLE IF NOT EXISTS early_identity (id INTEGER PRIMARY KEY CHECK (id = 1), task_id TEXT NOT NULL, checks INTEGER NOT NULL DEFAULT 0)");
	sql.exec("INSERT INTO late_create_check (id, task_id, checks, next_check_at) SELECT 1, task_id, checks, ? FROM early_identity", Date.now());
	sql.exec("DROP TABLE early_identity");

	const row = sql.exec<{ state: string }>("SELECT state FROM task WHERE id = 1").toArray()[0];
	if (!row) return;
	const { ref, pollLeaseUntil, syncedVersion, syncFailures, deliveryLeaseUntil, keyToAdopt, ...record } = JSON.parse(row.state) as Version1Bookkeeping;
	// Version 1 predates tenants: its task has no owner (only admin keys see it).
	const withOwner = { ...record, owner: record.owner ?? null };
	sql.exec("UPDATE task SET state = ?, ref = ?, poll_lease_until = ? WHERE id = 1", JSON.stringify(withOwner), ref, pollLeaseUntil);
	if (syncedVersion !== undefined) {
		sql.exec("INSERT INTO d1_sync (id, synced_version, failures, retry_at) VALUES (1, ?, ?, NULL)", syncedVersion, syncFailures ?? 0);
	}
	sql.exec("INSERT INTO delivery_lease (id, until) VALUES (1, ?)", deliveryLeaseUntil ?? 0);
	if (keyToAdopt) sql.exec("INSERT INTO key_handoff (id, scope, ref, retry_at) VALUES (1, ?, ?, NULL)", keyToAdopt.scope, keyToAdopt.ref);
}

function toVersion3(sql: SqlStorage): void {
	sql.exec(CURRENT_TABLES.adoption);
	sql.exec("INSERT INTO adoption (id, task_id, unlisted) SELECT 1, task_id, next_check_at IS NOT NULL FROM late_create_check");
	sql.exec("DROP TABLE late_create_check");
	sql.exec("ALTER TABLE key_handoff RENAME TO key_adoption");
}

/**
 * Version 4 keeps no version row (its tables say which it is), and the delivery lease in the task's
 * row. Tables version 3 made empty stay (they cost nothing more).
 */
function toVersion4(sql: SqlStorage): void {
	sql.exec("DROP TABLE IF EXISTS meta");
	const tables = tableNames(sql);
	const taskColumns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('task')").toArray();
	if (tables.has("task") && !taskColumns.some((column) => column.name === "delivery_lease_until")) {
		sql.exec("ALTER TABLE task ADD COLUMN delivery_lease_until INTEGER NOT NULL DEFAULT 0");
		if (tables.has("delivery_lease")) sql.exec("UPDATE task SET delivery_lease_until = COALESCE((SELECT until FROM delivery_lease WHERE id = 1), 0)");
	}
	sql.exec("DROP TABLE IF EXISTS delivery_lease");
}
