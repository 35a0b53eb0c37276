// The Worker's startup CPU (docs/performance.md, "Cold start"): what `wrangler check startup`
// reports for the bundle `wrangler deploy` would upload (its local profile of the module's top
// level), RUNS times, with the median against the 25 ms budget. Another checkout beside it, in
// the same run: BENCH_BEFORE=/path/to/it.
//
// Run: npm run bench:startup   (RUNS=5)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median } from './support/load.mjs';
import { QUIET_ENV } from './support/wrangler-dev.mjs';

const RUNS = Number(process.env.RUNS ?? 5);
const BUDGET_MS = 25;
const checkouts = [resolve(join(import.meta.dirname, '..')), ...(process.env.BENCH_BEFORE ? [resolve(process.env.BENCH_BEFORE)] : [])];

/** Milliseconds the startup profile was active (CPU, garbage collection included), one run. */
function activeMs(checkout, outfile) {
  const wrangler = join(checkout, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
  const result = spawnSync(process.execPath, [wrangler, 'check', 'startup', '--outfile', outfile], {
    cwd: checkout,
    env: { ...process.env, ...QUIET_ENV },
    encoding: 'utf8',
  });
  const match = /Active: ([\d.]+) ms/.exec(result.stdout + result.stderr);
  if (!match) throw new Error(`wrangler check startup said no Active time in ${checkout}:\n${result.stdout}\n${result.stderr}`);
  return Number(match[1]);
}

const dir = mkdtempSync(join(tmpdir(), 'lyrics-gateway-startup-'));
try {
  const samples = new Map(checkouts.map((checkout) => [checkout, []]));
  // Alternating, so a busy moment on the machine falls on both alike.
  for (let run = 0; run < RUNS; run++) {
    for (const checkout of checkouts) {
      // A profile that caught no sample at all (0 ms) says nothing: taken again.
      let ms = activeMs(checkout, join(dir, `${run}.cpuprofile`));
      if (ms === 0) ms = activeMs(checkout, join(dir, `${run}.cpuprofile`));
      samples.get(checkout).push(ms);
    }
  }
  for (const [checkout, values] of samples) {
    const mid = median(values);
    console.log(`${checkout}: startup ${mid.toFixed(1)} ms median of ${RUNS} (${values.map((v) => v.toFixed(1)).join(', ')})` +
      (checkout === checkouts[0] ? `; budget ${BUDGET_MS} ms: ${mid <= BUDGET_MS ? 'within' : 'OVER'}` : ''));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
