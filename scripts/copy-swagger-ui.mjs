// Copies the Swagger UI files that /docs needs from node_modules/swagger-ui-dist into the static
// assets folder (public/docs/swagger-ui/, git-ignored), so the Worker serves them itself: no CDN,
// and no 2 MB of vendored code in git. wrangler runs this before `wrangler dev` and
// `wrangler deploy` ([build] in wrangler.toml); `node scripts/copy-swagger-ui.mjs` runs it by hand.

import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(ROOT, 'node_modules', 'swagger-ui-dist');
const TARGET = join(ROOT, 'public', 'docs', 'swagger-ui');

/** What public/docs.html loads, and Swagger UI's license; not the source maps or other bundles. */
const FILES = ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png', 'LICENSE', 'NOTICE'];

if (!existsSync(join(SOURCE, 'package.json'))) {
  console.error(`${SOURCE} is missing: run \`npm ci\` first (swagger-ui-dist is a dev dependency).`);
  process.exit(1);
}
mkdirSync(TARGET, { recursive: true });
for (const file of FILES) {
  const from = join(SOURCE, file);
  const to = join(TARGET, file);
  // An unchanged file is left alone: rewriting it would make `wrangler dev` reload for nothing.
  if (existsSync(to) && readFileSync(from).equals(readFileSync(to))) continue;
  copyFileSync(from, to);
}
