// Callback ingestion, the gateway against the floor (docs/performance.md): both run under
// `wrangler dev` on this machine and take the same load, in alternating rounds: TASKS tasks ×
// COPIES deliveries each (duplicates shuffled in among first deliveries), CONCURRENCY in flight,
// aimed at each Worker's own workerd socket. Prints throughput and p99 per round and the medians,
// with the ratios gateway ÷ floor. The gateway's callbacks are genuine: its tasks are created
// through the API (the simulator told not to call back) and each delivery is the signed request
// the simulator would send, to the callback URL the gateway gave it.
//
// Run: FLOOR_DIR=/path/to/floor npm run bench:callbacks   (or: npm run bench:callbacks -- --floor DIR)
// Knobs: ROUNDS (3), TASKS (200), COPIES (5), CONCURRENCY (16).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_API_KEY, startLocalStack } from '../scripts/local-stack.mjs';
import { floorDirFromArgs, startFloor } from './support/floor.mjs';
import { freePort, inPool, median, runLoad, shuffled } from './support/load.mjs';
import { gatewayCallbacks } from './support/gateway-callbacks.mjs';
import { processCpuClock, toolingCpuClock, workerdOrigin } from './support/workerd-socket.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const TASKS = Number(process.env.TASKS ?? 200);
const COPIES = Number(process.env.COPIES ?? 5);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const HMAC_KEY = 'bench-hmac-key';

const floorDir = floorDirFromArgs();
const persistTo = mkdtempSync(join(tmpdir(), 'lyrics-gateway-bench-'));
const closers = [];
const stopAll = async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  rmSync(persistTo, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(signal, () => void stopAll().then(() => process.exit(130)));

try {
  console.log('starting the floor (npm ci in a temporary copy) and the gateway…');
  const floorPort = await freePort();
  const floor = await startFloor({ dir: floorDir, port: floorPort, inspectorPort: await freePort() });
  closers.push(floor.close);
  const floorOrigin = await workerdOrigin({
    fallback: floor.url, exclude: new Set([floorPort]), probePath: '/healthz', expect: (body) => body === 'ok',
  });

  const stack = await startLocalStack({
    port: await freePort(),
    simulatorPort: 0,
    inspectorPort: await freePort(),
    persistTo,
    simulatorHmacKey: HMAC_KEY,
    // Every create let through (the limiter is not what is measured); no cron polls meanwhile.
    vars: { KIE_WEBHOOK_HMAC_KEY: HMAC_KEY, KIE_CREATE_LIMIT: '1000000', POLL_GRACE_SECONDS: '86400' },
  });
  closers.push(stack.close);
  const stackPort = Number(new URL(stack.url).port);
  const gatewayOrigin = await workerdOrigin({
    fallback: stack.url,
    exclude: new Set([floorPort, Number(new URL(floorOrigin).port), stackPort]),
    probePath: '/healthz',
    expect: (body) => body.includes('"database":"ok"'),
  });
  console.log(`floor at ${floorOrigin}, gateway at ${gatewayOrigin} (each Worker's own workerd socket)`);
  const cpuClocks = { floor: processCpuClock(floorOrigin), gateway: processCpuClock(gatewayOrigin) };
  // wrangler's own processes: under `wrangler dev` they receive and print every log line the Worker
  // writes (about 2 ms of CPU a line, bench:log-line), on the same cores as workerd. The floor logs nothing.
  const toolingClocks = {
    floor: toolingCpuClock(/** @type {number} */ (floor.pid), floorOrigin),
    gateway: toolingCpuClock(/** @type {number} */ (stack.wranglerPid), gatewayOrigin),
  };

  const api = { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' };
  const marker = `bench-cb-${Date.now()}`;
  /** Creates `count` gateway tasks; returns each task's callback request as the upstream would send it. */
  const gatewayBatch = await gatewayCallbacks({ origin: gatewayOrigin, simulatorUrl: stack.simulatorUrl, marker });
  /** Warms `count` floor objects, each with a callback body of the same size as the gateway's. */
  const floorBatch = async (count, label, template) =>
    inPool(Array.from({ length: count }, (_, i) => `${label}-${i}-${Date.now()}`), 8, async (ref) => {
      await (await fetch(`${floorOrigin}/warm/${ref}`, { method: 'POST' })).arrayBuffer();
      return { url: `${floorOrigin}/cb/${ref}`, headers: { 'content-type': 'application/json' }, body: template };
    });
  /** TASKS × COPIES deliveries, each task's copies shuffled in among the others' by `seed`. */
  const load = (batch, seed) =>
    shuffled(batch.flatMap((request) => Array.from({ length: COPIES }, () => request)), seed).map(
      (request) => () => fetch(request.url, { method: 'POST', headers: request.headers, body: request.body }),
    );

  // Warm both: code paths compiled, connections open, objects' classes loaded.
  const warmGateway = await gatewayBatch(40, 'warm');
  const template = warmGateway[0].body;
  await runLoad(load(warmGateway, 1), CONCURRENCY);
  await runLoad(load(await floorBatch(40, 'warm', template), 1), CONCURRENCY);

  /**
   * Waits until the Worker's processes are idle (under 5% of a core for half a second, or 10 s at
   * most), so a round starts on a quiet machine: creating the gateway's tasks leaves wrangler
   * printing their log lines for a while after the last create is answered.
   */
  const quiet = async (name) => {
    const busy = () => (cpuClocks[name]() ?? 0) + (toolingClocks[name]() ?? 0);
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      const before = busy();
      await new Promise((done) => setTimeout(done, 500));
      if (busy() - before < 25) return;
    }
  };

  const results = { floor: [], gateway: [] };
  const gatewayTasks = [];
  const show = (round, name, r) =>
    console.log(
      `round ${round}  ${name.padEnd(8)} ${String(r.requests).padStart(5)} req  ${r.perSecond.toFixed(1).padStart(7)} req/s  ` +
        `p50 ${r.p50.toFixed(0).padStart(4)} ms  p99 ${r.p99.toFixed(0).padStart(4)} ms  non-2xx ${r.failures}` +
        (r.cpuPerRequest === null ? '' : `  workerd CPU ${r.cpuPerRequest.toFixed(2)} ms/req (${r.cpuAfterBurst.toFixed(2)} after the burst)`) +
        (r.toolingCpuPerRequest === null ? '' : `  wrangler CPU ${r.toolingCpuPerRequest.toFixed(2)} ms/req`),
    );
  console.log(`\n${ROUNDS} rounds of ${TASKS} tasks × ${COPIES} deliveries, concurrency ${CONCURRENCY}, floor and gateway alternating`);
  for (let round = 1; round <= ROUNDS; round++) {
    const seed = 1000 + round;
    const order = round % 2 === 1 ? ['floor', 'gateway'] : ['gateway', 'floor'];
    const perRound = {};
    for (const name of order) {
      const batch = name === 'floor' ? await floorBatch(TASKS, `r${round}`, template) : await gatewayBatch(TASKS, `r${round}`);
      if (name === 'gateway') gatewayTasks.push(...batch.map((request) => request.taskId));
      await quiet(name);
      const cpuBefore = cpuClocks[name]();
      const toolingBefore = toolingClocks[name]();
      const result = await runLoad(load(batch, seed), CONCURRENCY);
      const cpuAtEnd = cpuClocks[name]();
      // The work a round causes includes what it leaves for the task objects (the coalesced
      // counts and their D1 writes, due within 5 s), so the CPU clock is read once those have run,
      // and the next round starts only then.
      await new Promise((done) => setTimeout(done, 6000));
      const cpuAfter = cpuClocks[name]();
      const toolingAfter = toolingClocks[name]();
      result.cpuPerRequest = cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / result.requests;
      result.cpuAfterBurst = cpuAtEnd === null || cpuAfter === null ? null : (cpuAfter - cpuAtEnd) / result.requests;
      result.toolingCpuPerRequest = toolingBefore === null || toolingAfter === null ? null : (toolingAfter - toolingBefore) / result.requests;
      results[name].push(result);
      perRound[name] = result;
      show(round, name, result);
    }
    console.log(`round ${round}  ratio gateway ÷ floor: throughput ${(perRound.gateway.perSecond / perRound.floor.perSecond).toFixed(2)}, p99 ${(perRound.gateway.p99 / perRound.floor.p99).toFixed(2)}`);
  }

  const mid = (name, key) => median(results[name].map((r) => r[key]));
  const ratios = results.gateway.map((g, i) => g.perSecond / results.floor[i].perSecond);
  const nonOk = results.gateway.reduce((sum, r) => sum + r.failures, 0);
  console.log(`
medians over ${ROUNDS} rounds      req/s     p99 ms
floor                      ${mid('floor', 'perSecond').toFixed(1).padStart(8)}  ${mid('floor', 'p99').toFixed(0).padStart(8)}
gateway                    ${mid('gateway', 'perSecond').toFixed(1).padStart(8)}  ${mid('gateway', 'p99').toFixed(0).padStart(8)}
gateway ÷ floor            ${(mid('gateway', 'perSecond') / mid('floor', 'perSecond')).toFixed(2).padStart(8)}  ${(mid('gateway', 'p99') / mid('floor', 'p99')).toFixed(2).padStart(8)}
per-round throughput ratios: ${ratios.map((r) => r.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)})
gateway non-2xx answers: ${nonOk}`);

  // What the load left behind must be right: one result per task, every delivery counted.
  await new Promise((done) => setTimeout(done, 5000));
  const views = await inPool(gatewayTasks, 8, async (taskId) =>
    (await (await fetch(`${gatewayOrigin}/api/v1/lyrics/record-info?taskId=${taskId}`, { headers: api })).json()).data,
  );
  const wrong = views.filter((v) => v?.status !== 'SUCCESS' || v.callbacksReceived !== COPIES);
  console.log(
    wrong.length === 0
      ? `checked in D1: ${views.length} tasks SUCCESS, callbacksReceived ${COPIES} each`
      : `CHECK FAILED: ${wrong.length} of ${views.length} tasks not SUCCESS with callbacksReceived ${COPIES}, e.g. ${JSON.stringify(wrong[0])}`,
  );
  if (wrong.length > 0 || nonOk > 0) process.exitCode = 1;
} finally {
  await stopAll();
}
