// `npm run deploy`: a deploy that never serves traffic against an unmigrated database, the first
// one included. In order:
//   1. the D1 database named in wrangler.toml is created if the account has none of that name;
//   2. migrations/ are applied to it (`wrangler d1 migrations apply DB --remote`);
//   3. only then `wrangler deploy`, which links the database to the Worker by its name (wrangler's
//      automatic provisioning, wrangler 4.45 and later: wrangler.toml carries no database id) and
//      creates any other resource a binding names that does not exist yet.
// A step that fails stops the deploy: the Worker already serving keeps serving. Arguments after
// `--` go to `wrangler deploy` (e.g. `npm run deploy -- --env staging`).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

/** The database_name of the DB binding in wrangler.toml. */
export function databaseName(toml) {
  const name = /\[\[d1_databases\]\][^[]*?database_name\s*=\s*"([^"]+)"/s.exec(toml)?.[1];
  if (!name) throw new Error('wrangler.toml names no D1 database (database_name) for the DB binding.');
  return name;
}

/**
 * The deploy's steps, run through `wrangler(args, { capture })`, which answers { ok, stdout }.
 * Returns the names of the steps taken, for the test that checks their order.
 */
export async function deploy({ wrangler, toml, deployArgs = [], log = () => {} }) {
  const name = databaseName(toml);
  const steps = [];
  const step = (label, args, options) => {
    steps.push(label);
    log(`\n> ${label}: wrangler ${args.join(' ')}`);
    const result = wrangler(args, options);
    if (!result.ok) throw new Error(`${label} failed; nothing was deployed.`);
    return result;
  };
  const listed = step('list databases', ['d1', 'list', '--json'], { capture: true });
  const databases = JSON.parse(listed.stdout);
  if (!databases.some((database) => database.name === name)) step('create database', ['d1', 'create', name]);
  step('apply migrations', ['d1', 'migrations', 'apply', 'DB', '--remote']);
  step('deploy', ['deploy', ...deployArgs]);
  return steps;
}

function runWrangler(args, { capture = false } = {}) {
  const result = spawnSync(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    stdio: capture ? ['inherit', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
  });
  return { ok: result.status === 0, stdout: result.stdout ?? '' };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const separator = process.argv.indexOf('--');
  const deployArgs = separator === -1 ? process.argv.slice(2) : process.argv.slice(separator + 1);
  try {
    await deploy({ wrangler: runWrangler, toml: readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'), deployArgs, log: console.log });
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
