// The callback floor: a Worker of the gateway's callback shape doing the least such a path can do
// (README, "Performance"). Its folder is given by the operator (FLOOR_DIR or --floor), is treated
// as read-only, and runs from a temporary copy: npm ci there, its schema.sql applied to a local
// D1, then `wrangler dev`.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const QUIET_ENV = { CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' };

/** The floor's folder from `--floor DIR` or FLOOR_DIR; exits with a clear message when neither names one. */
export function floorDirFromArgs(argv = process.argv.slice(2)) {
  const flag = argv.indexOf('--floor');
  const dir = flag >= 0 ? argv[flag + 1] : process.env.FLOOR_DIR;
  const problem = !dir
    ? 'No floor worker given.'
    : !existsSync(join(dir, 'wrangler.toml')) || !existsSync(join(dir, 'schema.sql'))
      ? `${resolve(dir)} does not hold a floor worker (wrangler.toml and schema.sql).`
      : null;
  if (problem) {
    console.error(`${problem}
This bench compares the gateway's callback path with a "floor" Worker: the least a callback path of
this shape can do (a Hono route POST /cb/:ref, one warm Durable Object deciding once in SQLite, one D1
insert for the first delivery; POST /warm/:ref creates the object; schema.sql creates its table).
Point FLOOR_DIR (or --floor DIR) at its folder, e.g.  FLOOR_DIR=/path/to/floor npm run bench:callbacks`);
    process.exit(2);
  }
  return resolve(/** @type {string} */ (dir));
}

/** Copies the floor to a temporary folder, installs it, applies its schema and starts `wrangler dev`. */
export async function startFloor({ dir, port, inspectorPort }) {
  const work = mkdtempSync(join(tmpdir(), 'lyrics-gateway-floor-'));
  cpSync(dir, work, { recursive: true, filter: (source) => !/[\\/](node_modules|\.wrangler)$/.test(source) });
  makeWritable(work);
  const run = (/** @type {string} */ command, /** @type {string[]} */ args, /** @type {string} */ what) => {
    const result = spawnSync(command, args, { cwd: work, env: { ...process.env, ...QUIET_ENV }, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`floor: ${what} failed:\n${result.stdout}\n${result.stderr}`);
  };
  const wrangler = join(work, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
  const persist = ['--persist-to', join(work, '.state')];
  run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ci', '--no-audit', '--no-fund'], 'npm ci');
  run(process.execPath, [wrangler, 'd1', 'execute', 'DB', '--local', '--file', 'schema.sql', ...persist], 'applying schema.sql');

  const child = spawn(
    process.execPath,
    [wrangler, 'dev', '--port', String(port), '--ip', '127.0.0.1', '--inspector-port', String(inspectorPort),
      '--show-interactive-dev-session=false', ...persist],
    { cwd: work, env: { ...process.env, ...QUIET_ENV }, stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' },
  );
  let output = '';
  const keep = (/** @type {Buffer} */ chunk) => {
    output = (output + chunk.toString()).slice(-10_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      try {
        process.kill(process.platform === 'win32' ? /** @type {number} */ (child.pid) : -(/** @type {number} */ (child.pid)), 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
    }
    rmSync(work, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`floor: wrangler dev did not become healthy at ${url}:\n${output}`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  return { url, close, pid: child.pid };
}

/** The source folder is read-only; its copy must not be, or npm and wrangler cannot write in it. */
function makeWritable(/** @type {string} */ path) {
  const mode = statSync(path).mode;
  chmodSync(path, mode | 0o200);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) makeWritable(join(path, entry));
}
