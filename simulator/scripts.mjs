// Behaviour scripts: how the simulated provider misbehaves for prompts containing a marker.
//
// Tests share one simulator and run in parallel, so a script is keyed by a substring of the
// prompt (each test puts its own marker in its prompts) instead of being a global mode.

import { isObject } from './http.mjs';

/**
 * @typedef {object} Script
 * @property {number} id                     Registration order; the newest matching script wins.
 * @property {string} match                  Substring of the prompt that selects this script.
 * @property {number} [createStatus]         HTTP status for the create answer.
 * @property {unknown} [createBody]          JSON value answered instead of success.
 * @property {string} [createRaw]            Raw text answered instead of success.
 * @property {number} [createDelayMs]        Answer the create this late (the task exists meanwhile).
 * @property {boolean} [hang]                Never answer the create.
 * @property {string} [createGate]           Hold the create's answer (the task exists meanwhile) until this gate opens.
 * @property {number} [callbackDelayMs]      Overrides the simulator's default delay before the callback.
 * @property {string} [callbackGate]         Hold each callback (after its delay) until this gate opens.
 * @property {'normal'|'drop'|'fail'} [callback]
 * @property {number} [failCode]             Body code of a failure callback (default 400).
 * @property {string} [failMsg]
 * @property {number} [duplicates]           Copies of the callback (default 1).
 * @property {boolean} [concurrent]          Send the copies at once.
 * @property {'snake'|'camel'|'error-type'} [variant]
 * @property {boolean} [callbackBeforeCreateResponse]
 * @property {string} [recordStatus]         data.status forced on record-info.
 * @property {number} [recordErrorCode]      errorCode of a failed record-info (default 400).
 * @property {string} [recordErrorMessage]
 * @property {'data'|'lyricsData'} [itemsKey]
 * @property {number} [recordHttpStatus]
 * @property {unknown} [recordBody]          JSON value (or raw string) answered on record-info.
 * @property {boolean} [recordHang]
 * @property {number} [recordDelayMs]        Answer record-info this late, whatever it answers (a slow upstream).
 */

const MAX_DELAY_MS = 10 * 60 * 1000;

/** @type {Record<string, (value: unknown) => string | null>} field -> validator (null = ok, else why not) */
const FIELDS = {
  createStatus: httpStatus,
  createBody: () => null,
  createRaw: (v) => (typeof v === 'string' ? null : 'must be a string'),
  createDelayMs: delay,
  hang: boolean,
  createGate: gateName,
  callbackDelayMs: delay,
  callbackGate: gateName,
  callback: oneOf('normal', 'drop', 'fail'),
  failCode: integer,
  failMsg: (v) => (typeof v === 'string' ? null : 'must be a string'),
  duplicates: (v) => (Number.isInteger(v) && /** @type {number} */ (v) >= 1 && /** @type {number} */ (v) <= 50 ? null : 'must be an integer 1..50'),
  concurrent: boolean,
  variant: oneOf('snake', 'camel', 'error-type'),
  callbackBeforeCreateResponse: boolean,
  recordStatus: (v) => (typeof v === 'string' && v !== '' ? null : 'must be a non-empty string'),
  recordErrorCode: integer,
  recordErrorMessage: (v) => (typeof v === 'string' ? null : 'must be a string'),
  itemsKey: oneOf('data', 'lyricsData'),
  recordHttpStatus: httpStatus,
  recordBody: () => null,
  recordHang: boolean,
  recordDelayMs: delay,
};

/**
 * Check a registration body; unknown fields are refused so that a typo in a test fails loudly
 * instead of silently running the happy path.
 * @param {unknown} body
 * @returns {{ ok: true, script: Omit<Script, 'id'> } | { ok: false, error: string }}
 */
export function validateScript(body) {
  if (!isObject(body)) return { ok: false, error: 'body must be a JSON object' };
  if (typeof body.match !== 'string' || body.match === '') return { ok: false, error: '"match" must be a non-empty string' };
  for (const [key, value] of Object.entries(body)) {
    if (key === 'match') continue;
    const check = FIELDS[key];
    if (!check) return { ok: false, error: `unknown field "${key}"; known: match, ${Object.keys(FIELDS).join(', ')}` };
    if (value === undefined) continue;
    const problem = check(value);
    if (problem) return { ok: false, error: `"${key}" ${problem}` };
  }
  return { ok: true, script: /** @type {Omit<Script, 'id'>} */ ({ ...body }) };
}

export class ScriptRegistry {
  constructor() {
    /** @type {Script[]} */
    this.scripts = [];
    this.nextId = 1;
  }

  /** @param {Omit<Script, 'id'>} script @returns {Script} */
  add(script) {
    const stored = { ...script, id: this.nextId++ };
    this.scripts.push(stored);
    return stored;
  }

  /**
   * The most recently registered script whose match is a substring of the prompt.
   * @param {string} prompt
   * @returns {Script | null}
   */
  find(prompt) {
    for (let i = this.scripts.length - 1; i >= 0; i--) {
      if (prompt.includes(this.scripts[i].match)) return this.scripts[i];
    }
    return null;
  }

  /** Remove all scripts, or only those registered with exactly this match. @param {string} [match] */
  clear(match) {
    const before = this.scripts.length;
    this.scripts = match === undefined ? [] : this.scripts.filter((s) => s.match !== match);
    return before - this.scripts.length;
  }

  list() {
    return [...this.scripts];
  }
}

/** @param {unknown} v */
function boolean(v) {
  return typeof v === 'boolean' ? null : 'must be a boolean';
}
/** @param {unknown} v */
function integer(v) {
  return Number.isInteger(v) ? null : 'must be an integer';
}
/** @param {unknown} v */
function httpStatus(v) {
  return Number.isInteger(v) && /** @type {number} */ (v) >= 200 && /** @type {number} */ (v) <= 599 ? null : 'must be an HTTP status 200..599';
}
/** @param {unknown} v */
function delay(v) {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_DELAY_MS ? null : `must be a number of ms 0..${MAX_DELAY_MS}`;
}
/** @param {unknown} v */
function gateName(v) {
  return typeof v === 'string' && /^[\w.-]{1,100}$/.test(v) ? null : 'must be a gate name (letters, digits, _ . -)';
}
/** @param {...string} allowed */
function oneOf(...allowed) {
  return (/** @type {unknown} */ v) => (typeof v === 'string' && allowed.includes(v) ? null : `must be one of ${allowed.join(', ')}`);
}
