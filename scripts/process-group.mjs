// Long-running children (`wrangler dev` and its workerd) for `npm start`, the benches and the
// tests: each runs in a process group of its own under scripts/group-guard.mjs, which ends the
// group if the starter goes away without stopping it; stopGroup stops it the orderly way.
//
// The starter itself may be left running when what ran it goes: `npm start` stopped with SIGTERM
// ends npm and its shell but not the node script under them. So a process that started groups
// watches for that too: orphaned, it stops its groups and exits.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const GUARD = fileURLToPath(new URL('./group-guard.mjs', import.meta.url));

/**
 * Spawns `command args` in a guarded process group of its own (on Windows, a plain child).
 * @param {string} command
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} options
 */
export function spawnGroup(command, args, options) {
  if (process.platform === 'win32') return spawn(command, args, options);
  const child = spawn(process.execPath, [GUARD, String(process.pid), command, ...args], { ...options, detached: true });
  groups.add(child);
  child.once('exit', () => groups.delete(child));
  watchForOrphaning();
  return child;
}

/** @type {Set<import('node:child_process').ChildProcess>} */
const groups = new Set();
let watching = false;

function watchForOrphaning() {
  if (watching) return;
  watching = true;
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    void Promise.all([...groups].map((child) => stopGroup(child))).then(() => process.exit(129));
  }, 250);
  // Nothing to wait for on its own: a script that is done still exits.
  watch.unref();
}

/**
 * Stops a group spawnGroup started: SIGTERM to every process of it, then up to `waitMs` for it
 * to end (the guard is the last to go).
 * @param {import('node:child_process').ChildProcess} child
 */
export async function stopGroup(child, waitMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(process.platform === 'win32' ? /** @type {number} */ (child.pid) : -(/** @type {number} */ (child.pid)), 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, waitMs))]);
}
