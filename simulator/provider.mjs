// The two provider endpoints, as the provider's API documentation describes them, plus the
// misbehaviours a matching script asks for. The provider answers most errors with HTTP 200 and
// the error in the body (`{"code": N, "msg": …}`); only scripts produce other HTTP statuses.

import { STATUS_CODES } from 'node:http';
import { callbackShape, deliverCallbacks } from './callbacks.mjs';
import { isObject, parseJson, readBody, sendJson, sendText } from './http.mjs';

const MAX_PROMPT_WORDS = 200;

/** @typedef {import('node:http').IncomingMessage} Req */
/** @typedef {import('node:http').ServerResponse} Res */
/** @typedef {import('./state.mjs').Task} Task */

/**
 * @typedef {object} ProviderDeps
 * @property {import('./state.mjs').SimState} state
 * @property {string | undefined} apiKey           When set, the only accepted bearer token.
 * @property {number} callbackDelayMs              Default time from create to callback.
 * @property {import('./callbacks.mjs').CallbackContext} ctx
 * @property {(res: Res) => void} hold             Keep a response open forever (until close()).
 */

/** Default errorMessage per failed record-info status. */
const FAILURE_MESSAGES = /** @type {Record<string, string>} */ ({
  CREATE_TASK_FAILED: 'Failed to create the task.',
  GENERATE_LYRICS_FAILED: 'Unable to generate lyrics from song description',
  SENSITIVE_WORD_ERROR: 'Song Description flagged for moderation',
  CALLBACK_EXCEPTION: 'Error occurred during callback',
});

/**
 * null when the request carries an acceptable bearer token, else the provider's 401 body.
 * @param {Req} req
 * @param {string | undefined} apiKey
 */
function authError(req, apiKey) {
  const match = /^Bearer\s+(.*)$/i.exec(req.headers.authorization ?? '');
  const token = match?.[1]?.trim() ?? '';
  if (!token) return { code: 401, msg: 'Unauthorized: missing Authorization: Bearer <API key>' };
  if (apiKey !== undefined && token !== apiKey) return { code: 401, msg: 'Unauthorized: invalid API key' };
  return null;
}

/** @param {string} url */
function isHttpUrl(url) {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** @param {number} status */
const statusBody = (status) => ({ code: status, msg: STATUS_CODES[status] ?? 'Error' });

/**
 * Answer a script's raw body: strings as-is (HTML when they look like it), anything else as JSON.
 * @param {Res} res @param {number} status @param {unknown} body
 */
function sendScripted(res, status, body) {
  if (typeof body === 'string') sendText(res, status, body, /^\s*</.test(body) ? 'text/html' : 'text/plain');
  else sendJson(res, status, body);
}

/** @param {ProviderDeps} deps */
export function createProvider(deps) {
  const { state, ctx } = deps;

  /**
   * Send a task's callback(s) the way its script says (nothing for "drop").
   * @param {Task} task @param {'scheduled' | 'early'} source
   */
  const runCallbacks = async (task, source) => {
    const script = task.script;
    if (script?.callbackGate && !(await state.gates.wait(script.callbackGate))) return [];
    return deliverCallbacks(task, ctx, {
      shape: callbackShape(task),
      source,
      copies: script?.duplicates ?? 1,
      concurrent: script?.concurrent ?? false,
    }).catch((err) => ctx.log(`callback ${task.taskId} crashed: ${err?.stack ?? err}`));
  };

  /** `POST /api/v1/lyrics` @param {Req} req @param {Res} res */
  async function create(req, res) {
    const parsed = parseJson(await readBody(req));
    const body = parsed.ok && isObject(parsed.value) ? parsed.value : undefined;
    const prompt = typeof body?.prompt === 'string' ? body.prompt : undefined;
    // Counted before any check: every request that reached "upstream" is an upstream call.
    state.countRequest('create', prompt);

    const denied = authError(req, deps.apiKey);
    if (denied) return sendJson(res, 200, denied);
    if (!body) return sendJson(res, 200, { code: 400, msg: 'Invalid parameters: body must be a JSON object' });
    if (prompt === undefined || prompt.trim() === '') return sendJson(res, 200, { code: 400, msg: 'Invalid parameters: prompt is required' });
    const callBackUrl = body.callBackUrl;
    if (typeof callBackUrl !== 'string' || !isHttpUrl(callBackUrl)) {
      return sendJson(res, 200, { code: 400, msg: 'Invalid parameters: callBackUrl must be an http(s) URL' });
    }
    if (prompt.trim().split(/\s+/).length > MAX_PROMPT_WORDS) {
      return sendJson(res, 200, { code: 413, msg: `Theme or prompt too long: at most ${MAX_PROMPT_WORDS} words` });
    }

    const script = state.scripts.find(prompt);
    const s = script ?? {};
    const fails = s.hang === true || s.createBody !== undefined || s.createRaw !== undefined || (s.createStatus !== undefined && s.createStatus !== 200);
    if (fails) {
      // An error answer creates no task; createDelayMs and createGate only make the error late.
      if (s.createDelayMs) await state.lifecycle.sleep(s.createDelayMs);
      if (s.createGate) await state.gates.wait(s.createGate);
      if (s.hang) return deps.hold(res);
      const status = s.createStatus ?? 200;
      if (s.createRaw !== undefined) return sendScripted(res, status, s.createRaw);
      if (s.createBody !== undefined) return sendJson(res, status, s.createBody);
      return sendJson(res, status, statusBody(status));
    }

    const task = state.createTask(prompt, callBackUrl, script, s.callbackDelayMs ?? deps.callbackDelayMs);
    if (s.callback !== 'drop') {
      if (s.callbackBeforeCreateResponse) {
        // The "early callback": the gateway hears about a taskId before it knows it.
        task.readyAt = Date.now();
        await runCallbacks(task, 'early');
      } else {
        state.lifecycle.setTimeout(() => void runCallbacks(task, 'scheduled'), task.readyAt - Date.now());
      }
    }
    if (s.createDelayMs) await state.lifecycle.sleep(s.createDelayMs);
    if (s.createGate) await state.gates.wait(s.createGate);
    sendJson(res, 200, { code: 200, msg: 'success', data: { taskId: task.taskId } });
  }

  /** `GET /api/v1/lyrics/record-info?taskId=…` @param {Req} req @param {Res} res @param {URL} url */
  async function recordInfo(req, res, url) {
    const taskId = url.searchParams.get('taskId') ?? '';
    const task = taskId ? state.getTask(taskId) : undefined;
    state.countRequest('recordInfo', task?.prompt, taskId || undefined);
    if (task) task.recordInfoRequests++;

    const denied = authError(req, deps.apiKey);
    if (denied) return sendJson(res, 200, { ...denied, data: null });
    if (!taskId) return sendJson(res, 200, { code: 422, msg: 'Validation error: taskId is required', data: null });
    if (!task) return sendJson(res, 200, { code: 404, msg: 'Task not found', data: null });

    const outage = state.outages.find(task.prompt);
    if (outage?.recordInfo === 'hang') return deps.hold(res);
    if (outage) return sendJson(res, outage.recordInfo, statusBody(outage.recordInfo));
    const s = task.script ?? {};
    // A slow upstream: the whole answer (error or not) comes late; readiness is judged after the wait.
    if (s.recordDelayMs && !(await state.lifecycle.sleep(s.recordDelayMs))) return;
    if (s.recordHang) return deps.hold(res);
    if (s.recordBody !== undefined) return sendScripted(res, s.recordHttpStatus ?? 200, s.recordBody);
    if (s.recordHttpStatus !== undefined && s.recordHttpStatus !== 200) return sendJson(res, s.recordHttpStatus, statusBody(s.recordHttpStatus));
    sendJson(res, 200, { code: 200, msg: 'success', data: recordData(task) });
  }

  return { create, recordInfo };
}

/**
 * `data` of a record-info answer. Without a scripted recordStatus it agrees with the callback:
 * PENDING before readyAt, then SUCCESS, or GENERATE_LYRICS_FAILED when the script sends a
 * failure callback (with its failCode/failMsg).
 * @param {Task} task
 */
export function recordData(task) {
  const s = task.script ?? {};
  const shape = callbackShape(task);
  const ready = Date.now() >= task.readyAt;
  const status = s.recordStatus ?? (!ready ? 'PENDING' : shape.fail ? 'GENERATE_LYRICS_FAILED' : 'SUCCESS');
  const base = { taskId: task.taskId, param: JSON.stringify({ prompt: task.prompt }) };
  const tail = { status, type: 'LYRICS' };
  if (status === 'PENDING') return { ...base, response: null, ...tail, errorCode: null, errorMessage: null };

  const response = {
    taskId: task.taskId,
    [s.itemsKey ?? 'data']: task.items.map((i) => ({ text: i.text, title: i.title, status: i.status, errorMessage: i.errorMessage })),
  };
  if (status === 'SUCCESS') return { ...base, response, ...tail, errorCode: null, errorMessage: null };

  const fromCallback = s.recordStatus === undefined;
  return {
    ...base,
    // The lyrics exist when only the callback failed; other failures have nothing to show.
    response: status === 'CALLBACK_EXCEPTION' ? response : null,
    ...tail,
    errorCode: s.recordErrorCode ?? (fromCallback ? shape.failCode : 400),
    errorMessage: s.recordErrorMessage ?? (fromCallback ? shape.failMsg : FAILURE_MESSAGES[status] ?? 'Task failed'),
  };
}

