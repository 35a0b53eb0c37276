// The callback floor: a Worker of the gateway's callback shape doing the least such a path can do
// (README, "Performance"). Its folder is given by the operator (FLOOR_DIR or --floor), is treated
// as read-only, and runs from a temporary copy: npm ci there, its schema.sql applied to a local
// D1, then `wrangler dev`.

import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { QUIET_ENV, startWranglerDev } from './wrangler-dev.mjs';

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
  run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ci', '--no-audit', '--no-fund'], 'npm ci');
  run(process.execPath, [wrangler, 'd1', 'execute', 'DB', '--local', '--file', 'schema.sql', '--persist-to', join(work, '.state')], 'applying schema.sql');

  try {
    const dev = await startWranglerDev({ wrangler, cwd: work, port, inspectorPort, probePath: '/healthz', label: 'floor' });
    const close = async () => {
      await dev.close();
      rmSync(work, { recursive: true, force: true });
    };
    return { url: dev.url, close, pid: dev.pid };
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
}

/** The source folder is read-only; its copy must not be, or npm and wrangler cannot write in it. */
function makeWritable(/** @type {string} */ path) {
  const mode = statSync(path).mode;
  chmodSync(path, mode | 0o200);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) makeWritable(join(path, entry));
}
