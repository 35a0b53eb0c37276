/**
 * Runs a create under an Idempotency-Key: the first request with the key creates, the same body
 * again replays its taskId, another body answers 422, and a failure leaves nothing behind.
 */
import { GatewayError } from "../routes/shared/errors";
import { logEvent } from "../lib/log";
import type { CreateFailure } from "../upstream/create-failure";
import type { CreateResult } from "../upstream/kie-client";
import { idempotencyObject } from "../idempotency/idempotency-object";
import { errorMessage } from "../lib/error-message";

export type IdempotentCreate = { replayed: true; taskId: string } | { replayed: false; result: CreateResult };

export async function createIdempotently(
	env: Env,
	key: { scope: string; fingerprint: string } | undefined,
	create: (onUpstreamCreated: (taskId: string) => Promise<void>) => Promise<CreateResult>,
): Promise<IdempotentCreate> {
	if (!key) return { replayed: false, result: await create(async () => {}) };
	const keyObject = idempotencyObject(env, key.scope);
	const claim = await keyObject.claim(key.fingerprint);
	if (claim.kind === "mismatch") {
		throw new GatewayError(
			422,
			"This Idempotency-Key was already used with a different body in the last 24 hours. " +
				"Send the same body to get the same task, or use a new key for a new task.",
		);
	}
	if (claim.kind === "replay") return { replayed: true, taskId: claim.taskId };
	if (claim.kind === "failed") return { replayed: false, result: { ok: false, failure: claim.failure } };
	if (claim.kind === "in-doubt") return { replayed: false, result: { ok: false, failure: inDoubt(claim.retryAfterMs) } };

	let result: CreateResult | undefined;
	let recorded = false;
	// The key learns the taskId as soon as the upstream has charged for it, not after the task is
	// registered: a slow registration must not outlast the claim's lease and let a waiting
	// duplicate create (and pay) again.
	const recordTaskId = async (taskId: string) => {
		await settle(() => keyObject.complete(claim.claimId, taskId));
		recorded = true;
	};
	try {
		result = await create(recordTaskId);
	} finally {
		// A failure (or a throw) is not cached: the client's retry with the key creates afresh.
		if (result?.ok === false && result.failure.ref) {
			// Timed out upstream, and recorded for adoption: the key waits for the task's callback.
			const { failure } = result;
			await settle(() => keyObject.doubt(claim.claimId, failure, failure.ref as string));
		} else if (!result?.ok) {
			await settle(() => keyObject.release(claim.claimId, result?.ok === false ? result.failure : undefined));
		}
		else if (!recorded) await recordTaskId(result.taskId);
	}
	return { replayed: false, result };
}

/** A retry of a create that timed out upstream, while its callback may still adopt the task. */
function inDoubt(retryAfterMs: number): CreateFailure {
	const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
	return {
		status: 504,
		code: 504,
		msg:
			"The first create with this Idempotency-Key timed out upstream, which may have made the task all the same. " +
			`The gateway is waiting for the upstream to say so; retry with the same key in ${seconds} s to get its taskId, ` +
			"rather than create (and pay for) a second one.",
		upstream: "in doubt",
		retryAfter: String(seconds),
	};
}

/**
 * The key's object must learn the outcome, or duplicates wait out the lease and create again:
 * a passing failure to reach it is retried.
 */
async function settle(step: () => Promise<void>): Promise<void> {
	for (let attempt = 1; attempt <= 3; attempt++) {
		try {
			return await step();
		} catch (error) {
			logEvent("error", "idempotency_settle_failed", {
				attempt,
				error: errorMessage(error),
			});
			await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
		}
	}
}
