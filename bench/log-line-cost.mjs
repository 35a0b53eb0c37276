// What one console.log line costs a Worker under `wrangler dev` (docs/performance.md): a Worker
// of a few lines answers each request with LINES log lines or none, in alternating rounds, at its
// own workerd socket, and the bench prints each round's throughput and the CPU per request of
// workerd and of wrangler's own processes.
// The line is the size of the gateway's request line. The figure tells what share of the callback
// bench's gap to the floor (which logs nothing) is the local runtime's log path, not the gateway's
// own work: in production a log line goes to Workers Logs, not through wrangler's dev tooling.
//
// Run: npm run bench:log-line   Knobs: ROUNDS (3), REQUESTS (2000), CONCURRENCY (16), LINES (1).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, median, runLoad } from './support/load.mjs';
import { processCpuClock, toolingCpuClock, workerdOrigin } from './support/workerd-socket.mjs';
import { startWranglerDev } from './support/wrangler-dev.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const REQUESTS = Number(process.env.REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const LINES = Number(process.env.LINES ?? 1);

const WORKER = `export default {
  async fetch(request) {
    const lines = Number(new URL(request.url).searchParams.get('lines') ?? 0);
    for (let i = 0; i < lines; i++) {
      console.log(JSON.stringify({ ts: new Date().toISOString(), level: 'info', event: 'request', requestId: crypto.randomUUID(),
        method: 'POST', route: '/callbacks/kie/:ref', status: 200, ms: 12, taskId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
        verdict: 'applied', callbackCode: 200, taskStatus: 'SUCCESS', resultMs: 48213 }));
    }
    return new Response('ok');
  },
};
`;

const wrangler = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const work = mkdtempSync(join(tmpdir(), 'lyrics-gateway-log-line-'));
writeFileSync(join(work, 'index.js'), WORKER);
writeFileSync(join(work, 'wrangler.toml'), 'name = "log-line-cost"\nmain = "index.js"\ncompatibility_date = "2026-10-01"\n');

const port = await freePort();
let dev;
try {
  dev = await startWranglerDev({ wrangler, cwd: work, port, inspectorPort: await freePort(), probePath: '/', label: 'log-line Worker' });
} catch (error) {
  rmSync(work, { recursive: true, force: true });
  throw error;
}
const stop = async () => {
  await dev.close();
  rmSync(work, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(signal, () => void stop().then(() => process.exit(130)));

try {
  const origin = await workerdOrigin({ fallback: dev.url, exclude: new Set([port]), probePath: '/', expect: (body) => body === 'ok' });
  const cpu = processCpuClock(origin);
  const wranglerCpu = toolingCpuClock(/** @type {number} */ (dev.pid), origin);
  const round = async (lines) => {
    const before = [cpu(), wranglerCpu()];
    const result = await runLoad(Array.from({ length: REQUESTS }, () => () => fetch(`${origin}/?lines=${lines}`)), CONCURRENCY);
    // wrangler prints what it is sent a moment later: its clock is read once that has settled.
    await new Promise((done) => setTimeout(done, 1000));
    const after = [cpu(), wranglerCpu()];
    const perRequest = (i) => (before[i] === null || after[i] === null ? null : (after[i] - before[i]) / REQUESTS);
    return { ...result, cpuPerRequest: perRequest(0), wranglerCpuPerRequest: perRequest(1) };
  };
  await round(0);
  await round(LINES);

  console.log(`${ROUNDS} rounds of ${REQUESTS} requests, concurrency ${CONCURRENCY}, at ${origin}: none, then ${LINES} log line(s) per request, alternating`);
  const results = { none: [], logged: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    for (const kind of r % 2 === 1 ? ['none', 'logged'] : ['logged', 'none']) {
      const result = await round(kind === 'none' ? 0 : LINES);
      results[kind].push(result);
      const cpuText =
        (result.cpuPerRequest === null ? '' : `  workerd CPU ${result.cpuPerRequest.toFixed(2)} ms/req`) +
        (result.wranglerCpuPerRequest === null ? '' : `  wrangler (Node) CPU ${result.wranglerCpuPerRequest.toFixed(2)} ms/req`);
      console.log(`round ${r}  ${kind === 'none' ? 'no lines ' : `${LINES} line(s)`}  ${result.perSecond.toFixed(0).padStart(6)} req/s${cpuText}`);
    }
  }
  const mid = (kind, key) => median(results[kind].map((result) => result[key]));
  console.log(`
medians: ${mid('none', 'perSecond').toFixed(0)} req/s with no lines, ${mid('logged', 'perSecond').toFixed(0)} with ${LINES} (ratio ${(mid('logged', 'perSecond') / mid('none', 'perSecond')).toFixed(2)})`);
  for (const [what, key] of [['workerd', 'cpuPerRequest'], ['wrangler (Node)', 'wranglerCpuPerRequest']]) {
    const none = mid('none', key);
    const logged = mid('logged', key);
    if (none === null || logged === null) continue;
    console.log(`${what} CPU per request: ${none.toFixed(2)} ms with no lines, ${logged.toFixed(2)} ms with ${LINES}: ${((logged - none) / LINES).toFixed(2)} ms per line`);
  }
} finally {
  await stop();
}
