// What one task costs on Workers Paid, counted (docs/performance.md, "Cost per task"): a standard
// mix of tasks through the local stack, its billable operations counted inside the Worker by the
// metered entry (bench/cost/metered-worker.ts: D1's and SQLite's own row counts, and every
// invocation, object request, alarm set and R2 call), and beside each figure the floor: the least
// any gateway of this shape must do for the same mix. Then dollars per 100,000 tasks at the list
// prices (bench/support/prices.mjs), and what a month costs at 5,000 and 172,800 tasks a day.
//
// The mix, per TASKS tasks (default 200): each created once, with a 60-word prompt; nine in ten
// called back three times (the upstream's duplicates) with two takes of ~2.5 KB of lyrics, one in
// ten whose callback is lost and recovered by the cron's poll; half with a client callBackUrl, a
// fifth of those failing their first attempt; record-info read twice once the result is there;
// then the archive window (ARCHIVE_AFTER_SECONDS, 15 s here) passes and every task is archived.
// The window outlasts the duplicates' fold (5 s), as a deployment's week does, so the fold's alarm
// and the archive's are counted apart, as a deployment pays them.
//
// Run: npm run bench:cost   (TASKS=200; VERBOSE=1 shows wrangler's output)

import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DEV_API_KEY, startLocalStack } from '../scripts/local-stack.mjs';
import { freePort, inPool } from './support/load.mjs';
import { INCLUDED, PRICE, PRICES_CHECKED } from './support/prices.mjs';
import { realisticCallback, realisticPrompt } from './support/realistic.mjs';
import { measureStores } from './support/stores.mjs';
import { processCpuClock, workerdOrigin } from './support/workerd-socket.mjs';

const TASKS = Number(process.env.TASKS ?? 200);
const DELIVERIES = 3;
const READS = 2;
const ROOT = join(import.meta.dirname, '..');
const api = { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' };

/** The mix, task by task: which are lost, which have a webhook, which webhook fails once. */
const plan = (i) => ({ lost: i % 10 === 5, webhook: i % 2 === 0, failsOnce: i % 10 === 0 });

async function run() {
  const persistTo = mkdtempSync(join(tmpdir(), 'lyrics-gateway-bench-cost-'));
  // The metered entry, with every binding of wrangler.toml: a copy whose `main` points at it.
  const configPath = join(ROOT, '.bench-cost.wrangler.toml');
  writeFileSync(configPath, readFileSync(join(ROOT, 'wrangler.toml'), 'utf8').replace(/^main = .*$/m, 'main = "bench/cost/metered-worker.ts"'));
  const port = await freePort();
  const stack = await startLocalStack({
    port,
    simulatorPort: 0,
    inspectorPort: await freePort(),
    persistTo,
    configPath,
    callbackDelayMs: 10 * 60 * 1000,
    log: process.env.VERBOSE === '1',
    vars: {
      KIE_CREATE_LIMIT: '1000000',
      POLL_GRACE_SECONDS: '0',
      POLL_SPREAD_SECONDS: '0',
      ARCHIVE_AFTER_SECONDS: '15',
      WEBHOOK_RETRY_SCHEDULE: '1,1,1',
    },
  });
  try {
    const origin = await workerdOrigin({ fallback: stack.url, exclude: new Set([port]), probePath: '/healthz', expect: (body) => body.includes('"database"') });
    const cpu = processCpuClock(origin);
    const d1 = openD1(persistTo);
    const empty = measureStores(persistTo);
    await fetch(`${stack.url}/__meter`, { method: 'POST' });
    const cpuBefore = cpu();
    const runId = crypto.randomUUID().slice(0, 8);

    const taskIds = new Array(TASKS);
    await inPool(Array.from({ length: TASKS }, (_, i) => i), 8, async (i) => {
      const { lost, webhook, failsOnce } = plan(i);
      const hook = `${stack.simulatorUrl}/__sim/hooks/cost-${runId}-${i}`;
      if (failsOnce) await post(`${hook}/behaviour`, { statuses: [500] });
      const created = await (await fetch(`${stack.url}/api/v1/lyrics`, {
        method: 'POST', headers: api, body: JSON.stringify({ prompt: realisticPrompt(i), ...(webhook ? { callBackUrl: hook } : {}) }),
      })).json();
      if (created.code !== 200) throw new Error(`create answered ${JSON.stringify(created)}`);
      const { taskId } = created.data;
      taskIds[i] = taskId;
      if (lost) {
        await post(`${stack.simulatorUrl}/__sim/tasks/${taskId}/ready`, {});
        return;
      }
      const callback = await realisticCallback(stack, taskId, i);
      for (let copy = 0; copy < DELIVERIES; copy++) {
        const answer = await fetch(`${stack.url}${callback.path}`, { method: 'POST', headers: callback.headers, body: callback.body });
        if (!answer.ok) throw new Error(`callback answered ${answer.status}`);
      }
      // The client reads its result, as clients do once told it is there.
      await readTwice(stack, taskId);
    });
    // The lost ones: the cron polls them (the bench reads progress off D1's file, not through the Worker).
    await until(() => d1.count("status = 'PENDING'") === TASKS / 10, 'the callbacks to land');
    await stack.fireCron();
    await until(() => d1.count("status = 'PENDING'") === 0, 'the lost results to be polled', 60_000, d1.summary);
    await inPool(taskIds.filter((_, i) => plan(i).lost), 8, (taskId) => readTwice(stack, taskId));
    // Each task archives itself ARCHIVE_AFTER_SECONDS after its result and its delivery.
    await until(() => d1.marked() === TASKS, 'every task archived', 120_000, d1.summary);
    // The archive's last alarms settle.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const counts = await (await fetch(`${stack.url}/__meter`)).json();
    const cpuMs = cpu() === null ? null : /** @type {number} */ (cpu()) - /** @type {number} */ (cpuBefore);
    const stored = measureStores(persistTo);
    d1.close();
    return { counts, cpuMs, stored: Object.fromEntries(Object.entries(stored).map(([store, bytes]) => [store, bytes - empty[store]])) };
  } finally {
    await stack.close();
    rmSync(persistTo, { recursive: true, force: true });
    rmSync(configPath, { force: true });
  }
}

/** record-info, READS times: the task is SUCCESS. */
async function readTwice(stack, taskId) {
  for (let read = 0; read < READS; read++) {
    const info = await (await fetch(`${stack.url}/api/v1/lyrics/record-info?taskId=${taskId}`, { headers: api })).json();
    if (info.data?.status !== 'SUCCESS') throw new Error(`record-info answered ${JSON.stringify(info).slice(0, 200)}`);
  }
}

async function post(url, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
}

/** The local D1's file, read-only: progress without a request through the Worker being measured. */
function openD1(persistTo) {
  const dir = join(persistTo, 'v3', 'd1', 'miniflare-D1DatabaseObject');
  const file = readdirSync(dir).find((name) => name.endsWith('.sqlite'));
  const db = new DatabaseSync(join(dir, /** @type {string} */ (file)), { readOnly: true });
  return {
    count: (where) => Number(Object.values(db.prepare(`SELECT count(*) FROM tasks WHERE ${where}`).get())[0]),
    /** How the tasks stand, for a message when waiting timed out. */
    summary: () => JSON.stringify(db.prepare("SELECT status, json_extract(delivery, '$.state') AS delivery, count(*) AS n FROM tasks GROUP BY 1, 2").all()),
    marked: () => Number(Object.values(db.prepare("SELECT count(*) FROM task_marks WHERE state = 'archived'").get())[0]),
    close: () => db.close(),
  };
}

async function until(check, what, ms = 60_000, describe = () => '') {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * The floor for the mix, per task: what the floor Worker (the least work a callback path of this
 * shape can do) does, for every step of the mix. One create request (its upstream call is not
 * billed); one object request to register the task (the floor's `warm`) and one per callback
 * delivery; in the object, its one table (SQLite writes 2 rows to make a table, as this bench's
 * meter counts for the gateway's) and one row to decide; in D1 one row to publish the result and
 * its primary key's index entry (the floor's `results` table), and one row read per record-info;
 * one object request per poll of a lost callback and per webhook attempt; one R2 write to archive;
 * and, once archived, the archived record alone stored.
 */
function floorOf(archiveBytes) {
  const lost = 0.1;
  const webhooks = 0.5;
  const webhookAttempts = webhooks * (1 + 0.2);
  return {
    workerRequests: 1 + (1 - lost) * DELIVERIES + READS,
    objectRequests: 1 + (1 - lost) * DELIVERIES + lost + webhookAttempts,
    objectActiveSeconds: 0,
    objectRowsRead: 0,
    objectRowsWritten: 2 + 1,
    d1RowsRead: READS,
    d1RowsWritten: 2,
    r2ClassA: 1,
    r2ClassB: 0,
    cpuMs: null,
    storedD1: 0,
    storedObjects: 0,
    storedR2: archiveBytes,
  };
}

function perTask({ counts, cpuMs, stored }) {
  const objects = Object.values(counts.objects);
  const sum = (pick) => objects.reduce((total, object) => total + pick(object), 0);
  return {
    workerRequests: (counts.invocations.fetch + counts.invocations.scheduled) / TASKS,
    objectRequests: sum((o) => o.rpc + o.alarms) / TASKS,
    objectActiveSeconds: sum((o) => o.activeMs) / 1000 / TASKS,
    objectRowsRead: sum((o) => o.rowsRead) / TASKS,
    objectRowsWritten: sum((o) => o.rowsWritten + o.setAlarm) / TASKS,
    d1RowsRead: counts.d1.rowsRead / TASKS,
    d1RowsWritten: counts.d1.rowsWritten / TASKS,
    r2ClassA: counts.r2.classA / TASKS,
    r2ClassB: counts.r2.classB / TASKS,
    cpuMs: cpuMs === null ? null : cpuMs / TASKS,
    storedD1: stored.d1 / TASKS,
    storedObjects: (stored.objects + stored.otherObjects) / TASKS,
    storedR2: stored.archive / TASKS,
  };
}

const ROWS = [
  ['Worker requests', 'workerRequests', PRICE.workerRequest],
  ['Worker CPU ms (workerd, upper bound)', 'cpuMs', PRICE.workerCpuMs],
  ['Durable Object requests', 'objectRequests', PRICE.objectRequest],
  ['Durable Object active seconds', 'objectActiveSeconds', PRICE.objectActiveSecond],
  ['Durable Object rows read', 'objectRowsRead', PRICE.objectRowRead],
  ['Durable Object rows written (alarms set incl.)', 'objectRowsWritten', PRICE.objectRowWritten],
  ['D1 rows read', 'd1RowsRead', PRICE.d1RowRead],
  ['D1 rows written', 'd1RowsWritten', PRICE.d1RowWritten],
  ['R2 class A', 'r2ClassA', PRICE.r2ClassA],
  ['R2 class B', 'r2ClassB', PRICE.r2ClassB],
];
const STORED = [
  ['D1 bytes kept (mark)', 'storedD1', PRICE.d1StoredGbMonth],
  ['Durable Object bytes kept', 'storedObjects', PRICE.objectStoredGbMonth],
  ['R2 bytes kept (archive)', 'storedR2', PRICE.r2StoredGbMonth],
];

const dollarsPer100k = (value, price) => (value ?? 0) * price * 100_000;
const storageDollarsPer100k = (bytes, pricePerGbMonth) => (bytes * 100_000 / 1e9) * pricePerGbMonth;
const fmt = (value, digits = 2) => (value === null ? '—' : value.toFixed(digits));

const result = await run();
const gateway = perTask(result);
const floor = floorOf(gateway.storedR2);

console.log(`Cost per task: ${TASKS} tasks of the standard mix, prices of ${PRICES_CHECKED}`);
console.log(`${'operation'.padEnd(48)}${'gateway/task'.padStart(14)}${'floor/task'.padStart(12)}${'$ gw/100k'.padStart(12)}${'$ floor/100k'.padStart(14)}`);
let gatewayTotal = 0;
let floorTotal = 0;
for (const [label, key, price] of ROWS) {
  const [g, f] = [gateway[key], floor[key]];
  const [gd, fd] = [dollarsPer100k(g, price), dollarsPer100k(f, price)];
  gatewayTotal += gd;
  floorTotal += fd;
  console.log(`${label.padEnd(48)}${fmt(g, 3).padStart(14)}${fmt(f, 3).padStart(12)}${gd.toFixed(4).padStart(12)}${fd.toFixed(4).padStart(14)}`);
}
console.log(`${'operations, total'.padEnd(74)}${gatewayTotal.toFixed(4).padStart(12)}${floorTotal.toFixed(4).padStart(14)}`);
console.log(`gateway ÷ floor (operations): ${(gatewayTotal / floorTotal).toFixed(2)}`);
let gatewayMonth = 0;
let floorMonth = 0;
for (const [label, key, price] of STORED) {
  const [g, f] = [gateway[key], floor[key]];
  const [gd, fd] = [storageDollarsPer100k(g, price), storageDollarsPer100k(f, price)];
  gatewayMonth += gd;
  floorMonth += fd;
  console.log(`${label.padEnd(48)}${fmt(g, 0).padStart(14)}${fmt(f, 0).padStart(12)}${gd.toFixed(4).padStart(12)}${fd.toFixed(4).padStart(14)}`);
}
console.log(`(storage: dollars per 100,000 tasks kept for a month, after their archive window)`);
console.log(`gateway ÷ floor (operations and a month of storage): ${((gatewayTotal + gatewayMonth) / (floorTotal + floorMonth)).toFixed(2)}`);
console.log('per object class:', JSON.stringify(Object.fromEntries(Object.entries(result.counts.objects).map(([name, o]) => [name, {
  requests: +((o.rpc + o.alarms) / TASKS).toFixed(3), alarms: +(o.alarms / TASKS).toFixed(3), rowsWritten: +(o.rowsWritten / TASKS).toFixed(2), setAlarm: +(o.setAlarm / TASKS).toFixed(2), activeSeconds: +(o.activeMs / 1000 / TASKS).toFixed(3),
}]))));
console.log('invocations:', JSON.stringify(result.counts.invocations), 'D1 queries/task:', (result.counts.d1.queries / TASKS).toFixed(2));
if (process.env.WRITES === '1') {
  console.log('rows written per task, by statement:');
  for (const [statement, rows] of Object.entries(result.counts.writesByStatement).sort((a, b) => b[1] - a[1])) console.log(`  ${(rows / TASKS).toFixed(2).padStart(6)}  ${statement}`);
}
monthly(gateway, 'gateway');
monthly(floor, 'floor');

/**
 * A month at 5,000 and at 172,800 tasks a day: operations at the mix's rates, storage at steady
 * state (a week of live tasks in D1 and their objects, 720 hours of marks, a year of archive),
 * after what Workers Paid includes, plus its $5.
 */
function monthly(per, label) {
  for (const perDay of [5_000, 172_800]) {
    const tasks = perDay * 30;
    const over = (used, included) => Math.max(0, used - included);
    const ops =
      over(per.workerRequests * tasks, INCLUDED.workerRequests) * PRICE.workerRequest +
      over((per.cpuMs ?? 0) * tasks, INCLUDED.workerCpuMs) * PRICE.workerCpuMs +
      over(per.objectRequests * tasks, INCLUDED.objectRequests) * PRICE.objectRequest +
      over(per.objectActiveSeconds * tasks, INCLUDED.objectActiveSeconds) * PRICE.objectActiveSecond +
      over(per.objectRowsRead * tasks, INCLUDED.objectRowsRead) * PRICE.objectRowRead +
      over(per.objectRowsWritten * tasks, INCLUDED.objectRowsWritten) * PRICE.objectRowWritten +
      over(per.d1RowsRead * tasks, INCLUDED.d1RowsRead) * PRICE.d1RowRead +
      over(per.d1RowsWritten * tasks, INCLUDED.d1RowsWritten) * PRICE.d1RowWritten +
      over(per.r2ClassA * tasks, INCLUDED.r2ClassA) * PRICE.r2ClassA +
      over(per.r2ClassB * tasks, INCLUDED.r2ClassB) * PRICE.r2ClassB;
    const gb = (bytes) => bytes / 1e9;
    const storage =
      over(gb(per.storedD1 * perDay * 30), INCLUDED.d1StoredGb) * PRICE.d1StoredGbMonth +
      over(gb(per.storedObjects * perDay * 30), INCLUDED.objectStoredGb) * PRICE.objectStoredGbMonth +
      over(gb(per.storedR2 * perDay * 365), INCLUDED.r2StoredGb) * PRICE.r2StoredGbMonth;
    console.log(`${label}: ${perDay.toLocaleString('en')} tasks a day: $${(INCLUDED.planDollars + ops + storage).toFixed(2)} a month ` +
      `($5 plan + $${ops.toFixed(2)} operations + $${storage.toFixed(2)} storage, the archive a year deep)`);
  }
}
