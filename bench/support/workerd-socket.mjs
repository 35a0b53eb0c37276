// `wrangler dev` answers on its port through a proxy Worker in a workerd process of its own, which
// forwards each request to the workerd process running the Worker. A throughput bench aimed at
// the proxy measures the proxy too; this finds the Worker's own workerd socket instead, on Linux,
// from /proc: the TCP ports that processes started by this one listen on, minus those already
// known (the proxy's, another stack's), kept if `GET probePath` answers `expect`.

import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Listening TCP sockets on this machine: inode -> port. */
function listeningInodes() {
  /** @type {Map<string, number>} */
  const byInode = new Map();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // fields: sl local_address rem_address st ... inode (index 9); st 0A = LISTEN
      if (fields.length < 10 || fields[3] !== '0A') continue;
      byInode.set(fields[9], Number.parseInt(fields[1].split(':')[1], 16));
    }
  }
  return byInode;
}

/** Every process descended from `root` (not `root` itself). */
function descendants(root) {
  /** @type {Map<number, number[]>} */
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(/** @type {number} */ (queue.shift())) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Ports that processes started by this one listen on. */
export function childListeningPorts() {
  return new Set(childListeners().keys());
}

/** Ports that processes started by this one listen on, each with the listening process's pid. */
function childListeners() {
  const inodes = listeningInodes();
  /** @type {Map<number, number>} */
  const ports = new Map();
  for (const pid of descendants(process.pid)) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        const port = match && inodes.get(match[1]);
        if (port) ports.set(port, pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return ports;
}

/**
 * The origin of the Worker's own workerd socket, or `fallback` (the proxy's origin) where /proc
 * is not there to read, with a line saying so.
 * @param {{ fallback: string, exclude: Set<number>, probePath: string, expect: (body: string) => boolean }} options
 */
export async function workerdOrigin({ fallback, exclude, probePath, expect }) {
  if (process.platform !== 'linux') {
    console.log(`(not Linux: measuring through wrangler's proxy at ${fallback})`);
    return fallback;
  }
  for (const port of childListeningPorts()) {
    if (exclude.has(port)) continue;
    const origin = `http://127.0.0.1:${port}`;
    try {
      const response = await fetch(`${origin}${probePath}`, { signal: AbortSignal.timeout(2000) });
      if (response.ok && expect(await response.text())) return origin;
    } catch {
      // not an HTTP socket of ours (an inspector, a loopback service)
    }
  }
  console.log(`(workerd's own socket not found: measuring through wrangler's proxy at ${fallback})`);
  return fallback;
}

/**
 * The CPU time (user + system, ms) the process listening on `origin`'s port has used so far, or
 * null where /proc cannot say. Read before and after a round: the difference over the requests
 * is what each request cost the Worker's process, whatever else the machine was doing.
 * @param {string} origin
 * @returns {() => number | null}
 */
export function processCpuClock(origin) {
  return pidCpuClock(process.platform === 'linux' ? childListeners().get(Number(new URL(origin).port)) : undefined);
}

/**
 * The CPU time (user + system, ms) that `wrangler dev` itself has used so far: the process tree
 * started as `root`, without the workerd listening on `origin` (whose clock processCpuClock reads).
 * This is where wrangler's tooling runs, such as printing the Worker's log lines. Null off Linux.
 * @param {number} root
 * @param {string} origin
 * @returns {() => number | null}
 */
export function toolingCpuClock(root, origin) {
  if (process.platform !== 'linux') return () => null;
  const workerd = childListeners().get(Number(new URL(origin).port));
  const clocks = [root, ...descendants(root)].filter((pid) => pid !== workerd).map((pid) => pidCpuClock(pid));
  return () => clocks.reduce((sum, clock) => sum + (clock() ?? 0), 0);
}

/**
 * The CPU time (user + system, ms) process `pid` has used so far, or null where /proc cannot say.
 * @param {number | undefined} pid
 * @returns {() => number | null}
 */
export function pidCpuClock(pid) {
  // USER_HZ is 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
  const TICK_MS = 10;
  return () => {
    if (pid === undefined || process.platform !== 'linux') return null;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[11] and [12] are utime and stime (stat's 14th and 15th fields).
      return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    } catch {
      return null;
    }
  };
}
