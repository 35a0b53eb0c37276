// `npm run bundle`: builds the Worker exactly as `wrangler deploy` would (`--dry-run`, nothing is
// uploaded, no account or network needed), then prints each module's size raw and gzipped and
// fails when the upload would pass Cloudflare's Worker size limit.
//
// Limits (developers.cloudflare.com/workers/platform/limits, "Worker size"): 3 MB after
// compression on Workers Free, 10 MB on Workers Paid. Newer platform releases lift this to
// 64 MiB uncompressed on every plan, but an account may still be held to the compressed limits,
// so the Free one is the budget here: the gateway is meant to run on a Free account.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const MIB = 1024 * 1024;
const FREE_PLAN_GZIP_LIMIT = 3 * MIB;
const PAID_PLAN_GZIP_LIMIT = 10 * MIB;
const UNCOMPRESSED_LIMIT = 64 * MIB;
/** Past this share of the Free limit the run still passes but says so, before it becomes a failure. */
const WARN_AT = 0.8;

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = mkdtempSync(join(tmpdir(), 'lyrics-gateway-bundle-'));

try {
  buildInto(outdir);
  const modules = uploadedModules(outdir);
  if (modules.length === 0) fail('wrangler emitted no module to measure.');
  printTable(modules);
  process.exitCode = verdict(modules);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}

function buildInto(dir) {
  const wrangler = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
  const result = spawnSync(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', dir], {
    cwd: root,
    encoding: 'utf8',
    env: { WRANGLER_SEND_METRICS: 'false', ...process.env },
  });
  if (result.status !== 0) {
    process.stderr.write(result.stdout ?? '');
    process.stderr.write(result.stderr ?? '');
    fail(`wrangler deploy --dry-run failed (exit ${result.status ?? result.signal}).`);
  }
}

/**
 * Every file wrangler would upload: the bundle and any extra modules beside it, but not its
 * source maps or the README it writes into the outdir (neither is sent to Cloudflare).
 */
function uploadedModules(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .filter((file) => !file.endsWith('.map') && relative(dir, file) !== 'README.md')
    .map((file) => {
      const bytes = readFileSync(file);
      return { name: relative(dir, file), raw: bytes.byteLength, gzip: gzipSync(bytes).byteLength };
    })
    .sort((a, b) => b.gzip - a.gzip);
}

function printTable(modules) {
  const rows = [
    ['module', 'raw', 'gzip'],
    ...modules.map((module) => [module.name, kib(module.raw), kib(module.gzip)]),
    ['total', kib(sum(modules, 'raw')), kib(sum(modules, 'gzip'))],
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row) => `${row[0].padEnd(widths[0])}  ${row[1].padStart(widths[1])}  ${row[2].padStart(widths[2])}`;
  console.log(line(rows[0]));
  for (const row of rows.slice(1, -1)) console.log(line(row));
  console.log('-'.repeat(widths[0] + widths[1] + widths[2] + 4));
  console.log(line(rows.at(-1)));
}

/**
 * Exit code 1 past a limit. The total gzip is the sum of each module gzipped on its own, a little
 * above what Cloudflare counts for several modules, so the check errs on the safe side.
 */
function verdict(modules) {
  const raw = sum(modules, 'raw');
  const gzip = sum(modules, 'gzip');
  const share = `${((gzip / FREE_PLAN_GZIP_LIMIT) * 100).toFixed(1)}% of the Workers Free limit (${mib(FREE_PLAN_GZIP_LIMIT)})`;
  if (raw > UNCOMPRESSED_LIMIT) {
    console.error(`FAIL: ${kib(raw)} uncompressed is over the ${mib(UNCOMPRESSED_LIMIT)} Worker size limit.`);
    return 1;
  }
  if (gzip > FREE_PLAN_GZIP_LIMIT) {
    const paid = gzip <= PAID_PLAN_GZIP_LIMIT ? ` (it would still fit Workers Paid, ${mib(PAID_PLAN_GZIP_LIMIT)})` : '';
    console.error(`FAIL: ${kib(gzip)} gzipped is ${share}${paid}. Trim dependencies before deploying.`);
    return 1;
  }
  if (gzip > WARN_AT * FREE_PLAN_GZIP_LIMIT) {
    console.warn(`WARNING: ${kib(gzip)} gzipped is ${share}; close to failing this check.`);
  } else {
    console.log(`OK: ${kib(gzip)} gzipped is ${share}.`);
  }
  return 0;
}

function sum(modules, key) {
  return modules.reduce((total, module) => total + module[key], 0);
}

function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function mib(bytes) {
  return `${bytes / MIB} MiB`;
}

function fail(message) {
  console.error(`npm run bundle: ${message}`);
  rmSync(outdir, { recursive: true, force: true });
  process.exit(1);
}
