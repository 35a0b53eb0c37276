/** How long to wait before trying again, for upstream polls and for D1 writes (src/lib/retry.ts does the arithmetic). */
import { type Backoff, backoffMs } from "../lib/retry";

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** First re-poll near the provider's recommended 30 s, doubling up to 15 minutes, ±10% so tasks spread out. */
const POLL_BACKOFF: Backoff = { firstMs: 30 * SECOND, maxMs: 15 * MINUTE, jitter: 0.1 };
/** D1 write retries: 1 s doubling up to 5 minutes. */
const SYNC_BACKOFF: Backoff = { firstMs: SECOND, maxMs: 5 * MINUTE };

/** Delay after the `polls`-th poll found the task unfinished. */
export function pollDelayMs(polls: number, random: () => number = Math.random): number {
	return backoffMs(polls, POLL_BACKOFF, random);
}

/** Retry delay for the D1 write after `failures` failed attempts. */
export function syncRetryDelayMs(failures: number): number {
	return backoffMs(failures, SYNC_BACKOFF);
}
