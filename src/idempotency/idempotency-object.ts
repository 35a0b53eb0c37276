/**
 * One object per (client API key, Idempotency-Key): the same key with the same body within
 * 24 hours gets the first create's taskId, with no second upstream call, also when the requests
 * arrive at the same moment. Each decision is one synchronous step on the object's storage.
 *
 * A create in flight holds a lease; a duplicate arriving meanwhile waits for its outcome and
 * shares it, failure included (requests sent together are one request). A failure is not kept
 * for later: a retry arriving after it creates again. If the create's Worker vanished without a
 * word, the lease runs out and a waiting duplicate takes the key over.
 */
import { DurableObject } from "cloudflare:workers";
import { settleAlarm } from "../lib/durable-alarm";
import type { CreateFailure } from "../domain/create-failure";

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Longer than any create can take: the upstream deadline (at most 15 s) plus registering the task. */
const CLAIM_LEASE_MS = 30_000;
const WAIT_STEP_MS = 50;

export type Claim =
	| { kind: "proceed"; claimId: string }
	| { kind: "replay"; taskId: string }
	| { kind: "mismatch" }
	/** The create this request waited on failed: the same answer, with no second attempt. */
	| { kind: "failed"; failure: CreateFailure }
	/**
	 * The key's create timed out upstream, which may have made the task all the same: until its
	 * callback says so (and the key replays that task) or the doubt runs out, no second create.
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
			doubt_until INTEGER
		)`);
		// Adoptions told before the key heard of its doubt (the callback can beat doubt()).
		this.sql.exec("CREATE TABLE IF NOT EXISTS adoptions (ref TEXT PRIMARY KEY, task_id TEXT NOT NULL)");
	}

	/** Replays a finished create, refuses another body, or lets this request create (waiting out one in flight). */
	async claim(fingerprint: string): Promise<Claim> {
		/** The claim whose outcome this request waits for, once it has had to wait. */
		let waitingOn: string | null = null;
		for (;;) {
			const decision = this.decide(fingerprint, Date.now(), waitingOn);
			if ("wait" in decision) {
				waitingOn = decision.wait;
				await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
				continue;
			}
			if (decision.kind === "proceed") await settleAlarm(this.ctx.storage, Date.now() + IDEMPOTENCY_WINDOW_MS);
			return decision;
		}
	}

	private decide(fingerprint: string, now: number, waitingOn: string | null): Claim | { wait: string } {
		let record = this.load();
		if (record && now >= record.started_at + IDEMPOTENCY_WINDOW_MS) {
			this.clear();
			record = null;
		}
		if (record && !record.task_id && record.failure) {
			if (record.claim_id === waitingOn) return { kind: "failed", failure: JSON.parse(record.failure) as CreateFailure };
			const inDoubt = record.doubt_ref !== null && (record.doubt_until ?? 0) > now;
			if (inDoubt && record.fingerprint === fingerprint) {
				return { kind: "in-doubt", retryAfterMs: Math.min(IN_DOUBT_RETRY_MS, (record.doubt_until as number) - now) };
			}
			// A failure is not remembered for anyone who was not waiting on it.
			if (!inDoubt) record = null;
		}
		if (record && record.fingerprint !== fingerprint) return { kind: "mismatch" };
		if (record?.task_id) return { kind: "replay", taskId: record.task_id };
		if (record && record.lease_until > now) return { wait: record.claim_id };
		const claimId = crypto.randomUUID();
		this.sql.exec(
			`INSERT OR REPLACE INTO key_record (id, fingerprint, claim_id, task_id, started_at, lease_until, failure, doubt_ref, doubt_until)
			VALUES (1, ?, ?, NULL, ?, ?, NULL, NULL, NULL)`,
			fingerprint,
			claimId,
			record?.started_at ?? now,
			now + CLAIM_LEASE_MS,
		);
		return { kind: "proceed", claimId };
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

	/** The timed-out create's callback adopted task `taskId`: the key replays it from now on. */
	adopt(ref: string, taskId: string): void {
		if (!this.load()) return; // the key's window is over: nothing to tell
		this.sql.exec("INSERT OR REPLACE INTO adoptions (ref, task_id) VALUES (?, ?)", ref, taskId);
		this.sql.exec("UPDATE key_record SET task_id = ? WHERE doubt_ref = ? AND task_id IS NULL", taskId, ref);
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

export function idempotencyObject(env: Env, scope: string) {
	return env.IDEMPOTENCY.getByName(scope);
}
