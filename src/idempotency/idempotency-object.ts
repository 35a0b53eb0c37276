/**
 * One object per (client API key, Idempotency-Key): the same key with the same body within
 * 24 hours gets the first create's taskId, with no second upstream call, also when the requests
 * arrive at the same moment. Each decision is one synchronous step on the object's storage.
 *
 * A create in flight holds a lease, renewed while it runs; a duplicate arriving meanwhile waits
 * for its outcome and shares it, failure included (requests sent together are one request). A
 * failure is not kept for later: a retry arriving after it creates again. If the create's Worker
 * went silent, its lease runs out with the outcome unknown (the create may have been sent): the
 * key is in doubt, as after an upstream timeout, until the task is adopted through the create's
 * ref (the create journal, the task's callback) or DOUBT_MS pass.
 */
import { DurableObject } from "cloudflare:workers";
import { settleAlarm } from "../lib/durable-alarm";
import type { CreateFailure } from "../domain/create-failure";

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
const WAIT_STEP_MS = 50;

export type Claim =
	| { kind: "proceed"; claimId: string }
	| { kind: "replay"; taskId: string }
	| { kind: "mismatch" }
	/** The create this request waited on failed: the same answer, with no second attempt. */
	| { kind: "failed"; failure: CreateFailure }
	/**
	 * The key's create timed out upstream, or its Worker went silent past the lease; the upstream
	 * may have made the task all the same: until the task is learnt (and the key replays it) or
	 * the doubt runs out, no second create.
	 */
	| { kind: "in-doubt"; retryAfterMs: number };

/**
 * How long a key whose create timed out waits for the upstream's callback to adopt the task
 * before a retry may create again. The provider calls back when the lyrics are done, within
 * minutes.
 */
const DOUBT_MS = 15 * 60 * 1000;
const IN_DOUBT_RETRY_MS = 30_000;

type KeyRecord = {
	fingerprint: string;
	claim_id: string;
	task_id: string | null;
	started_at: number;
	lease_until: number;
	/** JSON of the failure of the create under claim_id, kept only for requests waiting on it. */
	failure: string | null;
	/** The ref of the callback URL minted for the create under claim_id (null: a claim made before refs were kept). */
	claim_ref: string | null;
	/** The callback ref of a create that timed out upstream, and until when its callback is awaited. */
	doubt_ref: string | null;
	doubt_until: number | null;
};

export class IdempotencyObject extends DurableObject<Env> {
	private readonly sql: SqlStorage;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.sql.exec(`CREATE TABLE IF NOT EXISTS key_record (
			id INTEGER PRIMARY KEY CHECK (id = 1),
			fingerprint TEXT NOT NULL,
			claim_id TEXT NOT NULL,
			task_id TEXT,
			started_at INTEGER NOT NULL,
			lease_until INTEGER NOT NULL,
			failure TEXT,
			doubt_ref TEXT,
			doubt_until INTEGER,
			claim_ref TEXT
		)`);
		// Objects made before claims kept their ref.
		const columns = this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('key_record')").toArray();
		if (!columns.some((column) => column.name === "claim_ref")) this.sql.exec("ALTER TABLE key_record ADD COLUMN claim_ref TEXT");
		// Adoptions told before the key heard of its doubt (the callback can beat doubt()).
		this.sql.exec("CREATE TABLE IF NOT EXISTS adoptions (ref TEXT PRIMARY KEY, task_id TEXT NOT NULL)");
	}

	/**
	 * Replays a finished create, refuses another body, or lets this request create (waiting out
	 * one in flight) under a lease of `leaseMs`, for the create whose callback URL has ref `ref`.
	 */
	async claim(fingerprint: string, ref: string, leaseMs: number): Promise<Claim> {
		/** The claim whose outcome this request waits for, once it has had to wait. */
		let waitingOn: string | null = null;
		for (;;) {
			const decision = this.decide(fingerprint, ref, leaseMs, Date.now(), waitingOn);
			if ("wait" in decision) {
				waitingOn = decision.wait;
				await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
				continue;
			}
			if (decision.kind === "proceed") await settleAlarm(this.ctx.storage, Date.now() + IDEMPOTENCY_WINDOW_MS);
			return decision;
		}
	}

	private decide(fingerprint: string, ref: string, leaseMs: number, now: number, waitingOn: string | null): Claim | { wait: string } {
		let record = this.load();
		if (record && now >= record.started_at + IDEMPOTENCY_WINDOW_MS) {
			this.clear();
			record = null;
		}
		if (record && !record.task_id) {
			if (record.failure && record.claim_id === waitingOn) return { kind: "failed", failure: JSON.parse(record.failure) as CreateFailure };
			const doubtUntil = doubtfulUntil(record, now);
			if (doubtUntil !== null && doubtUntil > now) {
				if (record.fingerprint === fingerprint) return { kind: "in-doubt", retryAfterMs: Math.min(IN_DOUBT_RETRY_MS, doubtUntil - now) };
			}
			// A failure is not remembered for anyone who was not waiting on it, nor a doubt once it is over.
			else if (record.failure || doubtUntil !== null) record = null;
		}
		if (record && record.fingerprint !== fingerprint) return { kind: "mismatch" };
		if (record?.task_id) return { kind: "replay", taskId: record.task_id };
		if (record && record.lease_until > now) return { wait: record.claim_id };
		const claimId = crypto.randomUUID();
		this.sql.exec(
			`INSERT OR REPLACE INTO key_record (id, fingerprint, claim_id, task_id, started_at, lease_until, failure, doubt_ref, doubt_until, claim_ref)
			VALUES (1, ?, ?, NULL, ?, ?, NULL, NULL, NULL, ?)`,
			fingerprint,
			claimId,
			record?.started_at ?? now,
			now + leaseMs,
			ref,
		);
		return { kind: "proceed", claimId };
	}

	/** The create under this claim is still running: its lease runs `leaseMs` from now. False once it has lapsed. */
	renew(claimId: string, leaseMs: number): boolean {
		const now = Date.now();
		const { rowsWritten } = this.sql.exec(
			"UPDATE key_record SET lease_until = ? WHERE claim_id = ? AND task_id IS NULL AND failure IS NULL AND lease_until > ?",
			now + leaseMs,
			claimId,
			now,
		);
		return rowsWritten > 0;
	}

	/** The create under this claim succeeded: later requests with the key replay its taskId. */
	complete(claimId: string, taskId: string): void {
		this.sql.exec("UPDATE key_record SET task_id = ? WHERE claim_id = ? AND task_id IS NULL", taskId, claimId);
	}

	/**
	 * The create under this claim failed (even after the upstream named a task it then could not
	 * be tracked under): requests already waiting on it get `failure`; anyone later creates afresh.
	 */
	release(claimId: string, failure?: CreateFailure): void {
		if (failure) {
			this.sql.exec(
				"UPDATE key_record SET failure = ?, task_id = NULL, lease_until = 0 WHERE claim_id = ?",
				JSON.stringify(failure),
				claimId,
			);
		} else {
			this.sql.exec("DELETE FROM key_record WHERE claim_id = ?", claimId);
		}
	}

	/**
	 * The create under this claim timed out upstream with callback ref `ref`: waiting requests get
	 * `failure`; later ones are told to come back until the callback adopts the task (adopt) or
	 * DOUBT_MS pass.
	 */
	doubt(claimId: string, failure: CreateFailure, ref: string): void {
		this.sql.exec(
			"UPDATE key_record SET failure = ?, doubt_ref = ?, doubt_until = ?, lease_until = 0 WHERE claim_id = ? AND task_id IS NULL",
			JSON.stringify(failure),
			ref,
			Date.now() + DOUBT_MS,
			claimId,
		);
		const adopted = this.sql.exec<{ task_id: string }>("SELECT task_id FROM adoptions WHERE ref = ?", ref).toArray()[0];
		if (adopted) this.adopt(ref, adopted.task_id);
	}

	/**
	 * The create with callback ref `ref` made task `taskId` (adopted from its callback, or
	 * registered from the create journal): the key replays it from now on.
	 */
	adopt(ref: string, taskId: string): void {
		if (!this.load()) return; // the key's window is over: nothing to tell
		this.sql.exec("INSERT OR REPLACE INTO adoptions (ref, task_id) VALUES (?, ?)", ref, taskId);
		this.sql.exec("UPDATE key_record SET task_id = ? WHERE (doubt_ref = ? OR claim_ref = ?) AND task_id IS NULL", taskId, ref, ref);
	}

	/** The window is over: the key may be used again for a new task. Safe to run twice. */
	override async alarm(): Promise<void> {
		const record = this.load();
		if (!record) return;
		const expires = record.started_at + IDEMPOTENCY_WINDOW_MS;
		if (Date.now() >= expires) this.clear();
		else await settleAlarm(this.ctx.storage, expires);
	}

	private load(): KeyRecord | null {
		return this.sql.exec<KeyRecord>("SELECT * FROM key_record WHERE id = 1").toArray()[0] ?? null;
	}

	private clear(): void {
		this.sql.exec("DELETE FROM key_record");
		this.sql.exec("DELETE FROM adoptions");
	}
}

/**
 * Until when the key's create is in doubt (null: it is not): after an upstream timeout, or once
 * the lease of a create that may have been sent ran out with no word from its Worker.
 */
function doubtfulUntil(record: KeyRecord, now: number): number | null {
	if (record.doubt_ref !== null) return record.doubt_until ?? 0;
	const silent = record.failure === null && record.claim_ref !== null && record.lease_until <= now;
	return silent ? record.lease_until + DOUBT_MS : null;
}

export function idempotencyObject(env: Env, scope: string) {
	return env.IDEMPOTENCY.getByName(scope);
}
