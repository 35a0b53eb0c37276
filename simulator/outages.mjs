// Outages: record-info stops answering properly for a while, then recovers. Unlike a script,
// which a task captures at create time, an outage is looked up on every request, so a test can
// start and end one while its tasks wait (a poll at the deadline fails, a later one succeeds).
// Keyed by a prompt substring like scripts, so tests sharing one simulator do not disturb each other.

import { isObject } from './http.mjs';

/**
 * @typedef {object} Outage
 * @property {string} match                 Substring of the polled task's prompt.
 * @property {number | 'hang'} recordInfo   HTTP status record-info answers (e.g. 503, 429), or never answer.
 */

/**
 * @param {unknown} body
 * @returns {{ ok: true, outage: Outage } | { ok: false, error: string }}
 */
export function validateOutage(body) {
  if (!isObject(body)) return { ok: false, error: 'body must be a JSON object' };
  if (typeof body.match !== 'string' || body.match === '') return { ok: false, error: '"match" must be a non-empty string' };
  for (const key of Object.keys(body)) {
    if (key !== 'match' && key !== 'recordInfo') return { ok: false, error: `unknown field "${key}"; known: match, recordInfo` };
  }
  const kind = body.recordInfo;
  const status = Number.isInteger(kind) && /** @type {number} */ (kind) >= 400 && /** @type {number} */ (kind) <= 599;
  if (kind !== 'hang' && !status) return { ok: false, error: '"recordInfo" must be an HTTP status 400..599 or "hang"' };
  return { ok: true, outage: { match: body.match, recordInfo: /** @type {number | 'hang'} */ (kind) } };
}

export class OutageRegistry {
  constructor() {
    /** @type {Outage[]} */
    this.outages = [];
  }

  /** Starts an outage, replacing one with the same match. @param {Outage} outage */
  set(outage) {
    this.outages = this.outages.filter((o) => o.match !== outage.match);
    this.outages.push(outage);
    return outage;
  }

  /** The newest outage whose match is in the prompt, if any. @param {string | undefined} prompt */
  find(prompt) {
    if (prompt === undefined) return null;
    for (let i = this.outages.length - 1; i >= 0; i--) {
      if (prompt.includes(this.outages[i].match)) return this.outages[i];
    }
    return null;
  }

  /** Ends all outages, or only the one registered with exactly this match. @param {string} [match] */
  clear(match) {
    const before = this.outages.length;
    this.outages = match === undefined ? [] : this.outages.filter((o) => o.match !== match);
    return before - this.outages.length;
  }

  list() {
    return [...this.outages];
  }
}
