/**
 * The one logical delivery of a task's final result to the client's callBackUrl, and how each
 * attempt moves it on. Pure state: the task object stores it and drives the attempts.
 */

export type DeliveryState = "pending" | "delivered" | "failed";

export interface Delivery {
	/** Standard Webhooks `webhook-id`: the same on every attempt, so receivers can deduplicate. */
	webhookId: string;
	state: DeliveryState;
	attempts: number;
	/** HTTP status of the last attempt; null when it got no answer (timeout, connection refused). */
	lastStatus: number | null;
	/** Why the last attempt did not count, in words; null after a success. */
	lastError: string | null;
	lastAttemptAt: number | null;
	/** When the next attempt is due while pending; null once delivered or given up. */
	nextAttemptAt: number | null;
	deliveredAt: number | null;
}

/** The host (and port) of a callBackUrl, for the stats: never its path, query or credentials. */
export function callbackHost(url: string | null): string | null {
	if (!url) return null;
	try {
		return new URL(url).host || null;
	} catch {
		return null;
	}
}

export type AttemptResult =
	| { ok: true; status: number }
	/** `permanent`: no retry can succeed (the URL is refused now), so the delivery is given up at once. */
	| { ok: false; status: number | null; error: string; permanent?: boolean };

/**
 * `msg_<taskId>` for a task's delivery; `msg_<taskId>_2` for the one that replaces the gateway's
 * own timeout with the upstream's result, which came after it: a new message, not a retry.
 */
function webhookIdFor(taskId: string, kind: "first" | "replacement"): string {
	return kind === "first" ? `msg_${taskId}` : `msg_${taskId}_2`;
}

/** Created in the same step that makes the task final; the first attempt is due at once. */
export function newDelivery(taskId: string, at: number, kind: "first" | "replacement" = "first"): Delivery {
	return {
		webhookId: webhookIdFor(taskId, kind),
		state: "pending",
		attempts: 0,
		lastStatus: null,
		lastError: null,
		lastAttemptAt: null,
		nextAttemptAt: at,
		deliveredAt: null,
	};
}

/**
 * Records one finished attempt. `retryDelaysMs[i]` is the pause before retry i + 1; when they
 * are used up the delivery is given up ("failed"), and the task's result stays in record-info.
 */
export function recordAttempt(delivery: Delivery, result: AttemptResult, at: number, retryDelaysMs: number[]): void {
	delivery.attempts += 1;
	delivery.lastAttemptAt = at;
	delivery.lastStatus = result.status;
	if (result.ok) {
		delivery.state = "delivered";
		delivery.lastError = null;
		delivery.deliveredAt = at;
		delivery.nextAttemptAt = null;
		return;
	}
	delivery.lastError = result.error;
	const pause = result.permanent ? undefined : retryDelaysMs[delivery.attempts - 1];
	if (pause === undefined) {
		delivery.state = "failed";
		delivery.nextAttemptAt = null;
	} else {
		delivery.nextAttemptAt = at + pause;
	}
}
