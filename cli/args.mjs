// @ts-check
// The command line and the environment, turned into one command to run. Anything wrong here is a
// UsageError (exit 2), found before any request is sent.

import { parseArgs } from 'node:util';
import { suggestion } from './invocation.mjs';

/** What `npm start` serves (scripts/dev.mjs, scripts/local-stack.mjs), so the CLI works with no setup. */
export const DEFAULT_URL = 'http://127.0.0.1:8787';
export const DEFAULT_KEY = 'dev-key';
const DEFAULT_TIMEOUT_SECONDS = 300;

export const TASK_STATUSES = [
  'PENDING',
  'SUCCESS',
  'GENERATE_LYRICS_FAILED',
  'SENSITIVE_WORD_ERROR',
  'CREATE_TASK_FAILED',
  'CALLBACK_EXCEPTION',
];

export class UsageError extends Error {}

const OPTIONS = /** @type {const} */ ({
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'callback-url': { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  owner: { type: 'string' },
});

const GLOBAL_OPTIONS = ['url', 'key', 'json', 'help'];
/** @type {Record<string, string[]>} */
const COMMAND_OPTIONS = {
  create: ['callback-url', 'wait', 'timeout'],
  get: ['wait', 'timeout'],
  delete: [],
  list: ['status', 'limit', 'cursor', 'owner'],
  usage: [],
};

/**
 * @typedef {{ url: string, key: string, json: boolean }} Common
 * @typedef {Common & { command: 'create', prompt: string, callbackUrl?: string, wait: boolean, timeoutMs: number }} CreateCommand
 * @typedef {Common & { command: 'get', taskId: string, wait: boolean, timeoutMs: number }} GetCommand
 * @typedef {Common & { command: 'list', status?: string, limit?: number, cursor?: string, owner?: string }} ListCommand
 * @typedef {Common & { command: 'usage' }} UsageCommand
 * @typedef {Common & { command: 'delete', taskId: string }} DeleteCommand
 * @typedef {{ command: 'help' }} HelpCommand
 * @typedef {CreateCommand | GetCommand | ListCommand | UsageCommand | DeleteCommand | HelpCommand} Command
 */

/**
 * @param {string[]} argv  the arguments after the script name
 * @param {Record<string, string | undefined>} env
 * @returns {Command}
 */
export function parseCommand(argv, env) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, allowNegative: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { command: 'help' };

  const [first, ...rest] = positionals;
  const named = first === 'create' || first === 'get' || first === 'list' || first === 'usage' || first === 'delete' ? first : undefined;
  // A lone word is far likelier a mistyped command than a prompt, and a create spends a credit.
  // (An empty or blank argument is no word: it gets the empty-prompt message below.)
  if (!named && positionals.length === 1 && first !== undefined && first.trim() !== '' && !/\s/.test(first.trim())) {
    throw new UsageError(
      `"${first}" is not a command (create, get, list, usage, delete, help). For a one-word prompt, say: ${suggestion(`create ${first.trim()}`)}`,
    );
  }
  // A bare prompt is a create: `lyrics-gateway "a song about rain"`, quotes optional.
  const command = named ?? 'create';
  const args = named ? rest : positionals;

  for (const name of Object.keys(values)) {
    if (!GLOBAL_OPTIONS.includes(name) && !COMMAND_OPTIONS[command].includes(name)) {
      const shown = name === 'wait' ? '--wait/--no-wait' : `--${name}`;
      const owners = Object.keys(COMMAND_OPTIONS).filter((owner) => COMMAND_OPTIONS[owner].includes(name));
      throw new UsageError(`${shown} does not apply to ${command}; it is an option of ${owners.join(' and ')}.`);
    }
  }

  const common = { ...gatewayConfig(values, env), json: values.json ?? false };

  if (command === 'create') {
    const prompt = args.join(' ').trim();
    if (!prompt) {
      throw new UsageError(`Give a prompt, for example: ${suggestion('"a song about rain"')}`);
    }
    const callbackUrl = values['callback-url'];
    if (callbackUrl !== undefined && !isHttpUrl(callbackUrl)) {
      throw new UsageError(`--callback-url must be an absolute http(s) URL, not ${JSON.stringify(callbackUrl)}.`);
    }
    return { command, ...common, prompt, callbackUrl, wait: values.wait ?? true, timeoutMs: timeoutMs(values.timeout) };
  }

  if (command === 'get') {
    if (args.length !== 1 || !args[0].trim()) {
      throw new UsageError(`get takes exactly one taskId, for example: ${suggestion('get 3b66882fde0a5d398bd269cab6d9542b')}`);
    }
    return { command, ...common, taskId: args[0].trim(), wait: values.wait ?? false, timeoutMs: timeoutMs(values.timeout) };
  }

  if (command === 'delete') {
    if (args.length !== 1 || !args[0].trim()) {
      throw new UsageError(`delete takes exactly one taskId, for example: ${suggestion('delete 3b66882fde0a5d398bd269cab6d9542b')}`);
    }
    return { command, ...common, taskId: args[0].trim() };
  }

  if (args.length > 0) throw new UsageError(`${command} takes no arguments (got ${JSON.stringify(args.join(' '))}).`);
  if (command === 'usage') return { command, ...common };
  return {
    command,
    ...common,
    status: status(values.status),
    limit: limit(values.limit),
    cursor: values.cursor || undefined,
    owner: values.owner?.trim() || undefined,
  };
}

/**
 * Flags win over the environment, which wins over the `npm start` defaults. An empty variable
 * counts as unset, as shells often leave them.
 * @param {{ url?: string, key?: string }} values
 * @param {Record<string, string | undefined>} env
 */
function gatewayConfig(values, env) {
  const url = (values.url ?? (env.LYRICS_GATEWAY_URL || DEFAULT_URL)).trim().replace(/\/+$/, '');
  if (!isHttpUrl(url)) {
    throw new UsageError(`The gateway URL must be an absolute http(s) URL such as ${DEFAULT_URL}, not ${JSON.stringify(url)}.`);
  }
  const key = values.key ?? (env.LYRICS_GATEWAY_API_KEY || DEFAULT_KEY);
  // The key itself is never part of a message.
  if (!key.trim()) throw new UsageError('--key is empty; give the API key the gateway accepts.');
  return { url, key: key.trim() };
}

/** @param {string} value */
function isHttpUrl(value) {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

/** @param {string | undefined} value */
function timeoutMs(value) {
  if (value === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  const seconds = Number(value);
  if (!value.trim() || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout takes a number of seconds greater than 0, not ${JSON.stringify(value)}.`);
  }
  return seconds * 1000;
}

/** @param {string | undefined} value */
function status(value) {
  if (value === undefined || value === '') return undefined;
  const upper = value.trim().toUpperCase();
  if (!TASK_STATUSES.includes(upper)) {
    throw new UsageError(`--status must be one of ${TASK_STATUSES.join(', ')}, not ${JSON.stringify(value)}.`);
  }
  return upper;
}

/** @param {string | undefined} value */
function limit(value) {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || number < 1 || number > 100) {
    throw new UsageError(`--limit takes a whole number from 1 to 100, not ${JSON.stringify(value)}.`);
  }
  return number;
}
