// How fast the cron poller recovers tasks whose callback never came, against a slow upstream
// (docs/performance.md). For each budget (POLL_MAX_PER_TICK) it starts the local stack afresh,
// creates that many tasks the simulator never calls back (record-info ready at once but answering
// in RECORD_DELAY_MS), fires one cron tick, and follows D1 for 90 s: how long the tick itself ran,
// how many tasks were recovered 30, 60 and 90 s after it (the 60 s figure is the recovery per
// minute, one tick a minute), and how often the upstream was polled per task.
//
// Run: npm run bench:poller [budget ...]   (default 40 200 1000).
// Knobs: RECORD_DELAY_MS (800), POLL_SPREAD_SECONDS (the gateway's default unless set).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_API_KEY, startLocalStack } from '../scripts/local-stack.mjs';
import { freePort, inPool } from './support/load.mjs';

const budgets = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
const RECORD_DELAY_MS = Number(process.env.RECORD_DELAY_MS ?? 800);
const FOLLOW_MS = 90_000;
const api = { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' };

/** Tasks D1 shows as SUCCESS, counted through the list endpoint. */
async function recoveredCount(url) {
  let count = 0;
  let cursor = '';
  do {
    const page = (await (await fetch(`${url}/api/v1/lyrics/tasks?status=SUCCESS&limit=100&cursor=${cursor}`, { headers: api })).json()).data;
    count += page.items.length;
    cursor = page.nextCursor ?? '';
  } while (cursor);
  return count;
}

async function measure(budget) {
  const persistTo = mkdtempSync(join(tmpdir(), 'lyrics-gateway-bench-'));
  const stack = await startLocalStack({
    port: await freePort(),
    simulatorPort: 0,
    inspectorPort: await freePort(),
    persistTo,
    // VERBOSE=1 shows wrangler's and the simulator's output, as for `npm start`.
    log: process.env.VERBOSE === '1',
    // Due at once (no grace), creates not limited: the tick is what is measured.
    vars: {
      POLL_MAX_PER_TICK: String(budget),
      POLL_GRACE_SECONDS: '0',
      KIE_CREATE_LIMIT: '1000000',
      // The gateway's own default unless set here, to compare spreads.
      ...(process.env.POLL_SPREAD_SECONDS ? { POLL_SPREAD_SECONDS: process.env.POLL_SPREAD_SECONDS } : {}),
    },
  });
  try {
    const marker = `bench-poll-${budget}-${Date.now()}`;
    await fetch(`${stack.simulatorUrl}/__sim/scripts`, {
      method: 'POST',
      headers: api,
      body: JSON.stringify({ match: marker, callback: 'drop', callbackDelayMs: 0, recordDelayMs: RECORD_DELAY_MS }),
    });
    await inPool(Array.from({ length: budget }, (_, i) => i), 8, async (i) => {
      const response = await fetch(`${stack.url}/api/v1/lyrics`, { method: 'POST', headers: api, body: JSON.stringify({ prompt: `${marker} ${i}` }) });
      if (!response.ok) throw new Error(`create answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    });

    const tickAt = performance.now();
    let tickMs = null;
    const tick = stack.fireCron().then(async (response) => {
      await response.arrayBuffer();
      tickMs = performance.now() - tickAt;
    });
    /** @type {Record<number, number>} */
    const at = {};
    let allAt = null;
    for (const mark of [30_000, 60_000, FOLLOW_MS]) {
      while (performance.now() - tickAt < mark) {
        await new Promise((done) => setTimeout(done, 2000));
        if (allAt === null && (await recoveredCount(stack.url)) >= budget) allAt = performance.now() - tickAt;
        if (allAt !== null) break;
      }
      at[mark] = allAt !== null && allAt <= mark ? budget : await recoveredCount(stack.url);
    }
    await tick;
    const tasks = (await (await fetch(`${stack.simulatorUrl}/__sim/tasks?match=${marker}`)).json()).tasks;
    const polls = tasks.map((task) => task.recordInfoRequests);
    return {
      budget,
      tickMs,
      at30: at[30_000],
      at60: at[60_000],
      at90: at[FOLLOW_MS],
      allAt,
      pollsTotal: polls.reduce((a, b) => a + b, 0),
      pollsMax: Math.max(...polls),
    };
  } finally {
    await stack.close();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

console.log(`one cron tick over N lost tasks, POLL_MAX_PER_TICK = N, record-info answering in ${RECORD_DELAY_MS} ms`);
console.log('budget  tick-s  recovered@30s  @60s (per minute)  @90s  all-recovered-at-s  upstream-polls  max-polls/task');
for (const budget of budgets.length > 0 ? budgets : [40, 200, 1000]) {
  const r = await measure(budget);
  console.log(
    [String(r.budget).padStart(6), (r.tickMs / 1000).toFixed(1).padStart(7), String(r.at30).padStart(14), String(r.at60).padStart(18),
      String(r.at90).padStart(5), (r.allAt === null ? `> ${FOLLOW_MS / 1000}` : (r.allAt / 1000).toFixed(0)).padStart(19),
      String(r.pollsTotal).padStart(15), String(r.pollsMax).padStart(15)].join(' '),
  );
}
