/**
 * Bindings that count what they are asked (./meter.ts): D1 by the rows its results report, R2 by
 * operation class, Durable Object stubs by RPC call and the time the object spends on it, and an
 * object's own storage by each SQLite cursor's rows and each alarm set.
 */
import { active, countWrites, counts, objectCounts } from "./meter";

/** The class each Durable Object binding of the gateway holds. */
const OBJECT_CLASSES: Record<string, string> = {
	TASKS: "TaskObject",
	IDEMPOTENCY: "IdempotencyObject",
	CREATE_LIMITER: "CreateRateLimiter",
	HELD_CALLBACKS: "HeldCallbackBudget",
	TENANT_QUOTA: "TenantQuota",
};

export function meteredEnv(env: Env): Env {
	const metered: Record<string, unknown> = { ...env, DB: meteredD1(env.DB), ARCHIVE: meteredR2(env.ARCHIVE) };
	for (const [binding, className] of Object.entries(OBJECT_CLASSES)) {
		metered[binding] = meteredNamespace((env as unknown as Record<string, DurableObjectNamespace>)[binding] as DurableObjectNamespace, className);
	}
	return metered as unknown as Env;
}

function countResult(result: D1Result | D1Response, sql: string): void {
	countWrites("D1", sql, result.meta.rows_written ?? 0);
	counts.d1.queries++;
	counts.d1.rowsRead += result.meta.rows_read ?? 0;
	counts.d1.rowsWritten += result.meta.rows_written ?? 0;
}

class MeteredStatement {
	constructor(
		readonly real: D1PreparedStatement,
		readonly sql: string,
	) {}
	bind(...values: unknown[]) {
		return new MeteredStatement(this.real.bind(...values), this.sql);
	}
	async run() {
		const result = await this.real.run();
		countResult(result, this.sql);
		return result;
	}
	async all() {
		const result = await this.real.all();
		countResult(result, this.sql);
		return result;
	}
	/** D1's first() reports no meta: read through all(), as first() reads the same rows. */
	async first(column?: string) {
		const result = await this.real.all<Record<string, unknown>>();
		countResult(result, this.sql);
		const row = result.results[0];
		if (row === undefined) return null;
		return column === undefined ? row : (row[column] ?? null);
	}
	async raw(options?: { columnNames?: boolean }) {
		counts.d1.queries++;
		return this.real.raw(options as { columnNames: true });
	}
}

function meteredD1(db: D1Database): D1Database {
	return new Proxy(db, {
		get(target, prop) {
			if (prop === "prepare") return (sql: string) => new MeteredStatement(target.prepare(sql), sql);
			if (prop === "batch") {
				return async (statements: MeteredStatement[]) => {
					const results = await target.batch(statements.map((statement) => statement.real));
					results.forEach((result, i) => countResult(result, (statements[i] as MeteredStatement).sql));
					return results;
				};
			}
			const value = Reflect.get(target, prop);
			return typeof value === "function" ? value.bind(target) : value;
		},
	});
}

function meteredR2(bucket: R2Bucket): R2Bucket {
	const classA = new Set(["put", "delete", "list", "createMultipartUpload", "resumeMultipartUpload"]);
	const classB = new Set(["get", "head"]);
	return new Proxy(bucket, {
		get(target, prop) {
			const value = Reflect.get(target, prop);
			if (typeof value !== "function") return value;
			return (...args: unknown[]) => {
				if (classA.has(String(prop))) counts.r2.classA++;
				else if (classB.has(String(prop))) counts.r2.classB++;
				return (value as (...a: unknown[]) => unknown).apply(target, args);
			};
		},
	});
}

function meteredNamespace(namespace: DurableObjectNamespace, className: string): DurableObjectNamespace {
	const stubFor = (id: DurableObjectId, stub: DurableObjectStub) =>
		new Proxy(stub, {
			get(target, prop) {
				if (prop === "then" || typeof prop === "symbol") return undefined;
				return async (...args: unknown[]) => {
					objectCounts(className).rpc++;
					const startedAt = Date.now();
					try {
						return await (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[prop]!(...args);
					} finally {
						active(className, id.toString(), startedAt, Date.now());
					}
				};
			},
		});
	return new Proxy(namespace, {
		get(target, prop) {
			if (prop === "getByName") return (name: string) => stubFor(target.idFromName(name), target.getByName(name));
			if (prop === "get") return (id: DurableObjectId) => stubFor(id, target.get(id));
			const value = Reflect.get(target, prop);
			return typeof value === "function" ? value.bind(target) : value;
		},
	});
}

/**
 * Counts an object's own storage: each SQLite cursor's rows and each alarm set. The runtime accepts
 * only its own DurableObjectState, so rather than wrap the state this patches the storage classes'
 * prototypes (once) and tells each storage which class it belongs to.
 */
const classOfStorage = new WeakMap<object, string>();
let storagePatched = false;

export function meterStorage(ctx: DurableObjectState, className: string): void {
	const { storage } = ctx;
	classOfStorage.set(storage, className);
	classOfStorage.set(storage.sql, className);
	if (storagePatched) return;
	storagePatched = true;
	const sqlPrototype = Object.getPrototypeOf(storage.sql) as { exec: (this: SqlStorage, query: string, ...bindings: unknown[]) => SqlStorageCursor<Record<string, SqlStorageValue>> };
	const exec = sqlPrototype.exec;
	sqlPrototype.exec = function (query, ...bindings) {
		return meteredCursor(exec.call(this, query, ...bindings), classOfStorage.get(this) ?? "unknown", query);
	};
	const storagePrototype = Object.getPrototypeOf(storage) as { setAlarm: (this: DurableObjectStorage, ...args: unknown[]) => Promise<void> };
	const setAlarm = storagePrototype.setAlarm;
	storagePrototype.setAlarm = function (...args) {
		objectCounts(classOfStorage.get(this) ?? "unknown").setAlarm++;
		return setAlarm.apply(this, args);
	};
}

/**
 * A cursor read to its end at once (as the gateway's code always does), so its rowsRead and
 * rowsWritten are final; handed back as a cursor over the rows read.
 */
function meteredCursor<T extends Record<string, SqlStorageValue>>(cursor: SqlStorageCursor<T>, className: string, query: string): SqlStorageCursor<T> {
	const columnNames = cursor.columnNames;
	const raw = [...cursor.raw()] as SqlStorageValue[][];
	// wrangler dev's own bookkeeping of each object's name: not the gateway's, and not there in production.
	if (!query.includes("__miniflare_do_name")) {
		const counted = objectCounts(className);
		counted.rowsRead += cursor.rowsRead;
		counted.rowsWritten += cursor.rowsWritten;
		countWrites(className, query, cursor.rowsWritten);
	}
	const rows = raw.map((values) => Object.fromEntries(columnNames.map((name, i) => [name, values[i]])) as T);
	let next = 0;
	const replay = {
		columnNames,
		rowsRead: cursor.rowsRead,
		rowsWritten: cursor.rowsWritten,
		toArray: () => rows.slice(next),
		one: () => {
			if (rows.length !== 1) throw new Error(`Expected exactly one result from SQL query, but got ${rows.length}.`);
			return rows[0] as T;
		},
		raw: () => raw.slice(next)[Symbol.iterator](),
		next: () => (next < rows.length ? { done: false, value: rows[next++] as T } : { done: true, value: undefined }),
		[Symbol.iterator]() {
			return this;
		},
	};
	return replay as unknown as SqlStorageCursor<T>;
}
