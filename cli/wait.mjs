// @ts-check
// Waiting for a task to leave PENDING by polling record-info, riding out short gateway hiccups.

import { GatewayError, UnreachableError } from './api.mjs';

const POLL_INTERVAL_MS = 2000;
/** Consecutive failed polls (about 10 s) before the wait gives up. */
const MAX_FAILED_POLLS = 5;

/** The task was still PENDING when the wait ran out; it goes on without us. */
export class StillPendingError extends Error {
  /**
   * @param {string} taskId
   * @param {import('./api.mjs').Answer | undefined} last  the last answer seen
   * @param {number} waitedMs
   */
  constructor(taskId, last, waitedMs) {
    super(`Task ${taskId} is still PENDING after ${Math.round(waitedMs / 1000)} s of waiting.`);
    this.taskId = taskId;
    this.last = last;
  }
}

/**
 * @param {import('./api.mjs').GatewayClient} client
 * @param {string} taskId
 * @param {{
 *   timeoutMs: number,
 *   onStatus?: (status: string) => void,
 *   notFoundGraceMs?: number,
 *   intervalMs?: number,
 *   sleep?: (ms: number) => Promise<void>,
 *   now?: () => number,
 * }} options
 *   notFoundGraceMs: right after a create the gateway may answer the taskId before readers can see
 *   the task (it registers it after answering when its task object is briefly busy), so a 404 is
 *   "not yet" for that long.
 * @returns {Promise<import('./api.mjs').Answer>} the answer holding the final task
 */
export async function waitForTask(client, taskId, options) {
  const { timeoutMs, onStatus = () => {}, notFoundGraceMs = 0, intervalMs = POLL_INTERVAL_MS, sleep = delay, now = Date.now } = options;
  const started = now();
  /** @type {import('./api.mjs').Answer | undefined} */
  let last;
  let failedPolls = 0;
  for (;;) {
    try {
      last = await client.getTask(taskId);
      failedPolls = 0;
      if (last.data.status !== 'PENDING') return last;
      onStatus(last.data.status);
    } catch (error) {
      const notYetVisible = error instanceof GatewayError && error.status === 404 && now() - started < notFoundGraceMs;
      if (notYetVisible) {
        onStatus('PENDING');
      } else {
        if (!isPassing(error) || ++failedPolls >= MAX_FAILED_POLLS) throw error;
        onStatus(`PENDING? (${/** @type {Error} */ (error).message.slice(0, 60)}; asking again)`);
      }
    }
    const left = started + timeoutMs - now();
    if (left <= 0) throw new StillPendingError(taskId, last, now() - started);
    await sleep(Math.min(intervalMs, left));
  }
}

/** @param {unknown} error */
function isPassing(error) {
  if (error instanceof GatewayError) return error.status >= 500 || error.status === 429;
  return error instanceof UnreachableError;
}

/** @param {number} ms */
function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
