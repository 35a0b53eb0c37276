/**
 * The one way the gateway waits before trying again: exponential backoff from a first pause,
 * doubling up to a cap, optionally spread by jitter. Upstream polls, D1 writes, the held-callback
 * checks, registering a task with its object and telling an Idempotency-Key its outcome all take
 * their pauses from here.
 */

export interface Backoff {
	firstMs: number;
	maxMs: number;
	/** Spread each pause by ± this fraction (0.1 = ±10 %), so many waiters do not wake together. */
	jitter?: number;
}

/** The pause after the `attempt`-th failed try (1-based; 0 counts as 1). */
export function backoffMs(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
	const base = Math.min(backoff.firstMs * 2 ** Math.max(0, attempt - 1), backoff.maxMs);
	const jitter = backoff.jitter ?? 0;
	return jitter === 0 ? base : Math.round(base * (1 - jitter + 2 * jitter * random()));
}

/**
 * Runs `work` until it succeeds, at most `retries` + 1 times with backoff pauses in between;
 * `onError` hears every failure. Resolves to `gaveUp` when every try failed.
 */
export async function withRetries<T, G>(
	work: () => Promise<T>,
	options: { retries: number; backoff: Backoff; gaveUp: G; onError: (error: unknown, attempt: number) => void },
): Promise<T | G> {
	for (let attempt = 1; attempt <= options.retries + 1; attempt++) {
		try {
			return await work();
		} catch (error) {
			options.onError(error, attempt);
			if (attempt <= options.retries) await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt, options.backoff)));
		}
	}
	return options.gaveUp;
}
