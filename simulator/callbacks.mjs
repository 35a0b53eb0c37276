// Building, signing and sending the provider's callbacks.
//
// Delivery copies the provider's documented policy: 15 s timeout per try, a try fails on a
// network error or a non-2xx answer, at most 3 tries, then it gives up. Every try is recorded
// on the task so tests can assert what the gateway answered.

import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

export const CALLBACK_TIMEOUT_MS = 15_000;
export const CALLBACK_TRIES = 3;
export const RETRY_PAUSE_MS = 1_000;

/** @typedef {import('./state.mjs').Task} Task */
/** @typedef {import('./state.mjs').CallbackAttempt} CallbackAttempt */
/** @typedef {'snake' | 'camel' | 'error-type'} Variant */

/**
 * What a callback should look like.
 * @typedef {object} CallbackShape
 * @property {Variant} variant
 * @property {boolean} fail       A failure callback (forced by variant "error-type").
 * @property {number} failCode
 * @property {string} failMsg
 */

/**
 * Shared by everything that sends callbacks.
 * @typedef {object} CallbackContext
 * @property {string | undefined} hmacKey
 * @property {import('./lifecycle.mjs').Lifecycle} lifecycle
 * @property {(line: string) => void} log
 */

/** @param {number} code */
function defaultFailMsg(code) {
  if (code === 400) return 'Please try rephrasing with more specific details or using a different approach.';
  if (code === 500) return 'Internal Error - Please try again later.';
  if (code === 531) return 'Generation failed, credits refunded. Please retry.';
  return 'Lyrics generation failed.';
}

/**
 * The callback shape a task's script asks for, with per-call overrides (control endpoints).
 * @param {Task} task
 * @param {{ variant?: Variant, fail?: boolean }} [overrides]
 * @returns {CallbackShape}
 */
export function callbackShape(task, overrides = {}) {
  const script = task.script ?? /** @type {Partial<import('./scripts.mjs').Script>} */ ({});
  const variant = overrides.variant ?? script.variant ?? 'snake';
  const fail = variant === 'error-type' || (overrides.fail ?? script.callback === 'fail');
  const failCode = script.failCode ?? 400;
  return { variant, fail, failCode, failMsg: script.failMsg ?? defaultFailMsg(failCode) };
}

/**
 * The callback body in the provider's format (snake_case by default).
 * @param {Task} task
 * @param {CallbackShape} shape
 */
export function buildCallbackBody(task, shape) {
  const camel = shape.variant === 'camel';
  const idKey = camel ? 'taskId' : 'task_id';
  if (shape.fail) {
    return {
      code: shape.failCode,
      msg: shape.failMsg,
      data: { callbackType: shape.variant === 'error-type' ? 'error' : 'complete', [idKey]: task.taskId, data: null },
    };
  }
  const errKey = camel ? 'errorMessage' : 'error_message';
  return {
    code: 200,
    msg: 'All generated successfully.',
    data: {
      callbackType: 'complete',
      [idKey]: task.taskId,
      // Field order as in the provider's example.
      data: task.items.map((item) => ({ [errKey]: item.errorMessage, status: item.status, text: item.text, title: item.title })),
    },
  };
}

/**
 * base64(HMAC-SHA256(key, taskId + "." + timestamp)), the provider's webhook signature.
 * @param {string} hmacKey
 * @param {string} taskId
 * @param {number | string} timestamp  Unix seconds.
 */
export function signCallback(hmacKey, taskId, timestamp) {
  return createHmac('sha256', hmacKey).update(`${taskId}.${timestamp}`).digest('base64');
}

/**
 * The exact request to send now: signed with a fresh timestamp when an HMAC key is configured.
 * @param {Task} task
 * @param {CallbackShape} shape
 * @param {string | undefined} hmacKey
 * @returns {{ url: string, headers: Record<string, string>, body: string }}
 */
export function buildCallbackRequest(task, shape, hmacKey) {
  /** @type {Record<string, string>} */
  const headers = { 'Content-Type': 'application/json' };
  if (hmacKey) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    headers['X-Webhook-Timestamp'] = timestamp;
    headers['X-Webhook-Signature'] = signCallback(hmacKey, task.taskId, timestamp);
  }
  return { url: task.callBackUrl, headers, body: JSON.stringify(buildCallbackBody(task, shape)) };
}

/**
 * One POST; never throws. Resolves once the whole answer was read (or the try failed).
 * @param {{ url: string, headers: Record<string, string>, body: string }} request
 * @param {{ timeoutMs?: number, signal?: AbortSignal }} [options]
 * @returns {Promise<{ status: number } | { error: string }>}
 */
export function postOnce(request, { timeoutMs = CALLBACK_TIMEOUT_MS, signal } = {}) {
  return new Promise((resolve) => {
    let url;
    try {
      url = new URL(request.url);
    } catch {
      resolve({ error: 'invalid callback URL' });
      return;
    }
    const body = Buffer.from(request.body, 'utf8');
    const client = url.protocol === 'https:' ? https : http;
    let settled = false;
    /** @param {{ status: number } | { error: string }} result */
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    // agent:false = a fresh connection per try, so no pooled socket outlives close().
    const req = client.request(url, {
      method: 'POST',
      headers: { ...request.headers, 'Content-Length': String(body.length) },
      agent: false,
      signal,
    });
    const timer = setTimeout(() => {
      finish({ error: `timeout after ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    timer.unref();
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => finish({ status: res.statusCode ?? 0 }));
      res.on('error', (err) => finish({ error: err.message }));
    });
    req.on('error', (err) => finish({ error: /** @type {NodeJS.ErrnoException} */ (err).code ?? err.message }));
    req.end(body);
  });
}

/** @param {{ status?: number }} result */
export const isDelivered = (result) => result.status !== undefined && result.status >= 200 && result.status < 300;

/**
 * Send a task's callback `copies` times, one after another or all at once, each copy with the
 * provider's retry policy (`tries`, 1 for the manual control endpoint). Records every try.
 * @param {Task} task
 * @param {CallbackContext} ctx
 * @param {object} options
 * @param {CallbackShape} options.shape
 * @param {CallbackAttempt['source']} options.source
 * @param {number} [options.copies]
 * @param {boolean} [options.concurrent]
 * @param {number} [options.tries]
 * @returns {Promise<Array<{ status: number } | { error: string }>>} the last result of each copy
 */
export async function deliverCallbacks(task, ctx, { shape, source, copies = 1, concurrent = false, tries = CALLBACK_TRIES }) {
  const signal = ctx.lifecycle.signal;
  /** @param {number} copy */
  const sendCopy = async (copy) => {
    /** @type {{ status: number } | { error: string }} */
    let result = { error: 'not sent' };
    for (let attempt = 1; attempt <= tries; attempt++) {
      if (signal.aborted) return { error: 'cancelled' };
      if (attempt > 1 && !(await ctx.lifecycle.sleep(RETRY_PAUSE_MS))) return { error: 'cancelled' };
      const at = Date.now();
      // Rebuilt per try: the provider signs each send with the time it is sent.
      result = await postOnce(buildCallbackRequest(task, shape, ctx.hmacKey), { signal });
      if (signal.aborted) return { error: 'cancelled' };
      task.callbackAttempts.push({ ...result, at, ms: Date.now() - at, copy, try: attempt, source, variant: shape.variant, fail: shape.fail });
      ctx.log(`callback ${task.taskId} copy ${copy} try ${attempt} -> ${'status' in result ? result.status : result.error}`);
      if (isDelivered(result)) break;
    }
    return result;
  };
  const numbers = Array.from({ length: copies }, (_, i) => i + 1);
  if (concurrent) return Promise.all(numbers.map(sendCopy));
  const results = [];
  for (const copy of numbers) results.push(await sendCopy(copy));
  return results;
}
