// @ts-check
// One run of the CLI: parse, run the command, and turn every failure into a message on stderr
// and an exit status. Nothing here prints the API key.

import { GatewayError, UnreachableError, gatewayClient } from './api.mjs';
import { UsageError, parseCommand } from './args.mjs';
import { create, get, list, printJson, remove, usage } from './commands.mjs';
import { useEmphasis } from './format.mjs';
import { EXIT, HELP } from './help.mjs';
import { StillPendingError } from './wait.mjs';
import { suggestion } from './invocation.mjs';

/**
 * @param {string[]} argv
 * @param {{ env: Record<string, string | undefined>, stdout: import('./commands.mjs').Output,
 *   stderr: import('./commands.mjs').Output, fetch?: typeof fetch }} io
 * @returns {Promise<number>} the exit status
 */
export async function main(argv, io) {
  const { stdout, stderr } = io;
  let command;
  try {
    command = parseCommand(argv, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr.write(`${error.message}\nSee: ${suggestion("--help")}\n`);
    return EXIT.usage;
  }
  if (command.command === 'help') {
    stdout.write(HELP);
    return EXIT.ok;
  }

  const context = {
    stdout,
    stderr,
    emphasis: useEmphasis(stdout, io.env),
    client: gatewayClient({ url: command.url, key: command.key, fetch: io.fetch }),
  };
  try {
    if (command.command === 'create') return await create(command, context);
    if (command.command === 'get') return await get(command, context);
    if (command.command === 'usage') return await usage(command, context);
    if (command.command === 'delete') return await remove(command, context);
    return await list(command, context);
  } catch (error) {
    if (error instanceof GatewayError) {
      if (command.json && error.envelope) printJson(context, error.envelope);
      stderr.write(`The gateway answered ${error.status}${error.code !== error.status ? ` (code ${error.code})` : ''}: ${error.message}\n`);
      const hint = gatewayHint(error);
      if (hint) stderr.write(`${hint}\n`);
      return EXIT.failed;
    }
    if (error instanceof UnreachableError) {
      stderr.write(`${error.message}\n`);
      stderr.write(`Is the gateway running? Start one locally with \`npm start\`, or point the CLI at yours with --url or LYRICS_GATEWAY_URL.\n`);
      return EXIT.failed;
    }
    if (error instanceof StillPendingError) {
      if (command.json && error.last) printJson(context, error.last.envelope);
      stderr.write(`${error.message} The task goes on without the CLI.\n`);
      stderr.write(`Pick it up with: ${suggestion(`get ${error.taskId} --wait`)}\n`);
      return EXIT.stillPending;
    }
    throw error;
  }
}

/** @param {GatewayError} error */
function gatewayHint(error) {
  if (error.status === 401) return 'The key comes from --key or LYRICS_GATEWAY_API_KEY (`npm start` accepts dev-key).';
  if (error.status === 403) return 'Only an admin key (ADMIN_API_KEYS) may name another tenant with --owner.';
  if (error.status === 429 && error.retryAfterSeconds !== undefined) return `Try again in ${error.retryAfterSeconds} s.`;
  return undefined;
}
