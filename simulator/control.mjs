// The /__sim/* endpoints: inspection and control for tests. Not part of the provider; never
// authenticated; always JSON.

import { buildCallbackRequest, callbackShape, deliverCallbacks } from './callbacks.mjs';
import { handleDnsQuery } from './dns.mjs';
import { handleHook } from './hooks.mjs';
import { isObject, parseJson, readBody, sendJson } from './http.mjs';
import { validateOutage } from './outages.mjs';
import { taskView } from './state.mjs';
import { validateScript } from './scripts.mjs';

/** @typedef {import('node:http').IncomingMessage} Req */
/** @typedef {import('node:http').ServerResponse} Res */
/** @typedef {import('./callbacks.mjs').Variant} Variant */

const VARIANTS = ['snake', 'camel', 'error-type'];

/**
 * "1"/"true" -> true, "0"/"false" -> false, absent -> undefined, anything else -> null (invalid).
 * @param {string | null} value
 */
function flag(value) {
  if (value === null) return undefined;
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  return null;
}

/**
 * @param {object} deps
 * @param {import('./state.mjs').SimState} deps.state
 * @param {import('./callbacks.mjs').CallbackContext} deps.ctx
 */
export function createControl({ state, ctx }) {
  /**
   * Route one /__sim/* request.
   * @param {Req} req @param {Res} res @param {URL} url
   */
  async function handle(req, res, url) {
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).slice(1); // drop "__sim"
    const match = url.searchParams.get('match') ?? undefined;
    const wrongMethod = () => sendJson(res, 405, { error: `method ${method} not allowed on ${url.pathname}` });

    if (parts.length === 1 && parts[0] === 'health') {
      return sendJson(res, 200, { ok: true, tasks: state.tasks.size, scripts: state.scripts.list().length });
    }

    if (parts.length === 1 && parts[0] === 'scripts') {
      if (method === 'GET') return sendJson(res, 200, { scripts: state.scripts.list() });
      if (method === 'DELETE') return sendJson(res, 200, { ok: true, removed: state.scripts.clear(match) });
      if (method !== 'POST') return wrongMethod();
      const parsed = parseJson(await readBody(req));
      if (!parsed.ok) return sendJson(res, 400, { error: 'body must be JSON' });
      const checked = validateScript(parsed.value);
      if (!checked.ok) return sendJson(res, 400, { error: checked.error });
      return sendJson(res, 200, { ok: true, script: state.scripts.add(checked.script) });
    }

    if (parts.length === 1 && parts[0] === 'outages') {
      if (method === 'GET') return sendJson(res, 200, { outages: state.outages.list() });
      if (method === 'DELETE') return sendJson(res, 200, { ok: true, removed: state.outages.clear(match) });
      if (method !== 'POST') return wrongMethod();
      const parsed = parseJson(await readBody(req));
      if (!parsed.ok) return sendJson(res, 400, { error: 'body must be JSON' });
      const checked = validateOutage(parsed.value);
      if (!checked.ok) return sendJson(res, 400, { error: checked.error });
      return sendJson(res, 200, { ok: true, outage: state.outages.set(checked.outage) });
    }

    if (parts.length === 1 && parts[0] === 'dns-query') return handleDnsQuery(res, url, (ms) => state.lifecycle.sleep(ms));

    if (parts[0] === 'hooks') {
      return handleHook(state.hooks, req, res, parts.slice(1), (ms) => state.lifecycle.sleep(ms));
    }

    if (parts[0] === 'gates' && parts.length >= 2 && parts.length <= 3) {
      const name = decodeURIComponent(parts[1]);
      if (parts.length === 2) {
        if (method !== 'GET') return wrongMethod();
        return sendJson(res, 200, state.gates.view(name));
      }
      if (parts[2] !== 'open') return notFound(res, url);
      if (method !== 'POST') return wrongMethod();
      const released = state.gates.open(name);
      return sendJson(res, 200, { ok: true, released, gate: state.gates.view(name) });
    }

    if (parts.length === 1 && parts[0] === 'stats') {
      if (method !== 'GET') return wrongMethod();
      return sendJson(res, 200, state.stats(match, url.searchParams.get('taskIdPrefix') ?? undefined));
    }

    if (parts.length === 1 && parts[0] === 'reset') {
      if (method !== 'POST') return wrongMethod();
      state.reset();
      return sendJson(res, 200, { ok: true });
    }

    if (parts[0] === 'tasks' && parts.length === 1) {
      if (method !== 'GET') return wrongMethod();
      return sendJson(res, 200, { tasks: state.findTasks(match).map(taskView) });
    }

    if (parts[0] === 'tasks' && parts.length >= 2 && parts.length <= 3) {
      const task = state.getTask(decodeURIComponent(parts[1]));
      const action = parts[2];
      if (action !== undefined && action !== 'callback' && action !== 'ready') return notFound(res, url);
      if (!task) return sendJson(res, 404, { error: `unknown task ${parts[1]}` });

      if (action === undefined) {
        if (method !== 'GET') return wrongMethod();
        return sendJson(res, 200, taskView(task));
      }

      if (action === 'ready') {
        if (method !== 'POST') return wrongMethod();
        // Only record-info changes; a scheduled callback still fires at its own time.
        task.readyAt = Math.min(task.readyAt, Date.now());
        return sendJson(res, 200, { ok: true, task: taskView(task) });
      }

      // action === 'callback'
      if (method === 'GET') {
        const variant = url.searchParams.get('variant') ?? undefined;
        const fail = flag(url.searchParams.get('fail'));
        if (variant !== undefined && !VARIANTS.includes(variant)) return sendJson(res, 400, { error: `variant must be one of ${VARIANTS.join(', ')}` });
        if (fail === null) return sendJson(res, 400, { error: 'fail must be 1, 0, true or false' });
        const shape = callbackShape(task, { variant: /** @type {Variant | undefined} */ (variant), fail });
        return sendJson(res, 200, buildCallbackRequest(task, shape, ctx.hmacKey));
      }
      if (method !== 'POST') return wrongMethod();
      const text = await readBody(req);
      const parsed = text === null || text.trim() === '' ? { ok: true, value: {} } : parseJson(text);
      if (!parsed.ok || !isObject(parsed.value)) return sendJson(res, 400, { error: 'body must be a JSON object or empty' });
      const { times = 1, concurrent = false, variant, fail } = parsed.value;
      if (!Number.isInteger(times) || /** @type {number} */ (times) < 1 || /** @type {number} */ (times) > 50) return sendJson(res, 400, { error: 'times must be an integer 1..50' });
      if (typeof concurrent !== 'boolean') return sendJson(res, 400, { error: 'concurrent must be a boolean' });
      if (variant !== undefined && (typeof variant !== 'string' || !VARIANTS.includes(variant))) return sendJson(res, 400, { error: `variant must be one of ${VARIANTS.join(', ')}` });
      if (fail !== undefined && typeof fail !== 'boolean') return sendJson(res, 400, { error: 'fail must be a boolean' });
      const shape = callbackShape(task, { variant: /** @type {Variant | undefined} */ (variant), fail });
      // One try per copy: the test wants to see each answer, not the provider's retries.
      const results = await deliverCallbacks(task, ctx, { shape, source: 'manual', copies: /** @type {number} */ (times), concurrent, tries: 1 });
      return sendJson(res, 200, { statuses: results.map((r) => ('status' in r ? r.status : null)), results });
    }

    return notFound(res, url);
  }

  return { handle };
}

/** @param {Res} res @param {URL} url */
export function notFound(res, url) {
  sendJson(res, 404, { code: 404, msg: 'Invalid request method or path', error: `no route for ${url.pathname}` });
}
