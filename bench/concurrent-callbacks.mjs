// Measures the callback path under concurrent duplicate deliveries, over real HTTP against
// `wrangler dev` (the same local stack as `npm start`, in a throwaway state folder):
// for N concurrent copies of one task's signed callback, how many were answered 2xx, how many
// results were stored (must be 1), what callbacksReceived says (must be N), and answer latency.
// Run: node bench/concurrent-callbacks.mjs [N ...]   (default 1 10 50 200)
// Absolute times on busy machines are noisy; compare rows of one run with each other, and each
// row with the same number of concurrent /healthz requests measured right after it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_API_KEY, startLocalStack } from '../scripts/local-stack.mjs';

const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
const rounds = sizes.length > 0 ? sizes : [1, 10, 50, 200];
const HMAC_KEY = 'bench-hmac-key';
const persistTo = mkdtempSync(join(tmpdir(), 'lyrics-gateway-bench-'));
const stack = await startLocalStack({
  port: 8911,
  simulatorPort: 0,
  inspectorPort: 9311,
  persistTo,
  simulatorHmacKey: HMAC_KEY,
  vars: { KIE_WEBHOOK_HMAC_KEY: HMAC_KEY },
});
const auth = { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' };

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

try {
  console.log('copies  2xx  stored-results  callbacksReceived  p50-ms  p95-ms  max-ms  p50/p50(N=1)  healthz-p50-ms  p50/healthz-p50');
  let baseline;
  for (const copies of rounds) {
    const prompt = `bench ${copies} ${Date.now()}`;
    await fetch(`${stack.simulatorUrl}/__sim/scripts`, { method: 'POST', headers: auth, body: JSON.stringify({ match: prompt, callback: 'drop' }) });
    const created = await (await fetch(`${stack.url}/api/v1/lyrics`, { method: 'POST', headers: auth, body: JSON.stringify({ prompt }) })).json();
    const taskId = created.data.taskId;
    const request = await (await fetch(`${stack.simulatorUrl}/__sim/tasks/${taskId}/callback`)).json();

    const timings = await Promise.all(
      Array.from({ length: copies }, async () => {
        const started = performance.now();
        const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body });
        await response.arrayBuffer();
        return { status: response.status, ms: performance.now() - started };
      }),
    );
    // Duplicates are counted in the task's object and reach D1 with its coalesced write, seconds later.
    const readInfo = async () => (await (await fetch(`${stack.url}/api/v1/lyrics/record-info?taskId=${taskId}`, { headers: auth })).json()).data;
    let info = await readInfo();
    for (const deadline = Date.now() + 10_000; info.callbacksReceived < copies && Date.now() < deadline; info = await readInfo()) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const ok = timings.filter((t) => t.status >= 200 && t.status < 300).length;
    const stored = info.status === 'SUCCESS' ? 1 : 0;
    const ms = timings.map((t) => t.ms).sort((a, b) => a - b);
    const p50 = percentile(ms, 50);
    baseline ??= p50;
    // The floor: as many concurrent GET /healthz (one D1 query, no Durable Object) in the same run.
    const floor = await Promise.all(
      Array.from({ length: copies }, async () => {
        const started = performance.now();
        await (await fetch(`${stack.url}/healthz`)).arrayBuffer();
        return performance.now() - started;
      }),
    );
    const floorP50 = percentile(floor.sort((a, b) => a - b), 50);
    console.log(
      [String(copies).padStart(6), String(ok).padStart(4), String(stored).padStart(15), String(info.callbacksReceived).padStart(18),
        p50.toFixed(1).padStart(7), percentile(ms, 95).toFixed(1).padStart(7), ms.at(-1).toFixed(1).padStart(7), (p50 / baseline).toFixed(2).padStart(13), floorP50.toFixed(1).padStart(15), (p50 / floorP50).toFixed(2).padStart(14)].join(' '),
    );
  }
} finally {
  await stack.close();
  rmSync(persistTo, { recursive: true, force: true });
}
