// What a task costs in storage (docs/performance.md, "Storage"): live bytes per task in D1, in
// the task objects and in the archive (R2), fresh and after the archive window, read off the local
// stack's own files (SQLite pages in use, not file sizes: freed pages are not counted), and what
// they mean at the provider's full create rate. Tasks as real ones look: a 60-word prompt, two
// takes of about 2.5 KB of lyrics each, half with a client callBackUrl (delivered once).
//
// Run: npm run bench:storage            (TASKS=200, ARCHIVE_AFTER_SECONDS=20)
// Another checkout (say the previous release, for a before/after): BENCH_CHECKOUT=/path/to/it
// (it has no archive: its "after" is its "fresh").

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, inPool } from './support/load.mjs';
import { createWithRealisticResult } from './support/realistic.mjs';
import { measureStores } from './support/stores.mjs';

const CHECKOUT = resolve(process.env.BENCH_CHECKOUT ?? join(import.meta.dirname, '..'));
const { DEV_API_KEY, startLocalStack } = await import(join(CHECKOUT, 'scripts', 'local-stack.mjs'));
const TASKS = Number(process.env.TASKS ?? 200);
const ARCHIVE_AFTER_SECONDS = Number(process.env.ARCHIVE_AFTER_SECONDS ?? 20);
/** The provider's published limit, 20 creates per 10 s, all day. */
const FULL_RATE_PER_DAY = 172_800;
/** Tasks inside the default archive window (a week), and inside the 720 hours a mark may stay. */
const IN_WINDOW = FULL_RATE_PER_DAY * 7;
const IN_MARK_HOURS = FULL_RATE_PER_DAY * 30;
const api = { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' };

async function run() {
  const persistTo = mkdtempSync(join(tmpdir(), 'lyrics-gateway-bench-storage-'));
  const stack = await startLocalStack({
    port: await freePort(),
    simulatorPort: 0,
    inspectorPort: await freePort(),
    persistTo,
    // The bench delivers each callback itself, with realistic lyrics.
    callbackDelayMs: 10 * 60 * 1000,
    log: process.env.VERBOSE === '1',
    vars: { KIE_CREATE_LIMIT: '1000000', POLL_GRACE_SECONDS: '3600', ARCHIVE_AFTER_SECONDS: String(ARCHIVE_AFTER_SECONDS) },
  });
  try {
    const empty = measureStores(persistTo);
    const hook = `${stack.simulatorUrl}/__sim/hooks/bench-storage`;
    const taskIds = [];
    await inPool(Array.from({ length: TASKS }, (_, i) => i), 8, async (i) => {
      taskIds.push(await createWithRealisticResult(stack, api, i, i % 2 === 0 ? hook : undefined));
    });
    // Settled: every result in D1, every delivery made.
    const infos = await untilAll(stack.url, taskIds, (data) => data.status === 'SUCCESS' && (data.delivery === null || data.delivery.state === 'delivered'));
    const recordInfoBytes = infos.reduce((sum, data) => sum + Buffer.byteLength(JSON.stringify(data)), 0) / TASKS;
    const fresh = measureStores(persistTo);
    // The archive window passes: each task archives itself on its own alarm.
    await new Promise((done) => setTimeout(done, (ARCHIVE_AFTER_SECONDS + 5) * 1000));
    await waitUntilUnlisted(stack.url, 60_000);
    const after = measureStores(persistTo);
    return { empty, fresh, after, recordInfoBytes };
  } finally {
    await stack.close();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

async function untilAll(url, taskIds, done) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const infos = await Promise.all(taskIds.map(async (taskId) => (await (await fetch(`${url}/api/v1/lyrics/record-info?taskId=${taskId}`, { headers: api })).json()).data));
    if (infos.every((data) => data && done(data))) return infos;
    if (Date.now() > deadline) throw new Error('tasks did not settle in time');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Waits until no list holds a task (all archived); a checkout without an archive never gets there. */
async function waitUntilUnlisted(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const page = (await (await fetch(`${url}/api/v1/lyrics/tasks?limit=1`, { headers: api })).json()).data;
    if (page.items.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const kib = (bytes) => `${(bytes / 1024).toFixed(2)} KiB`;
const gb = (bytes) => `${(bytes / 1e9).toFixed(2)} GB`;

const { empty, fresh, after, recordInfoBytes } = await run();
const per = (snapshot, store) => (snapshot[store] - empty[store]) / TASKS;
console.log(`${TASKS} tasks (60-word prompt, 2 takes of ~2.5 KB, half with a callBackUrl) from ${CHECKOUT}`);
console.log(`record-info JSON per task: ${kib(recordInfoBytes)}`);
console.log('store          fresh/task    after-archive/task');
for (const store of ['d1', 'objects', 'archive']) {
  console.log(`${store.padEnd(12)} ${kib(per(fresh, store)).padStart(12)} ${kib(per(after, store)).padStart(20)}`);
}
console.log(`archive bytes per task / record-info JSON: ${(per(after, 'archive') / recordInfoBytes).toFixed(2)}`);
// At the full rate: a week of tasks live in D1, 720 hours of marks; archived tasks cost their objects nothing.
const archived = per(after, 'archive') > 0;
const d1AtFullRate = archived ? per(fresh, 'd1') * IN_WINDOW + per(after, 'd1') * (IN_MARK_HOURS - IN_WINDOW) : per(fresh, 'd1') * FULL_RATE_PER_DAY * 365;
console.log(`at ${FULL_RATE_PER_DAY.toLocaleString('en')} tasks a day: D1 ${archived ? 'steady at' : 'after a year'} ${gb(d1AtFullRate)}` +
  `${archived ? '' : ` (full at 10 GB after ${Math.round(10e9 / (per(fresh, 'd1') * FULL_RATE_PER_DAY))} days)`}; ` +
  `task objects ${gb(per(archived ? fresh : after, 'objects') * (archived ? IN_WINDOW : FULL_RATE_PER_DAY * 365))}${archived ? ' (the live week)' : ' after a year'}; ` +
  `archive ${gb(per(after, 'archive') * FULL_RATE_PER_DAY * 365)} a year`);
