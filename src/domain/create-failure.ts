/**
 * Why a create gave the client no task, with the answer the contract gives for it. One shape for
 * every way a create can fail, from the gateway's own checks to the upstream's refusals, so the
 * create path returns failures (it never throws them) and the route answers each the same way.
 */
export type CreateFailureKind =
	/** A setting the create cannot go without is missing (503). */
	| "not-configured"
	/** The Idempotency-Key was used with another body (422). */
	| "key-reused"
	/** The key's create has no known outcome (timed out upstream, or its request stopped) and may have made the task: no second create yet (504). */
	| "key-in-doubt"
	/** The tenant's daily quota is used up (429). */
	| "over-quota"
	/** The gateway's own KIE_CREATE_LIMIT per 10 s is reached (429). */
	| "rate-limited"
	/** The gateway's coordination storage could not be reached; nothing was sent (503). */
	| "unavailable"
	/** The upstream refused or failed the create (the contract's table maps its code). */
	| "upstream"
	/** The upstream did not answer in time, and may have made (and charged for) the task (504). */
	| "upstream-timeout"
	/** The upstream named a task id an earlier task already has (502). */
	| "task-id-taken";

export interface CreateFailure {
	kind: CreateFailureKind;
	/** The HTTP status of the answer. */
	status: number;
	/** The envelope's code: the upstream's where the outcome came from upstream. */
	code: number;
	/** What went wrong and what to do, in plain words. */
	msg: string;
	/** Seconds, for answers that say when to retry. */
	retryAfter?: string;
	/** What the upstream said (or why nothing was sent), for logs; never shown to the client. */
	upstream: string;
	/** upstream-timeout, once recorded for adoption: the ref of the create's callback URL. */
	ref?: string;
	/**
	 * Sent, and not refused outright: the upstream may have made (and charged for) the task all the
	 * same (the connection broke, it failed inside, or its answer could not be read). The create's
	 * journal entry stays, so the task's callback can still have it adopted.
	 */
	mayHaveMade?: true;
}

/** What a create ends with: the task the upstream named (or the key's earlier one), or why not. */
export type CreateOutcome = { ok: true; taskId: string; replayed: boolean } | { ok: false; failure: CreateFailure };
