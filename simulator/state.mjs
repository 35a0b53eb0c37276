// Everything one simulator remembers: tasks, scripts, request counters, and the timers that
// belong to them. Kept apart from HTTP so that reset() is one obvious place.

import { randomBytes } from 'node:crypto';
import { Lifecycle } from './lifecycle.mjs';
import { Gates } from './gates.mjs';
import { Hooks } from './hooks.mjs';
import { generateLyrics } from './lyrics.mjs';
import { OutageRegistry } from './outages.mjs';
import { ScriptRegistry } from './scripts.mjs';

/**
 * One try to deliver a callback: `status` when the receiver answered, `error` when it did not.
 * @typedef {object} CallbackAttempt
 * @property {number} [status]
 * @property {string} [error]
 * @property {number} at          Epoch ms when the try started.
 * @property {number} ms          How long the try took.
 * @property {number} copy        1-based copy number (scripts may send duplicates).
 * @property {number} try         1-based try number within that copy (at most 3).
 * @property {'scheduled'|'early'|'manual'} source
 * @property {string} [variant]
 * @property {boolean} [fail]
 */

/**
 * @typedef {object} Task
 * @property {string} taskId
 * @property {string} prompt
 * @property {string} callBackUrl
 * @property {number} createdAt    Epoch ms.
 * @property {number} readyAt      Epoch ms from which record-info reports the result.
 * @property {import('./lyrics.mjs').LyricItem[]} items
 * @property {import('./scripts.mjs').Script | null} script  Captured at create time.
 * @property {CallbackAttempt[]} callbackAttempts
 * @property {number} recordInfoRequests
 */

/** @typedef {{ kind: 'create' | 'recordInfo', prompt: string | undefined, taskId: string | undefined }} CountedRequest */

export class SimState {
  constructor() {
    /** @type {Map<string, Task>} */
    this.tasks = new Map();
    this.scripts = new ScriptRegistry();
    this.outages = new OutageRegistry();
    /** @type {CountedRequest[]} every provider request, for /__sim/stats */
    this.requests = [];
    this.lifecycle = new Lifecycle();
    /** Client webhook endpoints (hooks.mjs), for the gateway's own deliveries. */
    this.hooks = new Hooks();
    /** Gates that hold creates and callbacks until a test opens them (gates.mjs). */
    this.gates = new Gates();
  }

  /**
   * @param {string} prompt
   * @param {string} callBackUrl
   * @param {import('./scripts.mjs').Script | null} script
   * @param {number} delayMs  Time until the task is ready (and the callback is due).
   * @returns {Task}
   */
  createTask(prompt, callBackUrl, script, delayMs) {
    const now = Date.now();
    /** @type {Task} */
    const task = {
      // 32 lowercase hex chars, the provider's format.
      taskId: randomBytes(16).toString('hex'),
      prompt,
      callBackUrl,
      createdAt: now,
      readyAt: now + delayMs,
      items: generateLyrics(prompt),
      script,
      callbackAttempts: [],
      recordInfoRequests: 0,
    };
    this.tasks.set(task.taskId, task);
    return task;
  }

  /** @param {string} taskId */
  getTask(taskId) {
    return this.tasks.get(taskId);
  }

  /** Tasks whose prompt contains match (all when match is empty), oldest first. @param {string} [match] */
  findTasks(match) {
    return [...this.tasks.values()].filter((t) => !match || t.prompt.includes(match));
  }

  /** @param {CountedRequest['kind']} kind @param {string | undefined} prompt @param {string | undefined} [taskId] */
  countRequest(kind, prompt, taskId) {
    this.requests.push({ kind, prompt, taskId });
  }

  /**
   * Provider requests received, restricted to those whose prompt (the create's, or the polled
   * task's) contains match. Requests whose prompt is unknown only count when match is empty.
   * `taskIdPrefix` further keeps only record-info requests for task ids starting with it (ids the
   * simulator never made, say, which have no prompt to match).
   * @param {string} [match] @param {string} [taskIdPrefix]
   */
  stats(match, taskIdPrefix) {
    const hit = (/** @type {CountedRequest} */ r) =>
      (!match || (r.prompt !== undefined && r.prompt.includes(match))) &&
      (!taskIdPrefix || (r.kind === 'recordInfo' && r.taskId !== undefined && r.taskId.startsWith(taskIdPrefix)));
    let creates = 0;
    let recordInfo = 0;
    for (const r of this.requests) {
      if (!hit(r)) continue;
      if (r.kind === 'create') creates++;
      else recordInfo++;
    }
    // Tasks created and callback tries made for the same match, for "exactly one task" assertions.
    const tasks = this.findTasks(match);
    const callbackAttempts = tasks.reduce((n, t) => n + t.callbackAttempts.length, 0);
    return { creates, recordInfo, tasks: tasks.length, callbackAttempts };
  }

  /** Forget tasks, scripts and counters; cancel pending callbacks and timers. */
  reset() {
    this.lifecycle.cancelAll();
    this.tasks.clear();
    this.scripts.clear();
    this.outages.clear();
    this.requests = [];
    this.hooks.reset();
    this.gates.reset();
  }
}

/**
 * The JSON view of a task for the control endpoints.
 * @param {Task} task
 */
export function taskView(task) {
  return {
    taskId: task.taskId,
    prompt: task.prompt,
    callBackUrl: task.callBackUrl,
    createdAt: task.createdAt,
    readyAt: task.readyAt,
    ready: Date.now() >= task.readyAt,
    callbackAttempts: task.callbackAttempts,
    recordInfoRequests: task.recordInfoRequests,
    script: task.script,
    lyrics: task.items.map(({ title, text }) => ({ title, text })),
  };
}
