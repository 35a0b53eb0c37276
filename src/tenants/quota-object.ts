/**
 * Creates per tenant per UTC day, across every Worker instance: one object counts them all, so a
 * quota is decided and the create reserved in one synchronous storage step (no await between
 * the check and the write), and concurrent creates never overshoot it.
 *
 * A reservation is a lease: it holds one of the tenant's creates while the create gets ready, is
 * committed (counted for the day) just before the create is sent, and otherwise lapses by itself
 * at `expires_at`. So a create that was never sent, because the Worker failed to give it back or
 * vanished, returns its slot within the lease, not the next day.
 */
import { DurableObject } from "cloudflare:workers";

/** Days kept: today and yesterday (a create reserved just before midnight may be committed after it). */
const DAYS_KEPT = 2;
const DAY_MS = 24 * 60 * 60 * 1000;

export type Reservation = { granted: true; reservationId: string } | { granted: false; creates: number };

export class TenantQuota extends DurableObject<Env> {
	private readonly sql: SqlStorage;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.sql.exec(
			"CREATE TABLE IF NOT EXISTS creates (day TEXT NOT NULL, tenant TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (day, tenant))",
		);
		// committed: counted in `creates`, kept (until it lapses) so a release after all takes the count back.
		this.sql.exec(
			"CREATE TABLE IF NOT EXISTS reservations (id TEXT PRIMARY KEY, day TEXT NOT NULL, tenant TEXT NOT NULL, expires_at INTEGER NOT NULL, committed INTEGER NOT NULL DEFAULT 0)",
		);
		// Made before reservations were kept once committed.
		const columns = this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('reservations')").toArray();
		if (!columns.some((column) => column.name === "committed")) this.sql.exec("ALTER TABLE reservations ADD COLUMN committed INTEGER NOT NULL DEFAULT 0");
	}

	/** Holds one create of `tenant` on `day` for `holdMs` if it stays within `quota`, counting the creates held. */
	reserve(tenant: string, day: string, quota: number, holdMs: number): Reservation {
		const now = Date.now();
		this.forgetBefore(day, now);
		const creates = this.createsOf(tenant, day) + this.heldFor(tenant, day, now);
		if (creates >= quota) return { granted: false, creates };
		const reservationId = crypto.randomUUID();
		this.sql.exec("INSERT INTO reservations (id, day, tenant, expires_at) VALUES (?, ?, ?, ?)", reservationId, day, tenant, now + holdMs);
		return { granted: true, reservationId };
	}

	/**
	 * The reserved create is about to be sent: it counts for its day. A reservation that lapsed
	 * (the create took longer than its hold) counts only if the quota still has room; false: do not send.
	 */
	commit(reservationId: string, quota: number): boolean {
		const held = this.sql.exec<{ day: string; tenant: string; expires_at: number; committed: number }>(
			"SELECT day, tenant, expires_at, committed FROM reservations WHERE id = ?",
			reservationId,
		).toArray()[0];
		if (!held) return false;
		// Asked again (its answer was lost on the way): the same answer, counted once.
		if (held.committed) return true;
		const now = Date.now();
		if (held.expires_at <= now && this.createsOf(held.tenant, held.day) + this.heldFor(held.tenant, held.day, now, reservationId) >= quota) {
			this.sql.exec("DELETE FROM reservations WHERE id = ?", reservationId);
			return false;
		}
		this.sql.exec("UPDATE reservations SET committed = 1 WHERE id = ?", reservationId);
		this.count(held.tenant, held.day);
		return true;
	}

	/**
	 * Gives back a reservation whose create was not sent; one already committed (its commit's answer
	 * never reached the create) is taken off the day's count again.
	 */
	release(reservationId: string): void {
		const held = this.sql.exec<{ day: string; tenant: string; committed: number }>(
			"SELECT day, tenant, committed FROM reservations WHERE id = ?",
			reservationId,
		).toArray()[0];
		if (!held) return;
		this.sql.exec("DELETE FROM reservations WHERE id = ?", reservationId);
		if (held.committed) this.sql.exec("UPDATE creates SET count = count - 1 WHERE day = ? AND tenant = ? AND count > 0", held.day, held.tenant);
	}

	/** Counts a create sent by a tenant without a quota (for /api/v1/usage). */
	countSent(tenant: string, day: string): void {
		this.forgetBefore(day, Date.now());
		this.count(tenant, day);
	}

	/** Every tenant's creates on `day`. */
	counts(day: string): Record<string, number> {
		const rows = this.sql.exec<{ tenant: string; count: number }>("SELECT tenant, count FROM creates WHERE day = ? AND count > 0", day);
		return Object.fromEntries(rows.toArray().map((row) => [row.tenant, row.count]));
	}

	private count(tenant: string, day: string): void {
		this.sql.exec(
			"INSERT INTO creates (day, tenant, count) VALUES (?, ?, 1) ON CONFLICT (day, tenant) DO UPDATE SET count = count + 1",
			day,
			tenant,
		);
	}

	private createsOf(tenant: string, day: string): number {
		return this.sql.exec<{ count: number }>("SELECT count FROM creates WHERE day = ? AND tenant = ?", day, tenant).toArray()[0]?.count ?? 0;
	}

	/** Reservations holding a create (not committed: those are counted already), but `except`. */
	private heldFor(tenant: string, day: string, now: number, except = ""): number {
		return (
			this.sql
				.exec<{ held: number }>(
					"SELECT count(*) AS held FROM reservations WHERE day = ? AND tenant = ? AND expires_at > ? AND committed = 0 AND id != ?",
					day,
					tenant,
					now,
					except,
				)
				.toArray()[0]?.held ?? 0
		);
	}

	private forgetBefore(day: string, now: number): void {
		const oldest = new Date(Date.parse(`${day}T00:00:00Z`) - (DAYS_KEPT - 1) * DAY_MS).toISOString().slice(0, 10);
		this.sql.exec("DELETE FROM creates WHERE day < ?", oldest);
		// Lapsed reservations count for nothing; an hour on, not even for a late commit.
		this.sql.exec("DELETE FROM reservations WHERE expires_at < ?", now - 60 * 60 * 1000);
	}
}

/** The one object that counts every tenant's creates. */
export function tenantQuotaObject(env: Env) {
	return env.TENANT_QUOTA.getByName("tenant-creates");
}
