// @ts-check
import { basename } from 'node:path';

/**
 * How to run this CLI again the way the user ran it, so that a suggested command can be pasted
 * as it is: `npm run lyrics --` in the repository, `lyrics-gateway` where that is on the PATH (a
 * global install), else `npx lyrics-gateway` (which, inside the repository, runs its bin).
 * A plain `lyrics-gateway` is not on the PATH after `npm ci`.
 * @param {Record<string, string | undefined>} [env]
 * @param {string} [script] the path the CLI was started with (process.argv[1])
 */
export function invocation(env = process.env, script = process.argv[1] ?? '') {
  if (env.npm_lifecycle_event === 'lyrics') return 'npm run lyrics --';
  if (env.npm_command !== 'exec' && basename(script) === 'lyrics-gateway') return 'lyrics-gateway';
  return 'npx lyrics-gateway';
}

/** A command to paste: this CLI, as invoked, with `args`. */
export function suggestion(/** @type {string} */ args) {
  return `${invocation()} ${args}`;
}
