/**
 * The cost bench's meter (bench/cost.mjs): counts, inside the Worker, every operation Cloudflare
 * bills, as the runtime reports it where it does (D1's `meta.rows_read` / `rows_written`, each
 * SQLite cursor's `rowsRead` / `rowsWritten`) and by counting calls elsewhere (invocations, Durable
 * Object requests, alarms set, R2 calls, the time each object is active). Only the metered entry
 * (./metered-worker.ts) uses it; the gateway itself is unchanged.
 */

export interface Counts {
	invocations: { fetch: number; scheduled: number; alarm: number };
	/** Per Durable Object class: RPC calls received, alarms run, SQLite rows read and written, alarms set. */
	objects: Record<string, { rpc: number; alarms: number; rowsRead: number; rowsWritten: number; setAlarm: number; activeMs: number }>;
	d1: { queries: number; rowsRead: number; rowsWritten: number };
	r2: { classA: number; classB: number };
	/** Rows written per statement (D1's and the objects' own), to see where the writes go. */
	writesByStatement: Record<string, number>;
}

export const counts: Counts = {
	invocations: { fetch: 0, scheduled: 0, alarm: 0 },
	objects: {},
	d1: { queries: 0, rowsRead: 0, rowsWritten: 0 },
	r2: { classA: 0, classB: 0 },
	writesByStatement: {},
};

export function countWrites(where: string, query: string, rows: number): void {
	if (rows === 0) return;
	const key = `${where}: ${query.replace(/\s+/g, " ").trim().slice(0, 90)}`;
	counts.writesByStatement[key] = (counts.writesByStatement[key] ?? 0) + rows;
}

export function objectCounts(className: string) {
	return (counts.objects[className] ??= { rpc: 0, alarms: 0, rowsRead: 0, rowsWritten: 0, setAlarm: 0, activeMs: 0 });
}

/**
 * Active time per object, the union of the intervals it spent handling calls and alarms (an
 * object handling two calls at once is billed once for the overlap).
 */
const activeUntil = new Map<string, number>();
export function active(className: string, objectId: string, startedAt: number, endedAt: number): void {
	const until = activeUntil.get(objectId) ?? 0;
	const from = Math.max(startedAt, until);
	if (endedAt > from) objectCounts(className).activeMs += endedAt - from;
	activeUntil.set(objectId, Math.max(until, endedAt));
}

export function reset(): void {
	counts.invocations = { fetch: 0, scheduled: 0, alarm: 0 };
	counts.objects = {};
	counts.d1 = { queries: 0, rowsRead: 0, rowsWritten: 0 };
	counts.r2 = { classA: 0, classB: 0 };
	counts.writesByStatement = {};
	activeUntil.clear();
}
