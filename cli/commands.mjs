// @ts-check
// The commands, each from parsed arguments to printed output and an exit status. Errors
// from the gateway are thrown to main.mjs, which reports them the same way for every command.

import { randomUUID } from 'node:crypto';
import { createWithRetries } from './create.mjs';
import { formatTask, formatTaskList, formatUsage, styles } from './format.mjs';
import { EXIT } from './help.mjs';
import { startProgress } from './progress.mjs';
import { waitForTask } from './wait.mjs';
import { suggestion } from './invocation.mjs';

/** How long a just-created task may be invisible to record-info before a 404 is believed. */
const NOT_FOUND_GRACE_MS = 15_000;

/**
 * @typedef {{ write(text: string): unknown, isTTY?: boolean }} Output
 * @typedef {{ stdout: Output, stderr: Output, emphasis: boolean,
 *   client: import('./api.mjs').GatewayClient }} Context
 */

/**
 * @param {import('./args.mjs').CreateCommand} command
 * @param {Context} context
 */
export async function create(command, context) {
  const { client, stderr } = context;
  const progress = startProgress({ stream: stderr });
  progress.set(`creating a task at ${client.url}`);
  let created;
  try {
    created = await createWithRetries(
      client,
      { prompt: command.prompt, ...(command.callbackUrl ? { callBackUrl: command.callbackUrl } : {}) },
      {
        // One key per invocation: every retry of this create is the same create to the gateway.
        idempotencyKey: randomUUID(),
        onRetry: (reason, delayMs) =>
          progress.note(`Create failed (${reason}); trying again in ${Math.ceil(delayMs / 1000)} s with the same Idempotency-Key.`),
      },
    );
  } catch (error) {
    progress.stop();
    throw error;
  }
  const { taskId } = created.data;

  if (!command.wait) {
    progress.stop();
    if (command.json) printJson(context, created.envelope);
    else {
      context.stdout.write(`${taskId}\n`);
      stderr.write(`Created. Fetch it with: ${suggestion(`get ${taskId} --wait`)}\n`);
    }
    return EXIT.ok;
  }
  // The same progress line goes on, so its clock counts from the create.
  const done = await waitWithProgress(context, taskId, command.timeoutMs, NOT_FOUND_GRACE_MS, progress);
  return printTask(context, command, done);
}

/**
 * @param {import('./args.mjs').GetCommand} command
 * @param {Context} context
 */
export async function get(command, context) {
  if (!command.wait) return printTask(context, command, await context.client.getTask(command.taskId));
  return printTask(context, command, await waitWithProgress(context, command.taskId, command.timeoutMs, 0));
}

/**
 * @param {import('./args.mjs').ListCommand} command
 * @param {Context} context
 */
export async function list(command, context) {
  if (command.json) {
    printJson(context, (await context.client.listTasks(command)).envelope);
    return EXIT.ok;
  }
  // Only an admin key's usage lists every tenant: its list then says whose each task is.
  const [page, usage] = await Promise.all([
    context.client.listTasks(command),
    context.client.usage().catch(() => undefined),
  ]);
  const admin = Array.isArray(usage?.data?.tenants);
  context.stdout.write(formatTaskList(page.data, styles(context.emphasis), { ...command, showOwner: admin }));
  return EXIT.ok;
}

/**
 * Deletes a task everywhere the gateway keeps it (its prompt and lyrics are gone within a minute).
 * @param {import('./args.mjs').DeleteCommand} command
 * @param {Context} context
 */
export async function remove(command, context) {
  const answer = await context.client.deleteTask(command.taskId);
  if (command.json) printJson(context, answer.envelope);
  else context.stdout.write(`Deleted task ${command.taskId}.\n`);
  return EXIT.ok;
}

/**
 * @param {import('./args.mjs').UsageCommand} command
 * @param {Context} context
 */
export async function usage(command, context) {
  const answer = await context.client.usage();
  if (command.json) printJson(context, answer.envelope);
  else context.stdout.write(formatUsage(answer.data, styles(context.emphasis)));
  return EXIT.ok;
}

/**
 * @param {Context} context
 * @param {string} taskId
 * @param {number} timeoutMs
 * @param {number} notFoundGraceMs
 * @param {import('./progress.mjs').Progress} [progress]
 */
async function waitWithProgress(context, taskId, timeoutMs, notFoundGraceMs, progress = startProgress({ stream: context.stderr })) {
  progress.set(`waiting for task ${taskId}`);
  // Ctrl-C stops the waiting, not the task: say how to pick it up again.
  const onInterrupt = () => {
    progress.stop();
    context.stderr.write(`\nStopped waiting; the task goes on. Pick it up with: ${suggestion(`get ${taskId} --wait`)}\n`);
    process.exit(EXIT.interrupted);
  };
  process.once('SIGINT', onInterrupt);
  try {
    return await waitForTask(context.client, taskId, {
      timeoutMs,
      notFoundGraceMs,
      onStatus: (status) => progress.set(`task ${taskId}  ${status}`),
    });
  } finally {
    process.off('SIGINT', onInterrupt);
    progress.stop();
  }
}

/**
 * A final task other than SUCCESS is the task failing: its lyrics (if any) still go to stdout,
 * and the reason to stderr with a non-zero exit.
 * @param {Context} context
 * @param {{ json: boolean }} command
 * @param {import('./api.mjs').Answer} answer
 */
function printTask(context, command, answer) {
  /** @type {import('./api.mjs').Task} */
  const task = answer.data;
  if (command.json) printJson(context, answer.envelope);
  else context.stdout.write(formatTask(task, styles(context.emphasis)));
  if (task.status === 'SUCCESS' || task.status === 'PENDING') return EXIT.ok;
  const code = task.errorCode !== null ? ` (code ${task.errorCode})` : '';
  context.stderr.write(`Task ${task.taskId} ended ${task.status}${code}: ${task.errorMessage || 'the gateway gave no message'}\n`);
  return EXIT.failed;
}

/**
 * @param {Context} context
 * @param {unknown} value
 */
export function printJson(context, value) {
  context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
