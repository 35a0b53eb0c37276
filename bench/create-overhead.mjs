// What the create path's guards cost, over real HTTP against `wrangler dev` (the same local
// stack as `npm start`, in a throwaway state folder): sequential creates without an
// Idempotency-Key (rate limiter only; the tenant has no quota, so its create is counted after
// sending, off the answer's path), the same for a tenant with a daily quota (TENANT_QUOTAS: the
// quota object decides before sending), with a fresh key each (key object + rate limiter), and
// replays of one key (key object only, no upstream call), each beside GET /healthz in the same
// run. Run: node bench/create-overhead.mjs [N]   (default 60 requests per row)
// Absolute times on busy machines are noisy; read the ratios, which come from one run.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_API_KEY, startLocalStack } from '../scripts/local-stack.mjs';

const count = Number(process.argv[2] ?? 60);
/** A tenant with a daily quota far above what the bench sends. */
const QUOTA_KEY = 'bench-quota-key';
const persistTo = mkdtempSync(join(tmpdir(), 'lyrics-gateway-bench-'));
const stack = await startLocalStack({
  port: 8912,
  simulatorPort: 0,
  inspectorPort: 9312,
  persistTo,
  // The point is the guards' cost, not the limit itself: let every create through.
  vars: {
    KIE_CREATE_LIMIT: '100000',
    API_KEYS: `dev:${DEV_API_KEY},quota:${QUOTA_KEY}`,
    TENANT_QUOTAS: 'quota:1000000',
  },
});
const headers = { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' };
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Times `count` sequential calls of `send`, after a few unmeasured ones to warm up. */
async function row(send) {
  for (let i = 0; i < 3; i++) await send(-1 - i);
  const ms = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await send(i);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`answered ${response.status}`);
    ms.push(performance.now() - started);
  }
  return median(ms);
}

const create = (prompt, key, apiKey = DEV_API_KEY) =>
  fetch(`${stack.url}/api/v1/lyrics`, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${apiKey}`, ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify({ prompt }),
  });

try {
  const run = Date.now();
  const healthz = await row(() => fetch(`${stack.url}/healthz`));
  const plain = await row((i) => create(`bench plain ${run} ${i}`));
  const quota = await row((i) => create(`bench quota ${run} ${i}`, undefined, QUOTA_KEY));
  const keyed = await row((i) => create(`bench keyed ${run} ${i}`, `bench-${run}-${i}`));
  await create(`bench replay ${run}`, `bench-replay-${run}`);
  const replay = await row(() => create(`bench replay ${run}`, `bench-replay-${run}`));
  console.log(`${count} sequential requests per row; medians in ms, and each as a multiple of GET /healthz in this run`);
  console.log('row                                     p50-ms  ÷healthz  ÷plain-create');
  for (const [label, value] of [
    ['GET /healthz', healthz],
    ['create, no Idempotency-Key', plain],
    ['create, tenant with a daily quota', quota],
    ['create, fresh Idempotency-Key', keyed],
    ['replay of one Idempotency-Key', replay],
  ]) {
    console.log(`${label.padEnd(40)}${value.toFixed(1).padStart(6)}  ${(value / healthz).toFixed(2).padStart(8)}  ${(value / plain).toFixed(2).padStart(13)}`);
  }
} finally {
  await stack.close();
  rmSync(persistTo, { recursive: true, force: true });
}
