/**
 * A create under an Idempotency-Key. The key's object decides before anything is spent: replay
 * the key's task, refuse another body, make a retry wait while the first create's outcome is in
 * doubt, or let this request create (holding the key's lease, renewed while the create runs). The
 * lease then learns how the create ended: the taskId as soon as the upstream names it, or the
 * failure (kept for requests waiting on it, or the key held in doubt after an upstream timeout).
 * If the key cannot be told, the lease lapses with the outcome unknown and the key is in doubt:
 * it learns the task from the create journal (the cron registers the task and tells the key).
 */
import type { CreateFailure, CreateOutcome } from "../domain/create-failure";
import { idempotencyObject } from "../idempotency/idempotency-object";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import { withRetries } from "../lib/retry";
import { coordinationUnavailable, keyInDoubt, keyReused } from "./failures";

export interface IdempotencyKey {
	/** The key's object: a digest of the tenant and the key (src/idempotency/idempotency-key.ts). */
	scope: string;
	/** The request as parsed: the same key with another body is refused. */
	fingerprint: string;
}

/**
 * The lease a create holds on its key, and how often it is renewed while the create runs (the
 * slowest create, with every deadline hit, takes about 20 s). Tests shorten them.
 */
export const keyLeaseTiming = { leaseMs: 30_000, renewEveryMs: 10_000 };

export type KeyClaim = { proceed: true; lease: KeyLease } | { proceed: false; outcome: CreateOutcome };

/** Claims the key for the create whose callback URL has ref `ref`. */
export async function claimKey(env: Env, key: IdempotencyKey, ref: string): Promise<KeyClaim> {
	const keyObject = idempotencyObject(env, key.scope);
	let claim: Awaited<ReturnType<typeof keyObject.claim>>;
	try {
		claim = await keyObject.claim(key.fingerprint, ref, keyLeaseTiming.leaseMs);
	} catch (error) {
		logEvent("error", "create_coordination_failed", { error: errorMessage(error) });
		return stop(coordinationUnavailable());
	}
	switch (claim.kind) {
		case "proceed":
			return { proceed: true, lease: new KeyLease(keyObject, claim.claimId) };
		case "replay":
			return { proceed: false, outcome: { ok: true, taskId: claim.taskId, replayed: true } };
		case "mismatch":
			return stop(keyReused());
		case "failed":
			return stop(claim.failure);
		case "in-doubt":
			return stop(keyInDoubt(claim.retryAfterMs));
	}
}

function stop(failure: CreateFailure): KeyClaim {
	return { proceed: false, outcome: { ok: false, failure } };
}

type KeyObject = ReturnType<typeof idempotencyObject>;

export class KeyLease {
	private learned = false;
	private sent = false;
	private readonly renewal: ReturnType<typeof setInterval>;

	constructor(
		private readonly keyObject: KeyObject,
		private readonly claimId: string,
	) {
		const { leaseMs, renewEveryMs } = keyLeaseTiming;
		this.renewal = setInterval(() => {
			keyObject.renew(claimId, leaseMs).catch((error: unknown) => logEvent("warn", "idempotency_renew_failed", { error: errorMessage(error) }));
		}, renewEveryMs);
	}

	/**
	 * The upstream named the task: the key replays it from now on. Told before the task is
	 * registered, so a slow registration cannot outlast the lease and let a waiting duplicate
	 * create (and pay) again.
	 */
	async learn(taskId: string): Promise<boolean> {
		this.learned = await this.tell(() => this.keyObject.complete(this.claimId, taskId));
		return this.learned;
	}

	/** The create is about to be sent upstream: from now on its outcome may be a task. */
	markSent(): void {
		this.sent = true;
	}

	/** How the create ended (null: it threw). A failure is not kept for later retries, but for an upstream timeout. */
	async settle(outcome: CreateOutcome | null): Promise<void> {
		clearInterval(this.renewal);
		// Threw after sending: the outcome is unknown. Left to lapse, the lease puts the key in doubt.
		if (!outcome && this.sent) return;
		if (outcome?.ok) {
			if (!this.learned) await this.learn(outcome.taskId);
			return;
		}
		const failure = outcome?.failure;
		const { ref } = failure ?? {};
		// Timed out upstream and recorded for adoption: the key waits for the task's callback.
		if (failure?.kind === "upstream-timeout" && ref) await this.tell(() => this.keyObject.doubt(this.claimId, failure, ref));
		// Requests waiting on this one share its failure, but not a failure to reach the gateway's own storage.
		else await this.tell(() => this.keyObject.release(this.claimId, failure?.kind === "unavailable" ? undefined : failure));
	}

	/**
	 * The key's object must learn the outcome, or duplicates wait out the lease (and then the
	 * doubt): a passing failure to reach it is retried.
	 */
	private async tell(step: () => Promise<void>): Promise<boolean> {
		const told = await withRetries(step, {
			retries: 2,
			backoff: { firstMs: 100, maxMs: 200 },
			gaveUp: "gave-up" as const,
			onError: (error, attempt) => logEvent("error", "idempotency_settle_failed", { attempt, error: errorMessage(error) }),
		});
		if (told !== "gave-up") return true;
		logEvent("error", "idempotency_settle_gave_up", {});
		return false;
	}
}
