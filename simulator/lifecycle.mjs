// Owns every timer and in-flight callback of one simulator, so that reset() and close() can
// cancel them all: a test run must never leave a stray callback firing after its teardown.

/**
 * Tracked timers plus one AbortSignal for outgoing requests; cancelAll() kills both and starts over.
 */
export class Lifecycle {
  constructor() {
    /** @type {AbortController} */
    this.controller = new AbortController();
    /** @type {Set<ReturnType<typeof setTimeout>>} */
    this.timers = new Set();
  }

  /** Aborted by the next cancelAll(); pass it to outgoing requests. */
  get signal() {
    return this.controller.signal;
  }

  /**
   * setTimeout that cancelAll() clears. Unref'd: the HTTP server keeps the process alive, a pending
   * callback alone must not (a test runner that forgets close() still exits).
   * @param {() => void} fn
   * @param {number} ms
   */
  setTimeout(fn, ms) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, clampDelay(ms));
    timer.unref();
    this.timers.add(timer);
    return timer;
  }

  /**
   * Wait ms; resolves true when the time passed, false when cancelAll() came first. Never rejects.
   * @param {number} ms
   * @returns {Promise<boolean>}
   */
  sleep(ms) {
    const signal = this.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(false);
      };
      const timer = this.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Clear all timers, abort all outgoing requests, and arm a fresh signal for what follows. */
  cancelAll() {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.controller.abort(new Error('simulator reset or closed'));
    this.controller = new AbortController();
  }
}

/** setTimeout fires at once for delays above 2^31-1 ms; clamp instead of surprising. @param {number} ms */
function clampDelay(ms) {
  return Math.min(Math.max(0, Number(ms) || 0), 2 ** 31 - 1);
}
