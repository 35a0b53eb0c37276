#!/usr/bin/env node
// Self-check of the simulator: `node simulator/selfcheck.mjs`, exits non-zero on failure.
//
// Starts a simulator on a free port plus a small HTTP receiver standing in for the gateway's
// callback endpoint, then runs the checks below concurrently (as the real tests do, each with
// its own prompt marker). Everything is on 127.0.0.1 and bounded in time.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { startSimulator } from './server.mjs';

const HMAC_KEY = 'selfcheck-hmac-key';
const API_KEY = 'selfcheck-api-key';
const CHECK_TIMEOUT_MS = 20_000;
const TOTAL_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// Callback receiver: /cb/<tag>?status=N&delay=MS answers N (default 200) after MS (default 0);
// &holdUntil=K holds every answer until K requests for the tag have arrived (at most 5 s), so
// only copies sent at once are all received before the first is answered.

/** @typedef {{ tag: string, headers: http.IncomingHttpHeaders, text: string, json: any, at: number, answeredAt?: number }} Received */

/** @type {Received[]} */
const received = [];
/** @type {Set<() => void>} */
const waiters = new Set();

const receiver = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  /** @type {Received} */
  const entry = { tag: url.pathname.replace(/^\/cb\//, ''), headers: req.headers, text, json, at: Date.now() };
  received.push(entry);
  for (const w of waiters) w();
  const delay = Number(url.searchParams.get('delay') ?? 0);
  if (delay) await sleep(delay);
  const holdUntil = Number(url.searchParams.get('holdUntil') ?? 0);
  if (holdUntil) await waitForCallbacks(entry.tag, holdUntil, 5000).catch(() => undefined);
  entry.answeredAt = Date.now();
  res.writeHead(Number(url.searchParams.get('status') ?? 200), { 'Content-Type': 'text/plain' });
  res.end('ok');
});

/** @param {string} tag */
const callbacksFor = (tag) => received.filter((r) => r.tag === tag);

/**
 * Wait until `tag` received at least n callbacks.
 * @param {string} tag @param {number} n @param {number} [timeoutMs]
 */
function waitForCallbacks(tag, n, timeoutMs = 8000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (callbacksFor(tag).length >= n) {
        waiters.delete(check);
        clearTimeout(timer);
        resolve(callbacksFor(tag));
      }
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`expected ${n} callbacks for ${tag}, got ${callbacksFor(tag).length}`));
    }, timeoutMs);
    waiters.add(check);
    check();
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wait until the receiver has answered each of these. @param {Received[]} entries */
async function waitForAnswers(entries) {
  for (let i = 0; entries.some((e) => e.answeredAt === undefined); i++) {
    assert.ok(i < 400, 'receiver answered');
    await sleep(25);
  }
}

/** @type {import('./server.mjs').Simulator} */
let sim;
let recvUrl = '';

/**
 * @param {string} method @param {string} path
 * @param {{ body?: unknown, raw?: string, auth?: string | null, signal?: AbortSignal }} [opts]
 */
async function call(method, path, { body, raw, auth = API_KEY, signal } = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (auth !== null) headers.Authorization = `Bearer ${auth}`;
  if (body !== undefined || raw !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(sim.url + path, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: signal ?? AbortSignal.timeout(CHECK_TIMEOUT_MS),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, contentType: res.headers.get('content-type') ?? '' };
}

/** Create a lyrics task whose callback goes to the receiver under `tag`. */
async function create(prompt, tag = 'unused', query = '') {
  return call('POST', '/api/v1/lyrics', { body: { prompt, callBackUrl: `${recvUrl}/cb/${tag}${query}` } });
}
/** @param {unknown} script */
async function script(script) {
  const r = await call('POST', '/__sim/scripts', { body: script });
  assert.equal(r.status, 200, `script registration failed: ${r.text}`);
}
/** @param {string} taskId */
const recordInfo = (taskId) => call('GET', `/api/v1/lyrics/record-info?taskId=${taskId}`);

/** Assert the signature headers of a callback verify against its body's task id. */
function assertSigned(headers, taskId) {
  const ts = headers['x-webhook-timestamp'];
  const sig = headers['x-webhook-signature'];
  assert.ok(typeof ts === 'string' && /^\d+$/.test(ts), 'timestamp header');
  assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 30, 'timestamp is now (unix seconds)');
  const expected = createHmac('sha256', HMAC_KEY).update(`${taskId}.${ts}`).digest();
  const got = Buffer.from(String(sig), 'base64');
  assert.ok(got.length === expected.length && timingSafeEqual(got, expected), 'signature verifies');
}

/** Assert a lyrics text looks like the provider's: section markers, 4 lines each. @param {string} text */
function assertLyricText(text) {
  assert.match(text, /^\[Verse\]\n/);
  for (const marker of ['[Chorus]', '[Verse 2]', '[Bridge]', '[Outro]']) assert.ok(text.includes(`${marker}\n`), marker);
  for (const section of text.split('\n\n')) assert.equal(section.split('\n').length, 5, `4 lines in ${section}`);
}

// ---------------------------------------------------------------------------------------------
// Checks (each uses its own marker so they can run at the same time against one simulator)

/** @type {Array<[string, () => Promise<void>]>} */
const checks = [
  ['bad auth', async () => {
    for (const auth of [null, '', 'wrong-key']) {
      const r = await call('POST', '/api/v1/lyrics', { body: { prompt: 'auth-check x', callBackUrl: `${recvUrl}/cb/unused` }, auth });
      assert.equal(r.status, 200);
      assert.equal(r.json.code, 401, `auth ${auth}`);
      const q = await call('GET', '/api/v1/lyrics/record-info?taskId=abc', { auth });
      assert.equal(q.json.code, 401);
    }
    assert.equal((await call('GET', '/__sim/tasks?match=auth-check')).json.tasks.length, 0);
  }],

  ['create validation', async () => {
    const bad = [
      [{ raw: '{not json' }, 400],
      [{ body: { callBackUrl: `${recvUrl}/cb/unused` } }, 400],
      [{ body: { prompt: '   ', callBackUrl: `${recvUrl}/cb/unused` } }, 400],
      [{ body: { prompt: 'valid-x' } }, 400],
      [{ body: { prompt: 'valid-x', callBackUrl: 'ftp://127.0.0.1/x' } }, 400],
      [{ body: { prompt: 'valid-x', callBackUrl: 'not a url' } }, 400],
      [{ body: { prompt: `valid-x ${'word '.repeat(200)}`, callBackUrl: `${recvUrl}/cb/unused` } }, 413],
    ];
    for (const [opts, code] of bad) {
      const r = await call('POST', '/api/v1/lyrics', opts);
      assert.equal(r.status, 200);
      assert.equal(r.json.code, code, JSON.stringify(opts).slice(0, 80));
    }
    // Exactly 200 words is fine.
    const ok = await call('POST', '/api/v1/lyrics', { body: { prompt: `valid-x ${'word '.repeat(199)}`, callBackUrl: `${recvUrl}/cb/unused` } });
    assert.equal(ok.json.code, 200);
    assert.match(ok.json.data.taskId, /^[0-9a-f]{32}$/);
  }],

  ['create -> signed callback; record-info PENDING then SUCCESS', async () => {
    const prompt = 'happy-path A nostalgic song about childhood memories in a small town';
    await script({ match: 'happy-path', callbackDelayMs: 400 });
    const r = await create(prompt, 'happy');
    assert.deepEqual(Object.keys(r.json), ['code', 'msg', 'data']);
    assert.equal(r.json.code, 200);
    assert.equal(r.json.msg, 'success');
    const taskId = r.json.data.taskId;
    assert.match(taskId, /^[0-9a-f]{32}$/);

    const pending = await recordInfo(taskId);
    assert.equal(pending.json.code, 200);
    assert.equal(pending.json.data.status, 'PENDING');
    assert.equal(pending.json.data.response, null);

    const [cb] = await waitForCallbacks('happy', 1);
    assert.match(String(cb.headers['content-type']), /^application\/json/);
    assertSigned(cb.headers, taskId);
    assert.equal(cb.json.code, 200);
    assert.equal(cb.json.msg, 'All generated successfully.');
    assert.equal(cb.json.data.callbackType, 'complete');
    assert.equal(cb.json.data.task_id, taskId);
    const items = cb.json.data.data;
    assert.ok(items.length >= 2 && items.length <= 3, '2-3 variations');
    for (const item of items) {
      assert.deepEqual(Object.keys(item).sort(), ['error_message', 'status', 'text', 'title']);
      assert.equal(item.status, 'complete');
      assert.equal(item.error_message, '');
      assert.ok(item.title.length > 0);
      assertLyricText(item.text);
    }

    const done = await recordInfo(taskId);
    const d = done.json.data;
    assert.equal(d.status, 'SUCCESS');
    assert.equal(d.type, 'LYRICS');
    assert.equal(d.taskId, taskId);
    assert.equal(d.errorCode, null);
    assert.equal(d.errorMessage, null);
    assert.deepEqual(JSON.parse(d.param), { prompt });
    assert.equal(d.response.taskId, taskId);
    assert.deepEqual(
      d.response.data,
      items.map((i) => ({ text: i.text, title: i.title, status: 'complete', errorMessage: '' })),
    );

    const task = (await call('GET', `/__sim/tasks/${taskId}`)).json;
    assert.equal(task.recordInfoRequests, 2);
    assert.equal(task.callbackAttempts.length, 1);
    assert.equal(task.callbackAttempts[0].status, 200);
    assert.equal(task.prompt, prompt);
    assert.ok(task.readyAt - task.createdAt >= 400);
  }],

  ['lyrics are deterministic per prompt', async () => {
    const a = await create('determinism-1 rainy harbor blues');
    const b = await create('determinism-1 rainy harbor blues');
    const c = await create('determinism-1 desert highway anthem');
    const lyrics = async (/** @type {any} */ r) => (await call('GET', `/__sim/tasks/${r.json.data.taskId}`)).json.lyrics;
    assert.deepEqual(await lyrics(a), await lyrics(b));
    assert.notDeepEqual(await lyrics(a), await lyrics(c));
  }],

  ['sequential duplicates', async () => {
    await script({ match: 'dup-seq', duplicates: 3, callbackDelayMs: 50 });
    const r = await create('dup-seq song', 'dupseq', '?delay=150');
    const cbs = await waitForCallbacks('dupseq', 3);
    // Each try is recorded once answered; after the third copy's there is no further copy to send.
    const taskId = r.json.data.taskId;
    for (let i = 0; (await call('GET', `/__sim/tasks/${taskId}`)).json.callbackAttempts.length < 3; i++) {
      assert.ok(i < 200, 'third attempt recorded');
      await sleep(25);
    }
    assert.equal(callbacksFor('dupseq').length, 3);
    for (const cb of cbs) assertSigned(cb.headers, r.json.data.taskId);
    // One after another: each copy is sent after the previous one was answered.
    for (let i = 1; i < cbs.length; i++) assert.ok(cbs[i].at >= /** @type {number} */ (cbs[i - 1].answeredAt), 'sequential');
  }],

  ['concurrent duplicates', async () => {
    await script({ match: 'dup-conc', duplicates: 3, concurrent: true, callbackDelayMs: 50 });
    await create('dup-conc song', 'dupconc', '?holdUntil=3');
    const cbs = await waitForCallbacks('dupconc', 3);
    // All three arrived while none was answered yet: sent at once, not one after another (which
    // would hold the first answer until the receiver gave up waiting for the others).
    const lastArrival = Math.max(...cbs.map((c) => c.at));
    await waitForAnswers(cbs);
    for (const cb of cbs) assert.ok(/** @type {number} */ (cb.answeredAt) >= lastArrival, 'copies arrive together');
    assert.ok(cbs.every((cb) => /** @type {number} */ (cb.answeredAt) - lastArrival < 4000), 'no copy waited for the receiver to give up');
    assert.equal(new Set(cbs.map((c) => c.text)).size, 1, 'same body (same second)');
  }],

  ['drop: no callback, record-info still completes', async () => {
    await script({ match: 'drop-cb', callback: 'drop', callbackDelayMs: 100 });
    const r = await create('drop-cb song', 'drop');
    await sleep(600);
    assert.equal(callbacksFor('drop').length, 0);
    assert.equal((await recordInfo(r.json.data.taskId)).json.data.status, 'SUCCESS');
  }],

  ['fail callback + matching record-info', async () => {
    await script({ match: 'fail-cb', callback: 'fail', failCode: 531, failMsg: 'credits refunded', callbackDelayMs: 50 });
    const r = await create('fail-cb song', 'fail');
    const taskId = r.json.data.taskId;
    const [cb] = await waitForCallbacks('fail', 1);
    assertSigned(cb.headers, taskId);
    assert.deepEqual(cb.json, { code: 531, msg: 'credits refunded', data: { callbackType: 'complete', task_id: taskId, data: null } });
    const d = (await recordInfo(taskId)).json.data;
    assert.equal(d.status, 'GENERATE_LYRICS_FAILED');
    assert.equal(d.errorCode, 531);
    assert.equal(d.errorMessage, 'credits refunded');
  }],

  ['variants camel and error-type', async () => {
    await script({ match: 'var-camel', variant: 'camel', callbackDelayMs: 50 });
    await script({ match: 'var-errtype', variant: 'error-type', callbackDelayMs: 50 });
    const camel = await create('var-camel song', 'camel');
    const errType = await create('var-errtype song', 'errtype');
    const [c] = await waitForCallbacks('camel', 1);
    assert.equal(c.json.data.taskId, camel.json.data.taskId);
    assert.equal(c.json.data.task_id, undefined);
    assert.deepEqual(Object.keys(c.json.data.data[0]).sort(), ['errorMessage', 'status', 'text', 'title']);
    assertSigned(c.headers, camel.json.data.taskId);
    const [e] = await waitForCallbacks('errtype', 1);
    assert.equal(e.json.code, 400);
    assert.equal(e.json.data.callbackType, 'error');
    assert.equal(e.json.data.task_id, errType.json.data.taskId);
    assert.equal(e.json.data.data, null);
  }],

  ['retries: 3 tries ~1 s apart on non-2xx, then stop', async () => {
    await script({ match: 'retry-500', callbackDelayMs: 0 });
    const r = await create('retry-500 song', 'retry', '?status=500');
    const cbs = await waitForCallbacks('retry', 3);
    await sleep(1500);
    assert.equal(callbacksFor('retry').length, 3, 'stops after 3 tries');
    for (let i = 1; i < 3; i++) assert.ok(cbs[i].at - cbs[i - 1].at >= 900, 'pause between tries');
    // Each try is signed with its own fresh timestamp and still verifies.
    for (const cb of cbs) assertSigned(cb.headers, r.json.data.taskId);
    const task = (await call('GET', `/__sim/tasks/${r.json.data.taskId}`)).json;
    assert.deepEqual(task.callbackAttempts.map((/** @type {any} */ a) => a.status), [500, 500, 500]);
  }],

  ['early callback arrives (and is answered) before the create answer', async () => {
    await script({ match: 'early-cb', callbackBeforeCreateResponse: true });
    const started = Date.now();
    const r = await create('early-cb song', 'early', '?delay=300');
    const answeredAt = Date.now();
    const [cb] = callbacksFor('early');
    assert.ok(cb, 'callback already received when create answered');
    assert.equal(cb.json.data.task_id, r.json.data.taskId);
    assert.ok(cb.at >= started && /** @type {number} */ (cb.answeredAt) <= answeredAt, 'callback answered before create answer');
    assert.equal((await recordInfo(r.json.data.taskId)).json.data.status, 'SUCCESS');
  }],

  ['hang keeps the create unanswered', async () => {
    await script({ match: 'hang-create', hang: true });
    const controller = new AbortController();
    const pending = call('POST', '/api/v1/lyrics', {
      body: { prompt: 'hang-create song', callBackUrl: `${recvUrl}/cb/hang` },
      signal: controller.signal,
    }).then(() => 'answered', (err) => `aborted:${err.name}`);
    const first = await Promise.race([pending, sleep(2100).then(() => 'still-waiting')]);
    assert.equal(first, 'still-waiting');
    controller.abort();
    assert.match(await pending, /^aborted:/);
    assert.equal((await call('GET', '/__sim/tasks?match=hang-create')).json.tasks.length, 0, 'no task');
  }],

  ['createBody / createStatus / createRaw / createDelayMs', async () => {
    await script({ match: 'cb-455', createBody: { code: 455, msg: 'maintenance' } });
    await script({ match: 'cs-429', createStatus: 429 });
    await script({ match: 'cr-503', createStatus: 503, createRaw: '<html><body>Bad gateway</body></html>' });
    await script({ match: 'cd-500ms', createDelayMs: 500, callbackDelayMs: 60_000 });
    const maint = await create('cb-455 song');
    assert.equal(maint.status, 200);
    assert.deepEqual(maint.json, { code: 455, msg: 'maintenance' });
    const limited = await create('cs-429 song');
    assert.equal(limited.status, 429);
    const html = await create('cr-503 song');
    assert.equal(html.status, 503);
    assert.equal(html.json, undefined, 'unparseable');
    assert.match(html.contentType, /text\/html/);
    for (const m of ['cb-455', 'cs-429', 'cr-503']) {
      assert.equal((await call('GET', `/__sim/tasks?match=${m}`)).json.tasks.length, 0, `no task for ${m}`);
    }
    const t0 = Date.now();
    let answered = false;
    const late = create('cd-500ms song').then((r) => ((answered = true), r));
    let during = [];
    for (let i = 0; during.length === 0 && !answered; i++) {
      assert.ok(i < 400, 'the create reached the simulator');
      await sleep(10);
      during = (await call('GET', '/__sim/tasks?match=cd-500ms')).json.tasks;
    }
    assert.equal(during.length, 1, 'task exists during the delay');
    const r = await late;
    assert.ok(Date.now() - t0 >= 480, 'answer delayed');
    assert.equal(r.json.data.taskId, during[0].taskId);
  }],

  ['createGate / callbackGate hold until the gate opens', async () => {
    await script({ match: 'gated', createGate: 'selfcheck-create', callbackGate: 'selfcheck-callback', callbackDelayMs: 0 });
    let answered = false;
    const held = create('gated song', 'gated').then((r) => ((answered = true), r));
    for (let i = 0; (await call('GET', '/__sim/gates/selfcheck-create')).json.waiting < 1; i++) {
      assert.ok(i < 400, 'the create reached its gate');
      await sleep(10);
    }
    const [task] = (await call('GET', '/__sim/tasks?match=gated')).json.tasks;
    assert.ok(task, 'the task exists while its answer is held');
    assert.equal(answered, false, 'no answer before the gate opens');
    const opened = await call('POST', '/__sim/gates/selfcheck-create/open');
    assert.equal(opened.json.released, 1);
    assert.equal((await held).json.data.taskId, task.taskId);
    for (let i = 0; (await call('GET', '/__sim/gates/selfcheck-callback')).json.waiting < 1; i++) {
      assert.ok(i < 400, 'the callback reached its gate');
      await sleep(10);
    }
    assert.equal(callbacksFor('gated').length, 0, 'no callback before its gate opens');
    await call('POST', '/__sim/gates/selfcheck-callback/open');
    const [cb] = await waitForCallbacks('gated', 1);
    assert.equal(cb.json.data.task_id, task.taskId);
    assert.equal((await call('POST', '/__sim/scripts', { body: { match: 'x', createGate: 'no spaces' } })).status, 400);
  }],

  ['record-info scripts', async () => {
    await script({ match: 'rs-pending', recordStatus: 'PENDING', callback: 'drop' });
    await script({ match: 'rs-sensitive', recordStatus: 'SENSITIVE_WORD_ERROR', callback: 'drop' });
    await script({ match: 'rs-lyricsdata', itemsKey: 'lyricsData', callback: 'drop', callbackDelayMs: 0 });
    await script({ match: 'rs-http500', recordHttpStatus: 500, callback: 'drop' });
    await script({ match: 'rs-body', recordBody: 'not json at all', callback: 'drop' });
    const id = async (/** @type {string} */ p) => (await create(p)).json.data.taskId;

    const pendingId = await id('rs-pending song');
    await call('POST', `/__sim/tasks/${pendingId}/ready`);
    assert.equal((await recordInfo(pendingId)).json.data.status, 'PENDING');

    const sensitive = (await recordInfo(await id('rs-sensitive song'))).json.data;
    assert.equal(sensitive.status, 'SENSITIVE_WORD_ERROR');
    assert.equal(sensitive.errorCode, 400);
    assert.equal(typeof sensitive.errorMessage, 'string');

    const ld = (await recordInfo(await id('rs-lyricsdata song'))).json.data;
    assert.equal(ld.status, 'SUCCESS');
    assert.ok(Array.isArray(ld.response.lyricsData) && ld.response.data === undefined);

    assert.equal((await recordInfo(await id('rs-http500 song'))).status, 500);
    const raw = await recordInfo(await id('rs-body song'));
    assert.equal(raw.text, 'not json at all');

  }],

  ['record-info delay: the answer comes late, an outage too', async () => {
    await script({ match: 'rd-slow', recordDelayMs: 400, callback: 'drop', callbackDelayMs: 0 });
    await script({ match: 'rd-outage', recordDelayMs: 400, recordHttpStatus: 503, callback: 'drop' });
    const slowId = (await create('rd-slow song')).json.data.taskId;
    const outageId = (await create('rd-outage song')).json.data.taskId;
    const t0 = Date.now();
    const [slow, outage] = await Promise.all([recordInfo(slowId), recordInfo(outageId)]);
    assert.ok(Date.now() - t0 >= 380, 'both answers delayed');
    assert.ok(Date.now() - t0 < 2000, 'delayed in parallel, not one after another');
    assert.equal(slow.json.data.status, 'SUCCESS');
    assert.equal(outage.status, 503);
  }],

  ['record-info hang is unanswered', async () => {
    await script({ match: 'rh-hang', recordHang: true, callback: 'drop' });
    const taskId = (await create('rh-hang song')).json.data.taskId;
    const res = await call('GET', `/api/v1/lyrics/record-info?taskId=${taskId}`, { signal: AbortSignal.timeout(700) }).then(
      () => 'answered',
      () => 'gave up',
    );
    assert.equal(res, 'gave up');
    assert.equal((await call('GET', `/__sim/tasks/${taskId}`)).json.recordInfoRequests, 1);
  }],

  ['an outage fails record-info while it lasts, then the task answers again', async () => {
    await script({ match: 'ro-outage', callback: 'drop', callbackDelayMs: 0 });
    const taskId = (await create('ro-outage song')).json.data.taskId;
    const start = await call('POST', '/__sim/outages', { body: { match: 'ro-outage', recordInfo: 503 } });
    assert.equal(start.status, 200, start.text);
    const during = await recordInfo(taskId);
    assert.deepEqual([during.status, during.json.code], [503, 503]);
    await call('POST', '/__sim/outages', { body: { match: 'ro-outage', recordInfo: 429 } });
    assert.equal((await recordInfo(taskId)).status, 429, 'a second outage with the same match replaces the first');
    await call('POST', '/__sim/outages', { body: { match: 'ro-outage', recordInfo: 'hang' } });
    const hung = await call('GET', `/api/v1/lyrics/record-info?taskId=${taskId}`, { signal: AbortSignal.timeout(500) }).then(
      () => 'answered',
      () => 'gave up',
    );
    assert.equal(hung, 'gave up');
    assert.equal((await call('POST', '/__sim/outages', { body: { match: 'ro-outage', recordInfo: 200 } })).status, 400);
    assert.equal((await call('POST', '/__sim/outages', { body: { match: 'ro-outage', recordHttp: 503 } })).status, 400);
    assert.equal((await call('DELETE', '/__sim/outages?match=ro-outage')).json.removed, 1);
    const after = await recordInfo(taskId);
    assert.equal(after.json.data.status, 'SUCCESS');
    // Counted per task id prefix too, for ids the simulator never made (no prompt to match).
    await recordInfo('fadedfaded'.padEnd(32, '0'));
    assert.equal((await call('GET', '/__sim/stats?taskIdPrefix=fadedfaded')).json.recordInfo, 1);
  }],

  ['record-info unknown / missing task', async () => {
    const unknown = await recordInfo('0'.repeat(32));
    assert.equal(unknown.status, 200);
    assert.deepEqual([unknown.json.code, unknown.json.data], [404, null]);
    assert.equal((await call('GET', '/api/v1/lyrics/record-info')).json.code, 422);
  }],

  ['stats count creates and record-info per marker', async () => {
    await script({ match: 'stats-mk', callback: 'drop' });
    const a = await create('stats-mk one');
    await create('stats-mk two');
    await create('stats-mk three');
    // Rejected (no auth), but it still reached the upstream: counted.
    await call('POST', '/api/v1/lyrics', { body: { prompt: 'stats-mk four', callBackUrl: 'x' }, auth: null });
    for (let i = 0; i < 3; i++) await recordInfo(a.json.data.taskId);
    const s = (await call('GET', '/__sim/stats?match=stats-mk')).json;
    assert.equal(s.creates, 4, 'every create request counts, rejected ones too');
    assert.equal(s.recordInfo, 3);
    assert.equal(s.tasks, 3);
    assert.equal(s.callbackAttempts, 0);
    assert.deepEqual((await call('GET', '/__sim/stats?match=no-such-marker-zz')).json, { creates: 0, recordInfo: 0, tasks: 0, callbackAttempts: 0 });
  }],

  ['control: callback request, manual send, ready, errors', async () => {
    await script({ match: 'ctl-mk', callback: 'drop', callbackDelayMs: 60_000 });
    const taskId = (await create('ctl-mk song', 'ctl')).json.data.taskId;

    const reqJson = (await call('GET', `/__sim/tasks/${taskId}/callback`)).json;
    assert.equal(reqJson.url, `${recvUrl}/cb/ctl`);
    assert.equal(typeof reqJson.body, 'string');
    assert.equal(JSON.parse(reqJson.body).data.task_id, taskId);
    assertSigned(Object.fromEntries(Object.entries(reqJson.headers).map(([k, v]) => [k.toLowerCase(), v])), taskId);
    // A test can deliver it itself.
    const own = await fetch(reqJson.url, { method: 'POST', headers: reqJson.headers, body: reqJson.body });
    assert.equal(own.status, 200);

    const failReq = JSON.parse((await call('GET', `/__sim/tasks/${taskId}/callback?fail=1&variant=camel`)).json.body);
    assert.deepEqual(failReq.data, { callbackType: 'complete', taskId, data: null });
    assert.equal(failReq.code, 400);

    const sent = (await call('POST', `/__sim/tasks/${taskId}/callback`, { body: { times: 2, concurrent: true } })).json;
    assert.deepEqual(sent.statuses, [200, 200]);
    assert.equal(callbacksFor('ctl').length, 3);

    assert.equal((await recordInfo(taskId)).json.data.status, 'PENDING');
    assert.equal((await call('POST', `/__sim/tasks/${taskId}/ready`)).status, 200);
    assert.equal((await recordInfo(taskId)).json.data.status, 'SUCCESS');

    assert.equal((await call('GET', '/__sim/tasks/ffffffffffffffffffffffffffffffff')).status, 404);
    assert.equal((await call('GET', '/__sim/nope')).status, 404);
    assert.equal((await call('GET', '/api/v2/whatever')).status, 404);
    const typo = await call('POST', '/__sim/scripts', { body: { match: 'x', callbak: 'drop' } });
    assert.equal(typo.status, 400);
    assert.match(typo.json.error, /callbak/);
    assert.equal((await call('POST', '/__sim/scripts', { body: { callback: 'drop' } })).status, 400);
  }],

  ['CLI starts, prints its URL, exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./server.mjs', import.meta.url))], {
      env: { ...process.env, SIM_PORT: '0', SIM_CALLBACK_DELAY_MS: '100' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 5000);
        child.stdout.on('data', (d) => {
          out += d;
          const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[0]);
          }
        });
      });
      const r = await fetch(`${url}/__sim/health`);
      assert.equal(r.status, 200);
      const code = await new Promise((resolve) => {
        child.once('exit', (c) => resolve(c));
        child.kill('SIGTERM');
      });
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }],
];

// Run after the concurrent checks: they affect the whole simulator.
/** @type {Array<[string, () => Promise<void>]>} */
const finalChecks = [
  ['reset forgets everything', async () => {
    await call('POST', '/__sim/reset');
    assert.deepEqual((await call('GET', '/__sim/stats')).json, { creates: 0, recordInfo: 0, tasks: 0, callbackAttempts: 0 });
    assert.equal((await call('GET', '/__sim/scripts')).json.scripts.length, 0);
    assert.equal((await call('GET', '/__sim/tasks')).json.tasks.length, 0);
  }],
  ['close() is prompt with a hanging request and pending callbacks', async () => {
    await script({ match: 'close-hang', hang: true });
    await script({ match: 'close-later', callbackDelayMs: 500 });
    await create('close-later song', 'closelater');
    const hanging = call('POST', '/api/v1/lyrics', { body: { prompt: 'close-hang song', callBackUrl: `${recvUrl}/cb/x` } }).then(
      () => 'answered',
      () => 'dropped',
    );
    await sleep(100);
    const t0 = Date.now();
    await sim.close();
    assert.ok(Date.now() - t0 < 2000, 'close took too long');
    assert.equal(await hanging, 'dropped');
    await sleep(700);
    assert.equal(callbacksFor('closelater').length, 0, 'no callback after close');
  }],
];

// ---------------------------------------------------------------------------------------------

/** @param {string} name @param {() => Promise<void>} fn */
async function run(name, fn) {
  const t0 = Date.now();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('check timed out')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([fn(), timeout]);
    return { name, ok: true, ms: Date.now() - t0 };
  } catch (err) {
    return { name, ok: false, ms: Date.now() - t0, err };
  } finally {
    clearTimeout(timer);
  }
}

async function main() {
  const overall = setTimeout(() => {
    console.error(`selfcheck: gave up after ${TOTAL_TIMEOUT_MS} ms`);
    process.exit(2);
  }, TOTAL_TIMEOUT_MS);
  overall.unref();

  await new Promise((r) => receiver.listen(0, '127.0.0.1', () => r(undefined)));
  recvUrl = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (receiver.address()).port}`;
  sim = await startSimulator({ hmacKey: HMAC_KEY, apiKey: API_KEY, callbackDelayMs: 300 });

  const results = await Promise.all(checks.map(([name, fn]) => run(name, fn)));
  for (const [name, fn] of finalChecks) results.push(await run(name, fn));

  for (const r of results) {
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.ms} ms)`);
    if (!r.ok) console.log(`     ${String(r.err?.stack ?? r.err).split('\n').slice(0, 6).join('\n     ')}`);
  }
  await sim.close();
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(() => r(undefined)));
  const failed = results.filter((r) => !r.ok).length;
  console.log(`selfcheck: ${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
