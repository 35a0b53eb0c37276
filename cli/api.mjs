// @ts-check
// The gateway's HTTP API: one call per route, each answering the envelope's `data` or throwing
// GatewayError (the gateway said no) or UnreachableError (no answer at all).

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * @typedef {{ code: number, msg: string, data: any }} Envelope
 * @typedef {{ text: string, title: string, status: string, errorMessage: string }} LyricsItem
 * @typedef {{ taskId: string, param: string, status: string, response: { data: LyricsItem[] } | null,
 *   errorCode: number | null, errorMessage: string | null, createTime?: number, completeTime?: number | null,
 *   owner?: string | null }} Task
 * @typedef {{ tenant: string, day: string, creates: number, quota: number | null, remaining: number | null,
 *   resetsAt: number }} TenantUsage
 * @typedef {{ envelope: Envelope, data: any }} Answer
 */

/** The gateway answered, but not with success: `msg` is its own explanation. */
export class GatewayError extends Error {
  /**
   * @param {number} status  HTTP status
   * @param {number} code    the envelope's code (the upstream's where it gave one)
   * @param {string} msg
   * @param {Envelope | undefined} envelope  the body, when it was an envelope
   * @param {number | undefined} retryAfterSeconds
   */
  constructor(status, code, msg, envelope, retryAfterSeconds) {
    super(msg);
    this.status = status;
    this.code = code;
    this.envelope = envelope;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** No HTTP answer: refused, unresolvable, reset, or silent past the request timeout. */
export class UnreachableError extends Error {
  /**
   * @param {string} url
   * @param {string} reason
   * @param {boolean} lasting  nothing is listening or the address is wrong: asking again in a second
   *   will not help (and the gateway never saw the request)
   */
  constructor(url, reason, lasting) {
    super(`Cannot reach the gateway at ${url}: ${reason}`);
    this.url = url;
    this.reason = reason;
    this.lasting = lasting;
  }
}

/**
 * @param {{ url: string, key: string, fetch?: typeof fetch, requestTimeoutMs?: number }} options
 */
export function gatewayClient({ url, key, fetch: fetchImpl = globalThis.fetch, requestTimeoutMs = REQUEST_TIMEOUT_MS }) {
  /**
   * @param {string} method
   * @param {string} path
   * @param {{ body?: unknown, headers?: Record<string, string> }} [init]
   * @returns {Promise<Answer>}
   */
  async function call(method, path, init = {}) {
    /** @type {Record<string, string>} */
    const headers = { authorization: `Bearer ${key}`, accept: 'application/json', ...init.headers };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let response;
    let text;
    try {
      response = await fetchImpl(`${url}${path}`, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw unreachable(url, error, requestTimeoutMs);
    }
    const envelope = parseEnvelope(text);
    if (response.ok && envelope?.code === 200) return { envelope, data: envelope.data };
    const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
    if (envelope) throw new GatewayError(response.status, envelope.code, envelope.msg, envelope, retryAfter);
    // Something other than the gateway answered (a proxy, another server on the port).
    const snippet = text.trim().slice(0, 120).replace(/\s+/g, ' ');
    throw new GatewayError(
      response.status,
      response.status,
      `HTTP ${response.status} without the gateway's JSON envelope${snippet ? `: ${snippet}` : ''}. Is ${url} a lyrics-gateway?`,
      undefined,
      retryAfter,
    );
  }

  return {
    url,
    /**
     * @param {{ prompt: string, callBackUrl?: string }} body
     * @param {string} idempotencyKey
     */
    createTask: (body, idempotencyKey) =>
      call('POST', '/api/v1/lyrics', { body, headers: { 'idempotency-key': idempotencyKey } }),
    /** @param {string} taskId */
    getTask: (taskId) => call('GET', `/api/v1/lyrics/record-info?taskId=${encodeURIComponent(taskId)}`),
    /** @param {{ status?: string, limit?: number, cursor?: string, owner?: string }} query */
    listTasks: (query) => {
      const search = new URLSearchParams();
      if (query.status) search.set('status', query.status);
      if (query.limit !== undefined) search.set('limit', String(query.limit));
      if (query.cursor) search.set('cursor', query.cursor);
      if (query.owner) search.set('owner', query.owner);
      const suffix = search.size > 0 ? `?${search}` : '';
      return call('GET', `/api/v1/lyrics/tasks${suffix}`);
    },
    /** @param {string} taskId */
    deleteTask: (taskId) => call('DELETE', `/api/v1/lyrics/tasks/${encodeURIComponent(taskId)}`),
    /** Today's creates and quota: the key's tenant, or `{ tenants: [...] }` for an admin key. */
    usage: () => call('GET', '/api/v1/usage'),
  };
}

/** @typedef {ReturnType<typeof gatewayClient>} GatewayClient */

/** @param {string} text @returns {Envelope | undefined} */
function parseEnvelope(text) {
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && typeof value.code === 'number' && typeof value.msg === 'string') return value;
  } catch {
    // not JSON
  }
  return undefined;
}

/**
 * Retry-After is either seconds or an HTTP date.
 * @param {string | null} value
 */
export function retryAfterSeconds(value, now = Date.now()) {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * @param {string} url
 * @param {unknown} error
 * @param {number} timeoutMs
 */
function unreachable(url, error, timeoutMs) {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new UnreachableError(url, `no answer within ${Math.round(timeoutMs / 1000)} s`, false);
  }
  // fetch reports the socket's error as its cause: ECONNREFUSED, ENOTFOUND, ECONNRESET, "bad port", …
  const cause = error instanceof Error ? /** @type {{ code?: string, message?: string } | undefined} */ (error.cause) : undefined;
  const code = cause?.code ?? '';
  if (code === 'ECONNREFUSED') return new UnreachableError(url, 'connection refused (nothing is listening there)', true);
  if (code === 'ENOTFOUND') return new UnreachableError(url, 'the host name does not resolve', true);
  if (cause?.message === 'bad port') return new UnreachableError(url, 'fetch refuses that port', true);
  return new UnreachableError(url, cause?.message || (error instanceof Error ? error.message : String(error)), false);
}
