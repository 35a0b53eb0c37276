// @ts-check
// Creating a task without ever paying for it twice: every attempt of one CLI run carries the same
// Idempotency-Key, so the gateway answers a retried create with the taskId it already has instead
// of asking the upstream again. Only failures that may be passing are retried.

import { GatewayError, UnreachableError } from './api.mjs';

const RETRY_DELAYS_MS = [1000, 3000];
/**
 * Failures the gateway answers before or without a task being made. A 504 is not among them: the
 * upstream did not answer in time and may still have created (and charged for) the task, which
 * the gateway cannot know, so a retry could pay twice.
 */
const RETRYABLE_STATUSES = [502, 503];
/** A longer rate-limit pause is reported rather than sat through. */
const MAX_RETRY_AFTER_SECONDS = 60;

/**
 * @param {import('./api.mjs').GatewayClient} client
 * @param {{ prompt: string, callBackUrl?: string }} body
 * @param {{ idempotencyKey: string, onRetry?: (reason: string, delayMs: number) => void,
 *   sleep?: (ms: number) => Promise<void> }} options
 * @returns {Promise<import('./api.mjs').Answer>}
 */
export async function createWithRetries(client, body, { idempotencyKey, onRetry = () => {}, sleep = delay }) {
  let retries = 0;
  let waitedForRateLimit = false;
  for (;;) {
    try {
      return await client.createTask(body, idempotencyKey);
    } catch (error) {
      const rateLimited = error instanceof GatewayError && error.status === 429;
      if (rateLimited) {
        const seconds = error.retryAfterSeconds;
        if (waitedForRateLimit || seconds === undefined || seconds > MAX_RETRY_AFTER_SECONDS) throw error;
        waitedForRateLimit = true;
        onRetry(`rate limited: ${error.message}`, seconds * 1000);
        await sleep(seconds * 1000);
        continue;
      }
      if (retries >= RETRY_DELAYS_MS.length || !isPassing(error)) throw error;
      const delayMs = RETRY_DELAYS_MS[retries++];
      onRetry(error instanceof GatewayError ? `HTTP ${error.status}: ${error.message}` : String(/** @type {Error} */ (error).message), delayMs);
      await sleep(delayMs);
    }
  }
}

/**
 * An upstream hiccup or a dropped connection may be gone in a second. A refused connection or an
 * unknown host is not retried: the request never left, and a gateway that is not running will not
 * be in a second either.
 * @param {unknown} error
 */
function isPassing(error) {
  if (error instanceof GatewayError) return RETRYABLE_STATUSES.includes(error.status);
  if (error instanceof UnreachableError) return !error.lasting;
  return false;
}

/** @param {number} ms */
function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
