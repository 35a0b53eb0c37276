// `wrangler dev` on a Worker folder the benches made themselves (the floor's copy, the log-line
// Worker): started on a given port, waited for until it answers, stopped with its whole group.

import { spawnGroup, stopGroup } from '../../scripts/process-group.mjs';
import { join } from 'node:path';

export const QUIET_ENV = { CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' };

/**
 * Starts `wrangler dev` in `cwd` with its state in `cwd/.state`, and resolves once GET `probePath`
 * answers 2xx (within a minute, else it stops it and throws with wrangler's last output).
 * `pid` is the root of the tree the benches read wrangler's CPU from (its guard, scripts/group-guard.mjs, which idles).
 * @param {{ wrangler: string, cwd: string, port: number, inspectorPort: number, probePath: string, label: string }} options
 * @returns {Promise<{ url: string, pid: number | undefined, close: () => Promise<void> }>}
 */
export async function startWranglerDev({ wrangler, cwd, port, inspectorPort, probePath, label }) {
  const child = spawnGroup(
    process.execPath,
    [wrangler, 'dev', '--port', String(port), '--ip', '127.0.0.1', '--inspector-port', String(inspectorPort),
      '--show-interactive-dev-session=false', '--persist-to', join(cwd, '.state')],
    { cwd, env: { ...process.env, ...QUIET_ENV }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (/** @type {Buffer} */ chunk) => {
    output = (output + chunk.toString()).slice(-10_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const close = () => stopGroup(child);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`${label}: wrangler dev did not become healthy at ${url}:\n${output}`);
    }
    try {
      if ((await fetch(`${url}${probePath}`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  return { url, pid: child.pid, close };
}
