// A client's webhook endpoint, for testing the gateway's deliveries to clients' callBackUrls:
// records every request it gets and answers as told (fail N times, then succeed; or stall).
//
//   POST /__sim/hooks/<name>            the endpoint itself (give the gateway this URL)
//   GET  /__sim/hooks/<name>            { deliveries: [{ receivedAt, headers, body, answered }] }
//   POST /__sim/hooks/<name>/behaviour  { statuses?: number[], thenStatus?: number, stallMs?: number }
//        answers the next requests with `statuses` in turn, then `thenStatus` (default 200);
//        `stallMs` holds each answer that long (to exceed the gateway's deadline).

import { isObject, parseJson, readBody, sendJson } from './http.mjs';

/**
 * @typedef {object} HookDelivery
 * @property {number} receivedAt
 * @property {Record<string, string>} headers  Lowercased names.
 * @property {string} body
 * @property {number} answered   The status the hook answered (or will answer, when stalling).
 */

/** @typedef {{ statuses: number[], thenStatus: number, stallMs: number }} HookBehaviour */

export class Hooks {
  constructor() {
    /** @type {Map<string, { deliveries: HookDelivery[], behaviour: HookBehaviour }>} */
    this.hooks = new Map();
  }

  /** @param {string} name */
  get(name) {
    let hook = this.hooks.get(name);
    if (!hook) {
      hook = { deliveries: [], behaviour: { statuses: [], thenStatus: 200, stallMs: 0 } };
      this.hooks.set(name, hook);
    }
    return hook;
  }

  reset() {
    this.hooks.clear();
  }
}

const isStatus = (/** @type {unknown} */ value) => Number.isInteger(value) && /** @type {number} */ (value) >= 100 && /** @type {number} */ (value) <= 599;

/**
 * @param {Hooks} hooks
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {string[]} parts  Path parts after "hooks".
 * @param {(ms: number) => Promise<unknown>} sleep  Cancelled by reset/close.
 */
export async function handleHook(hooks, req, res, parts, sleep) {
  const name = decodeURIComponent(parts[0] ?? '');
  if (!name || parts.length > 2 || (parts.length === 2 && parts[1] !== 'behaviour')) {
    return sendJson(res, 404, { error: 'use /__sim/hooks/<name> or /__sim/hooks/<name>/behaviour' });
  }
  const hook = hooks.get(name);
  if (parts.length === 2) {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST a behaviour' });
    const parsed = parseJson(await readBody(req));
    if (!parsed.ok || !isObject(parsed.value)) return sendJson(res, 400, { error: 'body must be a JSON object' });
    const { statuses = [], thenStatus = 200, stallMs = 0 } = parsed.value;
    if (!Array.isArray(statuses) || !statuses.every(isStatus)) return sendJson(res, 400, { error: 'statuses must be HTTP statuses' });
    if (!isStatus(thenStatus)) return sendJson(res, 400, { error: 'thenStatus must be an HTTP status' });
    if (!Number.isInteger(stallMs) || /** @type {number} */ (stallMs) < 0) return sendJson(res, 400, { error: 'stallMs must be a non-negative integer' });
    hook.behaviour = { statuses: [...statuses], thenStatus: /** @type {number} */ (thenStatus), stallMs: /** @type {number} */ (stallMs) };
    return sendJson(res, 200, { ok: true, behaviour: hook.behaviour });
  }
  if (req.method === 'GET') return sendJson(res, 200, { deliveries: hook.deliveries });
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'the hook takes POST; GET lists what it received' });

  const body = (await readBody(req)) ?? '';
  const status = hook.behaviour.statuses.shift() ?? hook.behaviour.thenStatus;
  /** @type {Record<string, string>} */
  const headers = {};
  for (const [key, value] of Object.entries(req.headers)) headers[key] = Array.isArray(value) ? value.join(', ') : String(value ?? '');
  hook.deliveries.push({ receivedAt: Date.now(), headers, body, answered: status });
  if (hook.behaviour.stallMs > 0) await sleep(hook.behaviour.stallMs);
  sendJson(res, status, { received: true });
}
