// How fast record-info answers (docs/performance.md, "Reading a task"): a task still live (D1's
// row, its prompt and lyrics compressed) and one archived (D1's mark, then the archive), against
// the same reads on another checkout (the previous release, say, whose tasks are always in D1's
// row), in one run on one machine. Each checkout gets a local stack of its own, realistic tasks
// (60-word prompts, two takes of ~2.5 KB), and READS requests at concurrency 4 per kind.
//
// Run: npm run bench:record-info                (this checkout alone)
//      BENCH_BEFORE=/path/to/checkout npm run bench:record-info

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, inPool, runLoad } from './support/load.mjs';
import { createWithRealisticResult } from './support/realistic.mjs';

const TASKS = Number(process.env.TASKS ?? 50);
const READS = Number(process.env.READS ?? 1000);
const ARCHIVE_AFTER_SECONDS = 15;

async function measure(checkout) {
  const { DEV_API_KEY, startLocalStack } = await import(join(checkout, 'scripts', 'local-stack.mjs'));
  const headers = { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' };
  const persistTo = mkdtempSync(join(tmpdir(), 'lyrics-gateway-bench-read-'));
  const stack = await startLocalStack({
    port: await freePort(),
    simulatorPort: 0,
    inspectorPort: await freePort(),
    persistTo,
    callbackDelayMs: 10 * 60 * 1000,
    vars: { KIE_CREATE_LIMIT: '1000000', POLL_GRACE_SECONDS: '3600', ARCHIVE_AFTER_SECONDS: String(ARCHIVE_AFTER_SECONDS) },
  });
  try {
    const taskIds = [];
    await inPool(Array.from({ length: TASKS }, (_, i) => i), 8, async (i) => taskIds.push(await createWithRealisticResult(stack, headers, i)));
    const started = Date.now();
    const reads = () =>
      runLoad(Array.from({ length: READS }, (_, i) => () => fetch(`${stack.url}/api/v1/lyrics/record-info?taskId=${taskIds[i % TASKS]}`, { headers })), 4);
    const live = await reads();
    // The archive window passes; a checkout without an archive keeps answering from D1's row.
    await new Promise((done) => setTimeout(done, Math.max(0, started + (ARCHIVE_AFTER_SECONDS + 8) * 1000 - Date.now())));
    const page = (await (await fetch(`${stack.url}/api/v1/lyrics/tasks?limit=1`, { headers })).json()).data;
    const archived = page.items.length === 0 ? await reads() : null;
    return { live, archived };
  } finally {
    await stack.close();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

const here = resolve(join(import.meta.dirname, '..'));
const before = process.env.BENCH_BEFORE ? resolve(process.env.BENCH_BEFORE) : null;
const results = [];
for (const checkout of before ? [before, here] : [here]) results.push({ checkout, ...(await measure(checkout)) });

console.log(`record-info of ${TASKS} realistic tasks, ${READS} reads at concurrency 4 per row`);
console.log('checkout                         kind       p50 ms   p99 ms   reads/s   failures');
for (const { checkout, live, archived } of results) {
  for (const [kind, run] of [['live', live], ['archived', archived]]) {
    if (!run) continue;
    console.log(`${checkout.slice(-32).padEnd(32)} ${kind.padEnd(9)} ${run.p50.toFixed(2).padStart(7)} ${run.p99.toFixed(2).padStart(8)} ${run.perSecond.toFixed(0).padStart(9)} ${String(run.failures).padStart(10)}`);
  }
}
const now = results.at(-1);
if (now.archived) console.log(`archived / live p50 (this checkout): ${(now.archived.p50 / now.live.p50).toFixed(2)}`);
if (before) console.log(`live p50, this checkout / before: ${(now.live.p50 / results[0].live.p50).toFixed(2)}`);
