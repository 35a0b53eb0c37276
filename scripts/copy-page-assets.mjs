// Copies the third-party files that the gateway's pages need from node_modules into the static
// assets folder, so the Worker serves them itself: no CDN, and no megabytes of vendored code in
// git (the targets are git-ignored). /docs needs Swagger UI; /admin needs Chart.js. wrangler runs
// this before `wrangler dev` and `wrangler deploy` ([build] in wrangler.toml);
// `node scripts/copy-page-assets.mjs` runs it by hand.

import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Per package: the files the pages load, and its license; not the source maps or other bundles. */
const COPIES = [
  {
    from: 'swagger-ui-dist',
    to: 'public/docs/swagger-ui',
    files: ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png', 'LICENSE', 'NOTICE'],
  },
  { from: 'chart.js', to: 'public/admin/chart.js', files: ['dist/chart.umd.min.js', 'LICENSE.md'] },
];

for (const { from, to, files } of COPIES) {
  const source = join(ROOT, 'node_modules', from);
  if (!existsSync(join(source, 'package.json'))) {
    console.error(`${source} is missing: run \`npm ci\` first (${from} is a dev dependency).`);
    process.exit(1);
  }
  const target = join(ROOT, to);
  mkdirSync(target, { recursive: true });
  for (const file of files) {
    const origin = join(source, file);
    const copy = join(target, file.split('/').pop());
    // An unchanged file is left alone: rewriting it would make `wrangler dev` reload for nothing.
    if (existsSync(copy) && readFileSync(origin).equals(readFileSync(copy))) continue;
    copyFileSync(origin, copy);
  }
}
