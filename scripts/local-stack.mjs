// The gateway running locally as deployed: the upstream simulator, local D1 with migrations/
// applied, and `wrangler dev` with development defaults for every variable. Used by `npm start`
// (scripts/dev.mjs) and by the end-to-end tests (test/e2e), which drive it over real HTTP.

import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../simulator/server.mjs';
import { spawnGroup, stopGroup } from './process-group.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

/** No network here or in CI: keep wrangler from phoning home. */
const QUIET_ENV = { CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' };

export const DEV_API_KEY = 'dev-key';
/** Keys the callback URL tokens locally; a deployment sets its own (README, "Configuration"). */
export const DEV_CALLBACK_TOKEN_SECRET = 'lyrics-gateway-local-dev-callback-token-secret';
/** An operator's key (ADMIN_API_KEYS): every tenant's tasks and usage. */
export const DEV_ADMIN_API_KEY = 'dev-admin-key';
/** Signs deliveries to callBackUrls locally; a Standard Webhooks secret (`whsec_` + base64 of the key bytes). */
export const DEV_WEBHOOK_SIGNING_KEY = 'whsec_bHlyaWNzLWdhdGV3YXktbG9jYWwtZGV2LWtleQ==';

/**
 * @typedef {object} LocalStackOptions
 * @property {number} [port]            Gateway port (default 8787; 0 = any free one, retried if taken meanwhile).
 * @property {number} [simulatorPort]   Simulator port (default 8790; 0 = any free one).
 * @property {string} [persistTo]       Local state folder (D1, Durable Objects); default .wrangler/state.
 * @property {Record<string, string>} [vars]  Variables over the development defaults.
 * @property {number} [callbackDelayMs] How long the simulator takes to "write" lyrics.
 * @property {string} [simulatorHmacKey] Sign the simulator's callbacks (set KIE_WEBHOOK_HMAC_KEY to match).
 * @property {number} [inspectorPort]   wrangler's debugger port (default 9229; 0 = one workerd picks itself).
 * @property {boolean} [log]            Show the simulator's and wrangler's output.
 * @property {boolean} [gatewayLog]     Show only the gateway's own JSON log lines (requests, task events).
 * @property {string} [configPath]      Another wrangler configuration (the cost bench's metered Worker); default wrangler.toml.
 */

/**
 * @param {LocalStackOptions} [options]
 * @returns {Promise<{ url: string, simulatorUrl: string, vars: Record<string, string>, wranglerPid: number | undefined, fireCron: () => Promise<Response>, close: () => Promise<void> }>}
 */
export async function startLocalStack(options = {}) {
  const simulator = await startSimulator({
    port: options.simulatorPort ?? 8790,
    callbackDelayMs: options.callbackDelayMs ?? 3000,
    hmacKey: options.simulatorHmacKey,
    log: options.log ?? false,
  });
  try {
    if (options.port !== 0) return await startGateway(options, simulator, options.port ?? 8787);
    // `wrangler dev` must be told its port before it starts (PUBLIC_URL names it), so "any free
    // port" is a port free a moment ago: if something takes it in between, wrangler says so and
    // exits, and the next candidate is tried.
    for (let attempt = 1; ; attempt++) {
      try {
        return await startGateway(options, simulator, await portFreeNow());
      } catch (error) {
        if (!(error instanceof PortTaken) || attempt >= 5) throw error;
      }
    }
  } catch (error) {
    await simulator.close();
    throw error;
  }
}

/** wrangler could not listen on the port it was given. */
class PortTaken extends Error {}

/** A port nothing listens on right now; only a candidate, as startLocalStack explains. */
function portFreeNow() {
  return /** @type {Promise<number>} */ (
    new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    })
  );
}

/**
 * `wrangler dev` on `port` against the running simulator; closes only what it started itself.
 * @param {LocalStackOptions} options
 * @param {import('../simulator/server.mjs').Simulator} simulator
 * @param {number} port
 */
async function startGateway(options, simulator, port) {
  const url = `http://127.0.0.1:${port}`;
  const vars = {
    KIE_BASE_URL: simulator.url,
    KIE_API_KEY: 'dev-upstream-key',
    // Keys the callback URLs' tokens; required (creates answer 503 without it). Development only.
    CALLBACK_TOKEN_SECRET: DEV_CALLBACK_TOKEN_SECRET,
    PUBLIC_URL: url,
    // Tenant "dev" is the client; tenant "admin" the operator (README, "Tenants and keys").
    API_KEYS: `dev:${DEV_API_KEY}`,
    ADMIN_API_KEYS: `admin:${DEV_ADMIN_API_KEY}`,
    ALLOW_PRIVATE_CALLBACK_URLS: 'true',
    WEBHOOK_SIGNING_KEY: DEV_WEBHOOK_SIGNING_KEY,
    // No network locally: callBackUrl names are resolved by the simulator's stand-in resolver.
    CALLBACK_DNS_RESOLVER: `${simulator.url}/__sim/dns-query`,
    ...devVarsFile(),
    ...options.vars,
  };
  const persist = options.persistTo ? ['--persist-to', options.persistTo] : [];
  const inspector = options.inspectorPort !== undefined ? ['--inspector-port', String(options.inspectorPort)] : [];
  const config = options.configPath ? ['--config', options.configPath] : [];

  try {
    applyMigrations([...persist, ...config]);
  } catch (error) {
    await simulator.close();
    throw error;
  }

  const child = spawnGroup(
    process.execPath,
    [
      WRANGLER, 'dev', '--port', String(port), '--ip', '127.0.0.1', '--test-scheduled', '--show-interactive-dev-session=false',
      ...persist,
      ...inspector,
      ...config,
      ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
    ],
    { cwd: ROOT, env: { ...process.env, ...QUIET_ENV }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let partialLine = '';
  const keep = (/** @type {Buffer} */ chunk) => {
    output = (output + chunk.toString()).slice(-20_000);
    if (options.log) process.stdout.write(chunk);
    else if (options.gatewayLog) {
      // The gateway's lines are its JSON objects (src/lib/log.ts), which wrangler prefixes when they
      // are warnings or errors; the rest is wrangler's own chatter.
      const lines = (partialLine + chunk.toString()).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) {
        const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
        const start = plain.indexOf('{"ts":');
        if (start >= 0) process.stdout.write(`${plain.slice(start).trimEnd()}\n`);
      }
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  // wrangler starts workerd as its own child: the whole group goes.
  const stopGateway = () => stopGroup(child);

  try {
    await waitForHealthy(url, child, () => output);
  } catch (error) {
    await stopGateway();
    if (/Address already in use/i.test(output)) throw new PortTaken(`port ${port} was taken`);
    throw error;
  }

  return {
    url,
    simulatorUrl: simulator.url,
    vars,
    // The benches read the CPU clock of wrangler's own processes (bench/support/workerd-socket.mjs): the
    // tree under its guard (scripts/group-guard.mjs), which idles.
    wranglerPid: child.pid,
    // `wrangler dev` never fires cron triggers by itself; --test-scheduled exposes this route.
    fireCron: () => fetch(`${url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent('* * * * *')}`),
    close: async () => {
      await stopGateway();
      await simulator.close();
    },
  };
}

/** Variables from a developer's own `.dev.vars`, which win over the defaults (but not over `vars`). */
function devVarsFile() {
  const file = join(ROOT, '.dev.vars');
  if (!existsSync(file)) return {};
  /** @type {Record<string, string>} */
  const vars = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) vars[match[1]] = match[2].replace(/^"(.*)"$/, '$1');
  }
  return vars;
}

/**
 * Applies the migrations the local D1 has not had yet, exactly as a deployment is upgraded
 * (`wrangler d1 migrations apply`), so old local state is brought up to date on every start.
 */
function applyMigrations(/** @type {string[]} */ options) {
  const result = spawnSync(
    process.execPath,
    [WRANGLER, 'd1', 'migrations', 'apply', 'DB', '--local', ...options],
    { cwd: ROOT, env: { ...process.env, ...QUIET_ENV }, encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new Error(`Applying migrations/ to the local D1 failed:\n${result.stdout}\n${result.stderr}`);
  }
}

async function waitForHealthy(/** @type {string} */ url, /** @type {import('node:child_process').ChildProcess} */ child, /** @type {() => string} */ output) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output()}`);
    try {
      // Healthy, and wrangler says it is ours: not some other server that took the port.
      const response = await fetch(`${url}/healthz`);
      if (response.ok && output().includes(`Ready on ${url}`)) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`wrangler dev did not become healthy at ${url} within 60 s:\n${output()}`);
}
