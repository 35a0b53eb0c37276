/**
 * Creates per tenant per UTC day, across every Worker instance: one object counts them all, so a
 * quota is decided and the create reserved in one synchronous storage step (no await between
 * the check and the write), and concurrent creates never overshoot it.
 */
import { DurableObject } from "cloudflare:workers";

/** Days kept: today and yesterday (a create reserved just before midnight may be released after it). */
const DAYS_KEPT = 2;
const DAY_MS = 24 * 60 * 60 * 1000;

export type Reservation = { granted: true } | { granted: false; creates: number };

export class TenantQuota extends DurableObject<Env> {
	private readonly sql: SqlStorage;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.sql.exec(
			"CREATE TABLE IF NOT EXISTS creates (day TEXT NOT NULL, tenant TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (day, tenant))",
		);
	}

	/** Counts one create of `tenant` on `day` if it stays within `quota` (null: no quota). */
	reserve(tenant: string, day: string, quota: number | null): Reservation {
		this.forgetBefore(day);
		const creates = this.createsOf(tenant, day);
		if (quota !== null && creates >= quota) return { granted: false, creates };
		this.sql.exec(
			"INSERT INTO creates (day, tenant, count) VALUES (?, ?, 1) ON CONFLICT (day, tenant) DO UPDATE SET count = count + 1",
			day,
			tenant,
		);
		return { granted: true };
	}

	/** Gives back a reservation whose create was refused before it was sent upstream. */
	release(tenant: string, day: string): void {
		this.sql.exec("UPDATE creates SET count = count - 1 WHERE day = ? AND tenant = ? AND count > 0", day, tenant);
	}

	/** Every tenant's creates on `day`. */
	counts(day: string): Record<string, number> {
		const rows = this.sql.exec<{ tenant: string; count: number }>("SELECT tenant, count FROM creates WHERE day = ? AND count > 0", day);
		return Object.fromEntries(rows.toArray().map((row) => [row.tenant, row.count]));
	}

	private createsOf(tenant: string, day: string): number {
		return this.sql.exec<{ count: number }>("SELECT count FROM creates WHERE day = ? AND tenant = ?", day, tenant).toArray()[0]?.count ?? 0;
	}

	private forgetBefore(day: string): void {
		const oldest = new Date(Date.parse(`${day}T00:00:00Z`) - (DAYS_KEPT - 1) * DAY_MS).toISOString().slice(0, 10);
		this.sql.exec("DELETE FROM creates WHERE day < ?", oldest);
	}
}

/** The one object that counts every tenant's creates. */
export function tenantQuotaObject(env: Env) {
	return env.TENANT_QUOTA.getByName("tenant-creates");
}
