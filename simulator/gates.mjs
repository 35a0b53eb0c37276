// Named gates a test opens when it is ready: a create's answer or a callback waits at its gate
// (scripts: createGate, callbackGate) until POST /__sim/gates/<name>/open, instead of a delay
// that must be long enough on a loaded machine. A gate stays open once opened; reset() forgets
// every gate: a held create is answered, a held callback is dropped.

/** @typedef {{ open: boolean, waiting: Set<(opened: boolean) => void>, passed: number }} Gate */

export class Gates {
  constructor() {
    /** @type {Map<string, Gate>} */
    this.gates = new Map();
  }

  /** @param {string} name */
  get(name) {
    let gate = this.gates.get(name);
    if (!gate) {
      gate = { open: false, waiting: new Set(), passed: 0 };
      this.gates.set(name, gate);
    }
    return gate;
  }

  /**
   * Resolves true once the gate is open (at once if it already is), false when reset() forgets
   * it first (a callback then stays unsent, as reset cancels pending callbacks).
   * @param {string} name
   * @returns {Promise<boolean>}
   */
  wait(name) {
    const gate = this.get(name);
    if (gate.open) {
      gate.passed++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      /** @param {boolean} opened */
      const go = (opened) => {
        gate.waiting.delete(go);
        if (opened) gate.passed++;
        resolve(opened);
      };
      gate.waiting.add(go);
    });
  }

  /** Open the gate: everything waiting goes on, and later arrivals pass. @param {string} name */
  open(name) {
    const gate = this.get(name);
    const released = gate.waiting.size;
    gate.open = true;
    for (const go of [...gate.waiting]) go(true);
    return released;
  }

  /** @param {string} name */
  view(name) {
    const gate = this.get(name);
    return { name, open: gate.open, waiting: gate.waiting.size, passed: gate.passed };
  }

  reset() {
    for (const gate of this.gates.values()) for (const go of [...gate.waiting]) go(false);
    this.gates.clear();
  }
}
