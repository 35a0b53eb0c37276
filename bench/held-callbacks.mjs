// What callbacks for made-up task ids can make the gateway hold, over real HTTP against
// `wrangler dev` (the same local stack as `npm start`, in a throwaway state folder). Whoever
// holds the callback-token key can mint fresh callback URLs; this sends N callbacks of about
// 250 KiB, each for a made-up task id through a URL of its own, and reports how many were held
// (200) or refused (429), and how much the local state grew: Durable Object storage, and the
// whole folder (which also holds local request traces). Two rows, each on a fresh stack: the
// default HELD_CALLBACKS_MAX(_BYTES), and those bounds lifted (the gateway before it had them).
// Run: node bench/held-callbacks.mjs [N]   (default 40)

import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack } from '../scripts/local-stack.mjs';

const count = Number(process.argv[2] ?? 40);
const text = 'la '.repeat(83_000);
const mb = (/** @type {number} */ bytes) => (bytes / 1e6).toFixed(1);

/** Bytes under a folder (0 when it does not exist). @param {string} dir @returns {number} */
function folderBytes(dir) {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}

/** @param {Record<string, string>} vars */
async function measure(vars) {
  const persistTo = mkdtempSync(join(tmpdir(), 'lyrics-gateway-bench-'));
  const stack = await startLocalStack({ port: 8913, simulatorPort: 0, inspectorPort: 9313, persistTo, vars });
  /** A callback URL as the gateway mints one (src/security/callback-token.ts), with its key. */
  const mintUrl = () => {
    const key = stack.vars.CALLBACK_TOKEN_SECRET;
    const ref = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0') + randomBytes(12).toString('hex');
    const token = createHmac('sha256', `lyrics-gateway/callback-token/v1:${key}`).update(ref).digest('base64url');
    return `${stack.url}/callbacks/kie/${ref}?token=${token}`;
  };
  try {
    // Let the stack settle (migrations, first requests) before the first measurement.
    await fetch(`${stack.url}/healthz`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const doDir = join(persistTo, 'v3', 'do');
    const before = { all: folderBytes(persistTo), objects: folderBytes(doDir) };
    /** @type {Record<string, number>} */
    const statuses = {};
    for (let i = 0; i < count; i++) {
      const taskId = randomBytes(16).toString('hex');
      const body = JSON.stringify({
        code: 200,
        msg: 'All generated successfully.',
        data: { callbackType: 'complete', task_id: taskId, data: [{ error_message: '', status: 'complete', text, title: 'Made up' }] },
      });
      const response = await fetch(mintUrl(), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    }
    // Storage files grow as SQLite checkpoints; give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    return { statuses, before, after: { all: folderBytes(persistTo), objects: folderBytes(doDir) } };
  } finally {
    await stack.close();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

const rows = [
  ['defaults', {}],
  ['unbounded', { HELD_CALLBACKS_MAX: '1000000', HELD_CALLBACKS_MAX_BYTES: '1000000000000' }],
];
console.log(`callbacks of ${Math.round(text.length / 1024)} KiB for made-up task ids: ${count}`);
console.log('bounds     answers              objects-MB-grew  folder-MB-before  folder-MB-after');
const grown = {};
for (const [label, vars] of rows) {
  const { statuses, before, after } = await measure(/** @type {Record<string, string>} */ (vars));
  grown[label] = after.objects - before.objects;
  console.log(`${label.padEnd(9)}  ${JSON.stringify(statuses).padEnd(19)}  ${mb(after.objects - before.objects).padEnd(15)}  ${mb(before.all).padEnd(16)}  ${mb(after.all)}`);
}
console.log(`object storage, defaults / unbounded: ${(grown.defaults / grown.unbounded).toFixed(2)}`);
