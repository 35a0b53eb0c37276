/** How long to wait before trying again, for upstream polls and for D1 writes. */

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** First re-poll near the provider's recommended 30 s, doubling up to 15 minutes. */
const FIRST_POLL_DELAY_MS = 30 * SECOND;
const MAX_POLL_DELAY_MS = 15 * MINUTE;

/** Delay after the `polls`-th poll found the task unfinished, with ±10% jitter so tasks spread out. */
export function pollDelayMs(polls: number, random: () => number = Math.random): number {
	const base = Math.min(FIRST_POLL_DELAY_MS * 2 ** Math.max(0, polls - 1), MAX_POLL_DELAY_MS);
	return Math.round(base * (0.9 + 0.2 * random()));
}

/** Retry delay for the D1 write after `failures` failed attempts: 1 s doubling up to 5 minutes. */
export function syncRetryDelayMs(failures: number): number {
	return Math.min(SECOND * 2 ** Math.max(0, failures - 1), 5 * MINUTE);
}
