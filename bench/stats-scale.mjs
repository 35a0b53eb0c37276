// What GET /api/v1/stats costs as tasks pile up: the gateway's own statements (src/db/stats.ts,
// bundled with wrangler's esbuild) on SQLite, the engine under D1, over a database built by
// migrations/ and filled with N tasks spread over 30 days (the rollups filled by the tasks
// table's own triggers, as in D1). Each statement is timed for a 24-hour and a 720-hour window,
// for N and for ten times N, in one run: read from rollups, the cost stays the same.
// Run: node bench/stats-scale.mjs [N]   (default 100000; 1,000,000 takes a few minutes)
// Absolute times depend on the machine (D1 adds its network hop); read the ratios.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { build } from 'esbuild';

const ROOT = new URL('..', import.meta.url).pathname;
const base = Number(process.argv[2] ?? 100_000);
const DAY = 86_400_000;
const HOUR = 3_600_000;

const bundled = await build({ entryPoints: [join(ROOT, 'src/db/stats.ts')], bundle: true, format: 'esm', write: false });
const { STATS_STATEMENTS } = await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString('base64')}`);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** A database of `count` tasks over 30 days; the median time of each statement for each window. */
function measure(count) {
  const folder = mkdtempSync(join(tmpdir(), 'lyrics-gateway-stats-bench-'));
  const db = new DatabaseSync(join(folder, 'bench.sqlite'));
  try {
    for (const file of readdirSync(join(ROOT, 'migrations')).sort()) db.exec(readFileSync(join(ROOT, 'migrations', file), 'utf8'));
    const now = Date.now();
    const filling = performance.now();
    // Mostly successes by callback, some by poll, a few failures, timeouts and pending; a fifth with
    // a client webhook (a few failing, at one of 50 hosts); five tenants.
    db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count}),
      r AS MATERIALIZED (SELECT i, abs(random()) % 1000 AS k, ${now} - abs(random()) % ${30 * DAY} AS created FROM n)
      INSERT INTO tasks (task_id, prompt, status, result_source, next_poll_at, created_at, updated_at, completed_at,
        version, owner, callback_url, callback_host, delivery, delivery_state, error_message)
      SELECT 'bench-' || i, '',
        CASE WHEN k < 20 THEN 'PENDING' WHEN k < 60 THEN 'GENERATE_LYRICS_FAILED' WHEN k < 70 THEN 'SENSITIVE_WORD_ERROR' ELSE 'SUCCESS' END,
        CASE WHEN k < 20 THEN NULL WHEN k < 25 THEN 'timeout' WHEN k < 200 THEN 'poll' ELSE 'callback' END,
        created, created, created, CASE WHEN k < 20 THEN NULL ELSE created + 2000 + k * 37 END,
        1, 'tenant-' || (k % 5),
        CASE WHEN k % 5 = 0 THEN 'https://hooks-' || (k % 50) || '.example.com/x' END,
        CASE WHEN k % 5 = 0 THEN 'hooks-' || (k % 50) || '.example.com' END,
        CASE WHEN k % 5 = 0 THEN json_object('state', CASE WHEN k % 100 = 0 THEN 'failed' WHEN k % 50 = 5 THEN 'pending' ELSE 'delivered' END,
          'lastError', CASE WHEN k % 100 = 0 OR k % 50 = 5 THEN 'HTTP 503' END) END,
        CASE WHEN k % 5 = 0 THEN CASE WHEN k % 100 = 0 THEN 'failed' WHEN k % 50 = 5 THEN 'pending' ELSE 'delivered' END END,
        CASE WHEN k >= 20 AND k < 70 THEN 'The lyrics could not be written.' END
      FROM r`);
    const fillSeconds = (performance.now() - filling) / 1000;
    const result = {};
    for (const hours of [24, 720]) {
      const firstHour = Math.floor(now / HOUR) - hours;
      const params = { rollups: [firstHour], times: [firstHour], hosts: [firstHour], failures: [firstHour * HOUR], backlog: [now - 7 * DAY] };
      result[hours] = {};
      for (const [name, sql] of Object.entries(STATS_STATEMENTS)) {
        const statement = db.prepare(sql);
        statement.all(...params[name]);
        const ms = [];
        for (let i = 0; i < 5; i++) {
          const start = performance.now();
          statement.all(...params[name]);
          ms.push(performance.now() - start);
        }
        result[hours][name] = median(ms);
      }
    }
    return { fillSeconds, result };
  } finally {
    db.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

const small = measure(base);
const large = measure(base * 10);
console.log(`${base.toLocaleString('en')} and ${(base * 10).toLocaleString('en')} tasks over 30 days (stored in ${small.fillSeconds.toFixed(1)} s and ${large.fillSeconds.toFixed(1)} s)\n`);
console.log(`statement   window   ms at ${base.toLocaleString('en').padStart(9)}   ms at ${(base * 10).toLocaleString('en').padStart(10)}   ratio`);
for (const hours of [24, 720]) {
  let totals = [0, 0];
  for (const name of Object.keys(STATS_STATEMENTS)) {
    const [a, b] = [small.result[hours][name], large.result[hours][name]];
    totals = [totals[0] + a, totals[1] + b];
    console.log(`${name.padEnd(10)}  ${String(hours).padStart(4)} h  ${a.toFixed(2).padStart(15)}  ${b.toFixed(2).padStart(16)}  ${(b / a).toFixed(2).padStart(6)}`);
  }
  console.log(`${'all'.padEnd(10)}  ${String(hours).padStart(4)} h  ${totals[0].toFixed(2).padStart(15)}  ${totals[1].toFixed(2).padStart(16)}  ${(totals[1] / totals[0]).toFixed(2).padStart(6)}\n`);
}
