/**
 * The upstream accepts at most KIE_CREATE_LIMIT creates in any 10 seconds per API key, and
 * refuses (not queues) the rest. One object per upstream key counts every create the gateway
 * sends, from every Worker instance, in a sliding window: exact, not a fixed-bucket estimate,
 * so no 10 s span ever holds more than the limit. Each decision is one synchronous storage step.
 */
import { DurableObject } from "cloudflare:workers";
import { sha256Hex } from "../lib/digest";

const CREATE_WINDOW_MS = 10_000;
/**
 * A slot is taken when the permit is granted, a little before the create reaches the upstream,
 * and that lag varies: counting over one more second keeps any 10 s the upstream sees within the
 * limit too.
 */
const ARRIVAL_MARGIN_MS = 1_000;
const COUNTED_MS = CREATE_WINDOW_MS + ARRIVAL_MARGIN_MS;

export type Permit = { granted: true } | { granted: false; retryAfterMs: number };

export class CreateRateLimiter extends DurableObject<Env> {
	private readonly sql: SqlStorage;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.sql.exec("CREATE TABLE IF NOT EXISTS sends (at INTEGER NOT NULL)");
	}

	/** Takes a slot for one create now, or says when the oldest slot in the window frees up. */
	acquire(limit: number, now: number = Date.now()): Permit {
		this.sql.exec("DELETE FROM sends WHERE at <= ?", now - COUNTED_MS);
		const row = this.sql.exec<{ count: number; oldest: number | null }>("SELECT COUNT(*) AS count, MIN(at) AS oldest FROM sends").one();
		if (row.count < limit) {
			this.sql.exec("INSERT INTO sends (at) VALUES (?)", now);
			return { granted: true };
		}
		return { granted: false, retryAfterMs: Math.max(1, (row.oldest ?? now) + COUNTED_MS - now) };
	}
}

/** The limiter of one upstream key; named by the key's digest, never the key. */
export async function createRateLimiter(env: Env, kieApiKey: string) {
	return env.CREATE_LIMITER.getByName(`kie-key:${await sha256Hex(kieApiKey)}`);
}
