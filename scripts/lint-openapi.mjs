// `npm run lint:openapi`: writes the gateway's /openapi.json without starting a server (the app is
// bundled with esbuild and asked in-process, as a Worker would be) and lints it with Redocly CLI's
// recommended rules, every warning counted as an error (its `recommended-strict` set, the same
// rules). Needs no network.
//
//   node scripts/lint-openapi.mjs [--out openapi.json]   also keeps the document at that path

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The origin the document names as its server; any https origin of the deployment would do. */
const ORIGIN = 'https://lyrics-gateway.workers.dev';

const outIndex = process.argv.indexOf('--out');
const keepAt = outIndex > 0 ? process.argv[outIndex + 1] : undefined;

const dir = mkdtempSync(join(tmpdir(), 'lyrics-gateway-openapi-'));
try {
  const document = await generateDocument(dir);
  const file = keepAt ? resolve(keepAt) : join(dir, 'openapi.json');
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  process.exitCode = lint(file);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** The document exactly as GET /openapi.json serves it. */
async function generateDocument(workDir) {
  const bundle = join(workDir, 'app.mjs');
  await build({
    entryPoints: [join(root, 'src', 'routes', 'app.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    outfile: bundle,
    logLevel: 'warning',
    // Only the Durable Object classes import the Workers runtime, and the document never runs them.
    plugins: [
      {
        name: 'workers-runtime-stub',
        setup(builder) {
          builder.onResolve({ filter: /^cloudflare:workers$/ }, () => ({ path: 'workers', namespace: 'stub' }));
          builder.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export class DurableObject {}' }));
        },
      },
    ],
  });
  const { app } = await import(pathToFileURL(bundle).href);
  // The app logs a line per request; this one is not a request anyone made.
  const log = console.log;
  console.log = () => {};
  try {
    const response = await app.request(`${ORIGIN}/openapi.json`);
    if (response.status !== 200) throw new Error(`/openapi.json answered ${response.status}: ${await response.text()}`);
    return await response.json();
  } finally {
    console.log = log;
  }
}

function lint(file) {
  const cli = join(root, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
  const result = spawnSync(process.execPath, [cli, 'lint', file, '--extends', 'recommended-strict', '--max-problems', '200'], {
    cwd: root,
    stdio: 'inherit',
    // No telemetry and no update check: CI may have no network.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  if (result.error) throw result.error;
  return result.status ?? 1;
}
