// Small request/response helpers used by both the provider and the control handlers.

/** Bodies above this are refused; nothing legitimate sent to the simulator comes close. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Read the whole request body as UTF-8 text; null when it is larger than MAX_BODY_BYTES.
 * @param {import('node:http').IncomingMessage} req
 * @returns {Promise<string | null>}
 */
export async function readBody(req) {
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Parse JSON without throwing.
 * @param {string | null} text
 * @returns {{ ok: true, value: unknown } | { ok: false }}
 */
export function parseJson(text) {
  if (text === null) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {unknown} value
 */
export function sendJson(res, status, value) {
  sendText(res, status, JSON.stringify(value), 'application/json');
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {string} text
 * @param {string} contentType
 */
export function sendText(res, status, text, contentType) {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, { 'Content-Type': `${contentType}; charset=utf-8`, 'Content-Length': body.length });
  res.end(body);
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
export const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
