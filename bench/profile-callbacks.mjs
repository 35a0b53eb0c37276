// Where a burst of callbacks spends the gateway's CPU (docs/performance.md, "Where a callback's
// time goes"): the load of bench:callbacks (TASKS tasks × COPIES deliveries, duplicates shuffled
// in, CONCURRENCY in flight), run against the local stack while V8's sampling profiler records
// the Worker's isolate (the task objects run in it too), through wrangler's inspector. Prints the
// self time by function and by kind (the gateway's own code, its libraries, the runtime, garbage
// collection), and the latency of first deliveries against duplicates. Writes the whole profile
// (PROFILE_OUT, default a temporary file) for Chrome's DevTools ("Performance" → load profile).
//
// Run: npm run bench:profile-callbacks          Knobs: TASKS (200), COPIES (5), CONCURRENCY (16),
// ROUNDS (3: profiled one after another, the first discarded as warm-up), INTERVAL_US (200),
// PAUSE_S (0: seconds between rounds), SETTLE_S (6: seconds profiled after the burst; 0 for the burst alone).

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalStack } from '../scripts/local-stack.mjs';
import { freePort, percentile, shuffled } from './support/load.mjs';
import { gatewayCallbacks } from './support/gateway-callbacks.mjs';
import { workerdOrigin } from './support/workerd-socket.mjs';
import { connectInspector } from './support/inspector.mjs';

const TASKS = Number(process.env.TASKS ?? 200);
const COPIES = Number(process.env.COPIES ?? 5);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const ROUNDS = Math.max(2, Number(process.env.ROUNDS ?? 3));
const INTERVAL_US = Number(process.env.INTERVAL_US ?? 200);
/** Seconds profiled after the burst: what it leaves for the objects (the duplicates' fold is due within 5 s). 0: the burst alone. */
const SETTLE_S = Number(process.env.SETTLE_S ?? 6);
/** Seconds between one round's end and the next round's creates (bench:callbacks leaves about 17 s, the floor's turn). */
const PAUSE_S = Number(process.env.PAUSE_S ?? 0);
const HMAC_KEY = 'bench-hmac-key';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const persistTo = mkdtempSync(join(tmpdir(), 'lyrics-gateway-profile-'));
const outFile = process.env.PROFILE_OUT ?? join(tmpdir(), `lyrics-gateway-callbacks-${Date.now()}.cpuprofile`);
let stack;
const stopAll = async () => {
  await stack?.close().catch(() => {});
  rmSync(persistTo, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(signal, () => void stopAll().then(() => process.exit(130)));

try {
  const inspectorPort = await freePort();
  stack = await startLocalStack({
    port: 0,
    simulatorPort: 0,
    inspectorPort,
    persistTo,
    simulatorHmacKey: HMAC_KEY,
    vars: { KIE_WEBHOOK_HMAC_KEY: HMAC_KEY, KIE_CREATE_LIMIT: '1000000', POLL_GRACE_SECONDS: '86400' },
  });
  const origin = await workerdOrigin({
    fallback: stack.url,
    exclude: new Set([Number(new URL(stack.url).port), inspectorPort]),
    probePath: '/healthz',
    expect: (body) => body.includes('"database":"ok"'),
  });
  const createBatch = await gatewayCallbacks({ origin, simulatorUrl: stack.simulatorUrl, marker: `bench-profile-${Date.now()}` });
  const batch = (label) => createBatch(TASKS, label);

  /** One round: every delivery timed, first deliveries told from duplicates. */
  const round = async (requests, seed) => {
    const seen = new Set();
    const jobs = shuffled(requests.flatMap((request) => Array.from({ length: COPIES }, () => request)), seed);
    const times = { first: [], duplicate: [] };
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < jobs.length) {
          const request = jobs[next++];
          const kind = seen.has(request.url) ? 'duplicate' : 'first';
          seen.add(request.url);
          const t0 = performance.now();
          const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body });
          await response.arrayBuffer();
          if (!response.ok) throw new Error(`callback answered ${response.status}`);
          times[kind].push(performance.now() - t0);
        }
      }),
    );
    return { wallMs: performance.now() - started, times };
  };

  const inspector = await connectInspector(inspectorPort);
  await inspector.send('Profiler.enable');
  await inspector.send('Profiler.setSamplingInterval', { interval: INTERVAL_US });
  const profiles = [];
  for (let r = 1; r <= ROUNDS; r++) {
    if (r > 1) await new Promise((done) => setTimeout(done, PAUSE_S * 1000));
    const requests = await batch(`r${r}`);
    await new Promise((done) => setTimeout(done, 3000)); // the creates' own work settles
    await inspector.send('Profiler.start');
    const result = await round(requests, 1000 + r);
    // What the round leaves for the objects (the duplicates' fold, due within 5 s) is its cost too.
    await new Promise((done) => setTimeout(done, SETTLE_S * 1000));
    const { profile } = await inspector.send('Profiler.stop');
    if (SETTLE_S < 6) await new Promise((done) => setTimeout(done, (6 - SETTLE_S) * 1000));
    const line = (kind) => {
      const sorted = [...result.times[kind]].sort((a, b) => a - b);
      return `${kind} ${sorted.length}: p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${sorted.at(-1).toFixed(0)} ms`;
    };
    const gc = share(profile, (node) => node.callFrame.functionName === '(garbage collector)');
    console.log(
      `round ${r}${r === 1 ? ' (warm-up, not summed)' : ''}: ${((TASKS * COPIES) / (result.wallMs / 1000)).toFixed(0)} req/s; ` +
        `${line('first')}; ${line('duplicate')}; garbage collection ${(100 * gc).toFixed(1)}% of busy samples`,
    );
    if (r > 1) profiles.push(profile);
  }
  inspector.close();
  writeFileSync(outFile, JSON.stringify(profiles.at(-1)));
  summarize(profiles, TASKS * COPIES * profiles.length, bundleModules());
  console.log(`last round's profile: ${outFile}`);
} finally {
  await stopAll();
}

/** The part of a profile's busy samples (idle left out) whose frame `matches`. */
function share(profile, matches) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  let busy = 0;
  let matched = 0;
  for (const id of profile.samples) {
    const node = nodes.get(id);
    if (node.callFrame.functionName === '(idle)') continue;
    busy += 1;
    if (matches(node)) matched += 1;
  }
  return busy === 0 ? 0 : matched / busy;
}

/**
 * Which source module each line of the bundle wrangler dev runs came from: esbuild heads each
 * module with a `// path` comment. Read while the stack runs (wrangler removes it on exit).
 */
function bundleModules() {
  const tmp = join(ROOT, '.wrangler', 'tmp');
  const bundles = existsSync(tmp)
    ? readdirSync(tmp).map((dir) => join(tmp, dir, 'index.js')).filter((file) => existsSync(file))
    : [];
  const newest = bundles.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!newest) return { starts: [], lines: [] };
  const starts = [];
  const lines = readFileSync(newest, 'utf8').split('\n');
  lines.forEach((line, index) => {
    const head = /^\/\/ ((?:src|bench|node_modules)\/\S+)$/.exec(line);
    if (head) starts.push({ line: index, module: head[1] });
  });
  return { starts, lines };
}

/** Self time by function and by kind over the profiles, per request. */
function summarize(profiles, requests, { starts: modules, lines }) {
  /** Per function, the samples on each of its lines (V8's positionTicks), for the hottest lines' text. */
  const ticksByFunction = new Map();
  const moduleAt = (line) => {
    let found = null;
    for (const start of modules) if (start.line <= line) found = start.module; else break;
    return found;
  };
  const byFunction = new Map();
  const byKind = new Map();
  let total = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const deltas = profile.timeDeltas;
    for (let i = 0; i < profile.samples.length; i++) {
      const node = nodes.get(profile.samples[i]);
      // The sampler runs only while the isolate runs: a longer gap is time outside it, not this frame's.
      const us = Math.min(deltas[i + 1] ?? 0, 2 * INTERVAL_US);
      const { functionName, lineNumber } = node.callFrame;
      const url = node.callFrame.url === 'index.js' ? (moduleAt(lineNumber) ?? 'index.js') : node.callFrame.url;
      const kind = kindOf(functionName, url);
      if (kind === 'idle') continue;
      total += us;
      byKind.set(kind, (byKind.get(kind) ?? 0) + us);
      const name = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    }
    for (const node of profile.nodes) {
      if (node.callFrame.url !== 'index.js' || !node.positionTicks) continue;
      const { functionName, lineNumber } = node.callFrame;
      const name = `${functionName || '(anonymous)'} ${shortUrl(moduleAt(lineNumber) ?? 'index.js')}:${lineNumber + 1}`;
      const perLine = ticksByFunction.get(name) ?? new Map();
      for (const { line, ticks } of node.positionTicks) perLine.set(line, (perLine.get(line) ?? 0) + ticks);
      ticksByFunction.set(name, perLine);
    }
  }
  const perRequest = (us) => `${(us / 1000 / requests).toFixed(3)} ms/req  ${((100 * us) / total).toFixed(1).padStart(5)}%`;
  console.log(`\nbusy CPU in the isolate: ${(total / 1000 / requests).toFixed(3)} ms per request (idle left out)`);
  console.log('by kind:');
  for (const [kind, us] of [...byKind].sort((a, b) => b[1] - a[1])) console.log(`  ${kind.padEnd(28)} ${perRequest(us)}`);
  console.log('top functions by self time:');
  for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${perRequest(us)}  ${name}`);
  console.log("the hottest lines of the gateway's top functions (samples, the bundle's line):");
  const ours = [...byFunction].filter(([name]) => ticksByFunction.has(name)).sort((a, b) => b[1] - a[1]).slice(0, 8);
  for (const [name] of ours) {
    console.log(`  ${name}`);
    const hottest = [...ticksByFunction.get(name)].sort((a, b) => b[1] - a[1]).slice(0, 3);
    for (const [line, ticks] of hottest) console.log(`    ${String(ticks).padStart(5)}  ${(lines[line - 1] ?? '').trim().slice(0, 110)}`);
  }
}

function kindOf(functionName, url) {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)' || functionName === '(root)') return 'runtime (program)';
  if (!url) return 'runtime (native)';
  const path = shortUrl(url);
  if (path.includes('node_modules/')) return `library ${path.split('node_modules/')[1].split('/')[0]}`;
  if (path.startsWith('src/')) return `gateway ${path.split('/')[1]}`;
  return `other ${path.split('/')[0]}`;
}

function shortUrl(url) {
  const at = url.search(/(src|node_modules)\//);
  return at >= 0 ? url.slice(at) : url.replace(/^.*\//, '');
}
