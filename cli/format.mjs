// @ts-check
// Tasks as people read them: titles, then the lyrics with their section markers stand out.

import { suggestion } from './invocation.mjs';

/**
 * Bold only for a terminal, and never when NO_COLOR is set (https://no-color.org: any non-empty value).
 * @param {{ isTTY?: boolean }} stream
 * @param {Record<string, string | undefined>} env
 */
export function useEmphasis(stream, env) {
  return Boolean(stream.isTTY) && !env.NO_COLOR;
}

/** @param {boolean} enabled */
export function styles(enabled) {
  /** @param {string} code @param {string} reset */
  const wrap = (code, reset) => (/** @type {string} */ text) => (enabled ? `\x1b[${code}m${text}\x1b[${reset}m` : text);
  return { bold: wrap('1', '22'), dim: wrap('2', '22') };
}

/** @typedef {ReturnType<typeof styles>} Styles */

/** A line such as `[Verse]`, `[Chorus]` or `[Verse 2]`. */
const SECTION_MARKER = /^\s*\[[^\]\n]+\]\s*$/;

/** @param {string} line */
export function isSectionMarker(line) {
  return SECTION_MARKER.test(line);
}

/**
 * @param {string} text
 * @param {Styles} style
 */
export function formatLyrics(text, style) {
  return text
    .split('\n')
    .map((line) => (isSectionMarker(line) ? style.bold(line) : line))
    .join('\n');
}

/**
 * The prompt a task was created with, from record-info's `param` (a JSON string).
 * @param {{ param?: string }} task
 */
export function promptOf(task) {
  try {
    const prompt = JSON.parse(task.param ?? '').prompt;
    return typeof prompt === 'string' ? prompt : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param {import('./api.mjs').Task} task
 * @param {Styles} style
 */
export function formatTask(task, style) {
  const items = task.response?.data ?? [];
  const lines = [`${style.dim('task')} ${task.taskId}  ${style.bold(task.status)}`];
  const prompt = promptOf(task);
  if (prompt !== undefined) lines.push(`${style.dim('prompt')} ${prompt}`);
  if (task.errorMessage || task.errorCode !== null) {
    lines.push(`${style.dim('error')} ${[task.errorCode, task.errorMessage].filter((part) => part !== null && part !== '').join(': ')}`);
  }
  if (task.status === 'PENDING') {
    lines.push('', `Not finished yet. Wait for it: ${suggestion(`get ${task.taskId} --wait`)}`);
  }
  items.forEach((item, index) => {
    const title = item.title?.trim() || '(untitled)';
    const numbered = items.length > 1 ? `${index + 1}/${items.length}  ${title}` : title;
    lines.push('', style.bold(numbered));
    if (item.status && item.status !== 'complete') {
      lines.push(`(${item.status}${item.errorMessage ? `: ${item.errorMessage}` : ''})`);
    }
    lines.push('', formatLyrics(item.text ?? '', style));
  });
  return `${lines.join('\n')}\n`;
}

const PROMPT_WIDTH = 60;

/**
 * @param {{ items: import('./api.mjs').Task[], nextCursor: string | null }} page
 * @param {Styles} style
 * @param {{ status?: string, limit?: number, owner?: string, showOwner?: boolean }} query  the filters, repeated in
 *   the next page's command; showOwner adds whose each task is (an admin key's list holds every tenant's)
 */
export function formatTaskList(page, style, { status, limit, owner, showOwner = false } = {}) {
  if (page.items.length === 0) {
    if (owner) return `No tasks of ${owner}${status ? ` with status ${status}` : ''}.\n`;
    return status ? `No tasks with status ${status}.\n` : `No tasks yet. Create one: ${suggestion('"a song about rain"')}\n`;
  }
  const rows = page.items.map((task) => [
    task.createTime ? localTime(task.createTime) : '',
    ...(showOwner ? [task.owner ?? '(none)'] : []),
    task.status,
    task.taskId,
    truncate((promptOf(task) ?? '').replace(/\s+/g, ' '), PROMPT_WIDTH),
  ]);
  const header = ['created', ...(showOwner ? ['owner'] : []), 'status', 'taskId', 'prompt'];
  const widths = header.map((name, column) => Math.max(name.length, ...rows.map((row) => row[column].length)));
  /** @param {string[]} row */
  const line = (row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ');
  const out = [style.bold(line(header)), ...rows.map(line)];
  if (page.nextCursor) {
    const filters = `${status ? ` --status ${status}` : ''}${limit ? ` --limit ${limit}` : ''}${owner ? ` --owner ${owner}` : ''}`;
    out.push('', `More: ${suggestion(`list${filters} --cursor ${page.nextCursor}`)}`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * Today's usage: one tenant's line, or a table of every tenant's for an admin key.
 * @param {import('./api.mjs').TenantUsage | { tenants: import('./api.mjs').TenantUsage[] }} data
 * @param {Styles} style
 */
export function formatUsage(data, style) {
  const all = 'tenants' in data ? data.tenants : [data];
  const first = all[0];
  const resets = first ? `Counts reset at ${new Date(first.resetsAt).toISOString().replace('.000Z', 'Z')} (midnight UTC).` : '';
  if (!('tenants' in data)) {
    const quota = data.quota === null ? 'no daily quota' : `quota ${data.quota}, ${data.remaining} left`;
    return `${style.bold(data.tenant)}  ${data.day}  ${data.creates} create${data.creates === 1 ? '' : 's'} today (${quota})\n${resets}\n`;
  }
  if (all.length === 0) return 'No tenants configured and no creates today.\n';
  const header = ['tenant', 'creates', 'quota', 'remaining'];
  const rows = all.map((usage) => [
    usage.tenant,
    String(usage.creates),
    usage.quota === null ? '-' : String(usage.quota),
    usage.remaining === null ? '-' : String(usage.remaining),
  ]);
  const widths = header.map((name, column) => Math.max(name.length, ...rows.map((row) => row[column].length)));
  /** @param {string[]} row */
  const line = (row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ');
  return `${[style.bold(line(header)), ...rows.map(line)].join('\n')}\n${first?.day} (UTC). ${resets}\n`;
}

/** @param {number} ms */
function localTime(ms) {
  const date = new Date(ms);
  const two = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** @param {string} text @param {number} width */
function truncate(text, width) {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
