// What GET /api/v1/stats costs at a million tasks: the gateway's own statements (src/db/stats.ts,
// bundled with wrangler's esbuild) on SQLite, the engine under D1, over a database built by
// migrations/ and filled with N tasks spread over 30 days. Each statement is timed for a 24-hour
// and a 30-day window, beside the same statement forced to scan the table (`NOT INDEXED`), in one
// run; `served` adds up the statements the gateway runs for that window.
// Run: node bench/stats-scale.mjs [N]   (default 1000000; takes a few minutes)
// Absolute times depend on the machine (D1 adds its network hop); read the ratios.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { build } from 'esbuild';

const ROOT = new URL('..', import.meta.url).pathname;
const count = Number(process.argv[2] ?? 1_000_000);
const DAY = 86_400_000;

const bundled = await build({ entryPoints: [join(ROOT, 'src/db/stats.ts')], bundle: true, format: 'esm', write: false });
const { STATS_STATEMENTS, SORTED_PERCENTILES_MAX_HOURS } = await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString('base64')}`);

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
    SELECT 'bench-' || i, 'a prompt',
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
  console.log(`${count.toLocaleString('en')} tasks over 30 days stored in ${((performance.now() - filling) / 1000).toFixed(1)} s\n`);

  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const time = (sql, since, runs) => {
    const statement = db.prepare(sql);
    // The hourly statement also takes the window's first clock hour, as readWindowStats binds it.
    const params = sql.includes('?2') ? [since, Math.floor(since / 3_600_000)] : [since];
    statement.all(...params);
    const ms = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      statement.all(...params);
      ms.push(performance.now() - start);
    }
    return median(ms);
  };

  // What the gateway runs for a window (src/db/stats.ts picks the percentiles' statements by length).
  const served = (hours) => ['hourly', ...(hours <= SORTED_PERCENTILES_MAX_HOURS ? ['p50Sorted', 'p95Sorted'] : ['p50Walked', 'p95Walked']), 'failures', 'hosts'];
  const tableScan = (sql) => sql.replace(/INDEXED BY \w+\s/g, ' ').replaceAll('FROM tasks ', 'FROM tasks NOT INDEXED ');

  console.log('statement   window   indexed ms   table scan ms   scan / indexed');
  for (const hours of [24, 720]) {
    const since = now - hours * 3_600_000;
    const measured = {};
    for (const [name, sql] of Object.entries(STATS_STATEMENTS)) {
      measured[name] = { indexed: time(sql, since, 5), scan: time(tableScan(sql), since, 3) };
      const { indexed, scan } = measured[name];
      console.log(`${name.padEnd(10)}  ${String(hours).padStart(4)} h  ${indexed.toFixed(1).padStart(11)}  ${scan.toFixed(1).padStart(14)}  ${(scan / indexed).toFixed(1).padStart(15)}`);
    }
    const total = served(hours).reduce((sum, name) => sum + measured[name].indexed, 0);
    const totalScan = served(hours).reduce((sum, name) => sum + measured[name].scan, 0);
    console.log(`${'served'.padEnd(10)}  ${String(hours).padStart(4)} h  ${total.toFixed(1).padStart(11)}  ${totalScan.toFixed(1).padStart(14)}  ${(totalScan / total).toFixed(1).padStart(15)}\n`);
  }
} finally {
  db.close();
  rmSync(folder, { recursive: true, force: true });
}
