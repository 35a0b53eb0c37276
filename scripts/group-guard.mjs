// Runs a command as its child, in a process group of its own, and ends the whole group (the
// command and whatever it started: wrangler's workerd) once the process that started the guard is
// gone, however it ended: Ctrl-C, SIGTERM, SIGKILL, a crash. So a `wrangler dev` started by
// `npm start`, a bench or a test never outlives them. Started by scripts/process-group.mjs.
//
// Usage: node scripts/group-guard.mjs <starter pid> <command> [args…]

import { spawn } from 'node:child_process';

const [starterPid, command, ...args] = process.argv.slice(2);
/** How often the starter is looked for; its end is noticed within this. */
const WATCH_MS = 200;
/** How long the group has to stop on SIGTERM before it is killed. */
const GRACE_MS = 5000;

const child = spawn(command, args, { stdio: 'inherit' });

/** Ends every process of the group but this one, then this one. */
function killGroup(signal) {
  try {
    process.kill(-process.pid, signal);
  } catch {
    // the group is gone already
  }
}

// The group is stopped with SIGTERM (the starter's own stop, or the end of the starter below):
// the guard outlives its command to clear up after it, and is the last to go.
process.on('SIGTERM', () => {});
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

child.on('exit', (code, signal) => {
  // Anything the command left behind in the group goes with it.
  killGroup('SIGKILL');
  process.exit(code ?? (signal ? 1 : 0));
});

let ending = false;
setInterval(() => {
  // Orphaned: the starter is gone and the guard was handed to another parent.
  if (ending || process.ppid === Number(starterPid)) return;
  ending = true;
  killGroup('SIGTERM');
  setTimeout(() => killGroup('SIGKILL'), GRACE_MS);
}, WATCH_MS);
