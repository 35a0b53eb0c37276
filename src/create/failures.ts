/**
 * The failures the create path decides itself (the upstream's own are read in
 * src/upstream/create-failure.ts), each with the contract's status, code and words.
 */
import type { CreateFailure } from "../domain/create-failure";

export function overQuota(tenant: string, quota: number, resetsAt: number, now: number): CreateFailure {
	const seconds = Math.max(1, Math.ceil((resetsAt - now) / 1000));
	return {
		kind: "over-quota",
		status: 429,
		code: 429,
		msg:
			`Tenant ${tenant} has used its daily quota of ${quota} ${quota === 1 ? "create" : "creates"} (TENANT_QUOTAS). ` +
			`The quota resets at midnight UTC (${new Date(resetsAt).toISOString()}), in ${describeWait(seconds)}. ` +
			"Nothing was sent upstream or charged.",
		upstream: "not sent: tenant quota",
		retryAfter: String(seconds),
	};
}

/**
 * Refused before anything is sent: the upstream would refuse it too, or count it against us; or
 * the tenant has had its `share` of the limit while other tenants are creating too.
 */
export function rateLimited(limit: number, retryAfterSeconds: number, share?: number): CreateFailure {
	const why =
		share === undefined
			? `The gateway sends the upstream at most ${limit} creates in any 10 seconds, and that many were just sent.`
			: `The gateway sends the upstream at most ${limit} creates in any 10 seconds, shared among the tenants creating now: ` +
				`this tenant has had its share (${share}) of the last 10 seconds.`;
	return {
		kind: "rate-limited",
		status: 429,
		code: 429,
		msg: `${why} Nothing was created or charged; retry in ${retryAfterSeconds} s.`,
		upstream: "not sent: gateway rate limit",
		retryAfter: String(retryAfterSeconds),
	};
}

export function keyReused(): CreateFailure {
	return {
		kind: "key-reused",
		status: 422,
		code: 422,
		msg:
			"This Idempotency-Key was already used with a different body in the last 24 hours. " +
			"Send the same body to get the same task, or use a new key for a new task.",
		upstream: "not sent: Idempotency-Key reused",
	};
}

/** A retry of a create whose outcome is unknown (timed out upstream, or its request stopped), while the task may still be learnt. */
export function keyInDoubt(retryAfterMs: number): CreateFailure {
	const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
	return {
		kind: "key-in-doubt",
		status: 504,
		code: 504,
		msg:
			"The first create with this Idempotency-Key has no known outcome yet (the upstream did not answer it in time, " +
			"or the request sending it stopped), and the upstream may have made the task. " +
			`The gateway is waiting to learn the task; retry with the same key in ${seconds} s to get its taskId, ` +
			"rather than create (and pay for) a second one.",
		upstream: "in doubt",
		retryAfter: String(seconds),
	};
}

/** An object the create coordinates through (key, quota, limiter) could not be reached; nothing was sent. */
export function coordinationUnavailable(): CreateFailure {
	return {
		kind: "unavailable",
		status: 503,
		code: 503,
		msg: "The gateway could not reach its own coordination storage, so nothing was created. Try again in a moment.",
		upstream: "not sent: coordination storage unavailable",
		retryAfter: "1",
	};
}

export function taskIdTaken(taskId: string): CreateFailure {
	return {
		kind: "task-id-taken",
		status: 502,
		code: 502,
		msg: `The upstream answered with task id ${taskId}, which an earlier task already has, so this task cannot be tracked. Try again.`,
		upstream: "task id reused",
	};
}

export function notConfigured(msg: string): CreateFailure {
	return { kind: "not-configured", status: 503, code: 503, msg, upstream: "not sent: gateway not configured" };
}

function describeWait(seconds: number): string {
	const hours = Math.floor(seconds / 3600);
	const minutes = Math.ceil((seconds % 3600) / 60);
	if (hours === 0) return `${Math.max(1, minutes)} min`;
	return `${hours} h ${minutes} min`;
}
