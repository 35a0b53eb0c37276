/**
 * The upstream accepts at most KIE_CREATE_LIMIT creates in any 10 seconds per account, and
 * refuses (not queues) the rest. One object counts every create the gateway sends, from every
 * Worker instance, in a sliding window: exact, not a fixed-bucket estimate, so no 10 s span ever
 * holds more than the limit. Each decision is one synchronous storage step.
 *
 * Shared fairly: while other tenants are active (they asked to create, granted or refused, within
 * the last minute), no tenant takes more than its share of the limit, the limit divided by the
 * active tenants, rounded up; so one tenant's burst leaves room for the others. A tenant alone may
 * use all of it. Whatever the shares, the limit itself is never exceeded.
 */
import { DurableObject } from "cloudflare:workers";

const CREATE_WINDOW_MS = 10_000;
/**
 * A slot is taken when the permit is granted, a little before the create reaches the upstream,
 * and that lag varies: counting over one more second keeps any 10 s the upstream sees within the
 * limit too.
 */
const ARRIVAL_MARGIN_MS = 1_000;
const COUNTED_MS = CREATE_WINDOW_MS + ARRIVAL_MARGIN_MS;
/** A tenant that asked within this long is active: it shares the limit. */
export const ACTIVE_MS = 60_000;
/**
 * A tenant's last ask is stored at most this often (each store is a row written, billed): so a
 * tenant is active for 55 to 60 s after its last ask, whatever its rate.
 */
const ASK_STORED_EVERY_MS = 5_000;

export type Permit =
	| { granted: true }
	/** `share`: the tenant's share of the limit, when that (not the limit) refused it. */
	| { granted: false; retryAfterMs: number; share?: number };

export class CreateRateLimiter extends DurableObject<Env> {
	private readonly sql: SqlStorage;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.sql.exec("CREATE TABLE IF NOT EXISTS sends (at INTEGER NOT NULL, tenant TEXT NOT NULL)");
		this.sql.exec("CREATE TABLE IF NOT EXISTS asks (tenant TEXT PRIMARY KEY, at INTEGER NOT NULL)");
	}

	/** Takes a slot for one of `tenant`'s creates now, or says when one frees up for it. */
	acquire(limit: number, tenant: string, now: number = Date.now()): Permit {
		const counted = now - COUNTED_MS;
		this.sql.exec("DELETE FROM asks WHERE at <= ?", now - ACTIVE_MS);
		this.sql.exec(
			"INSERT INTO asks (tenant, at) VALUES (?, ?) ON CONFLICT (tenant) DO UPDATE SET at = excluded.at WHERE asks.at <= excluded.at - ?",
			tenant,
			now,
			ASK_STORED_EVERY_MS,
		);
		const all = this.sql.exec<{ count: number; oldest: number | null }>("SELECT COUNT(*) AS count, MIN(at) AS oldest FROM sends WHERE at > ?", counted).one();
		if (all.count >= limit) return { granted: false, retryAfterMs: freesIn(all.oldest, now) };
		const active = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM asks").one().n;
		if (active > 1) {
			const share = Math.ceil(limit / active);
			const mine = this.sql
				.exec<{ count: number; oldest: number | null }>("SELECT COUNT(*) AS count, MIN(at) AS oldest FROM sends WHERE tenant = ? AND at > ?", tenant, counted)
				.one();
			if (mine.count >= share) return { granted: false, retryAfterMs: freesIn(mine.oldest, now), share };
		}
		// A slot out of the window is taken over rather than deleted and another inserted: one row
		// written per create, not two (rows written are billed). The table keeps as many rows as the
		// window ever held at once.
		const reused = this.sql.exec("UPDATE sends SET at = ?, tenant = ? WHERE rowid = (SELECT rowid FROM sends WHERE at <= ? LIMIT 1)", now, tenant, counted);
		if (reused.rowsWritten === 0) this.sql.exec("INSERT INTO sends (at, tenant) VALUES (?, ?)", now, tenant);
		return { granted: true };
	}
}

function freesIn(oldest: number | null, now: number): number {
	return Math.max(1, (oldest ?? now) + COUNTED_MS - now);
}

/**
 * The deployment's one limiter: one upstream account, whatever its key is called today, so
 * rotating KIE_API_KEY keeps the window (naming it by the key's digest, as earlier versions did,
 * started a new window, and a new burst, at each rotation).
 */
export function createRateLimiter(env: Env) {
	return env.CREATE_LIMITER.getByName("upstream-creates");
}
