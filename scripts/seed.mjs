// `npm run seed`: a small mix of tasks through the local gateway and its upstream simulator, so a
// first look at /admin shows something real: three successes, a failure, a lost callback that the
// poller recovers, a delivery to a client webhook that works and one to a webhook that keeps
// failing. Run it while `npm start` is running (GATEWAY_URL, SIM_URL and API_KEY override the
// local defaults). The e2e test of /admin makes the same mix with seedMix().

import { pathToFileURL } from 'node:url';

/**
 * @typedef {object} SeedOptions
 * @property {string} gatewayUrl
 * @property {string} simulatorUrl
 * @property {string} apiKey         A client key (API_KEYS) to create the tasks with.
 * @property {boolean} [wait]        Wait until every task is final and the failing webhook has failed once,
 *                                   firing the cron meanwhile (the poller recovers the lost callback only
 *                                   once the task is POLL_GRACE_SECONDS old).
 * @property {number} [waitMs]       How long to wait at most (default 60 s).
 * @property {(line: string) => void} [log]
 */

/** @typedef {{ label: string, taskId: string, expect: { status: string, resultSource: string, delivery: string | null } }} SeededTask */

/**
 * @param {SeedOptions} options
 * @returns {Promise<SeededTask[]>}
 */
export async function seedMix({ gatewayUrl, simulatorUrl, apiKey, wait = false, waitMs = 60_000, log = () => {} }) {
  const run = `seed-${Date.now().toString(36)}`;
  const simulator = (path, body) => postJson(`${simulatorUrl}${path}`, body);
  await simulator('/__sim/scripts', {
    match: `${run}-fail`,
    callback: 'fail',
    failCode: 400,
    failMsg: 'Lyrics generation failed: the prompt could not be turned into lyrics.',
  });
  await simulator('/__sim/scripts', { match: `${run}-lost`, callback: 'drop' });
  const refusing = `${simulatorUrl}/__sim/hooks/${run}-refusing`;
  await simulator(`/__sim/hooks/${run}-refusing/behaviour`, { thenStatus: 503 });
  const accepting = `${simulatorUrl}/__sim/hooks/${run}-accepting`;

  const plan = [
    { label: 'success', prompt: 'A song about the sea at night', expect: ok('callback') },
    { label: 'success', prompt: 'A song about a train crossing the plains', expect: ok('callback') },
    { label: 'success', prompt: 'A lullaby for a sleepy cat', expect: ok('callback') },
    {
      label: 'failure',
      prompt: `A song the upstream cannot write ${run}-fail`,
      expect: { status: 'GENERATE_LYRICS_FAILED', resultSource: 'callback', delivery: null },
    },
    { label: 'lost callback, recovered by the poller', prompt: `A song whose callback is lost ${run}-lost`, expect: ok('poll') },
    { label: 'delivered to a client webhook', prompt: 'A song for a webhook that answers', callBackUrl: accepting, expect: ok('callback', 'delivered') },
    { label: 'client webhook failing', prompt: 'A song for a webhook that is down', callBackUrl: refusing, expect: ok('callback', 'failing') },
  ];

  /** @type {SeededTask[]} */
  const tasks = [];
  for (const { label, prompt, callBackUrl, expect } of plan) {
    const body = { prompt: `${prompt} (${run})`, ...(callBackUrl ? { callBackUrl } : {}) };
    const created = await gatewayCall(gatewayUrl, apiKey, '/api/v1/lyrics', { method: 'POST', body: JSON.stringify(body) });
    if (created.status !== 200) throw new Error(`create (${label}) answered HTTP ${created.status}: ${created.body?.msg}`);
    tasks.push({ label, taskId: created.body.data.taskId, expect });
    log(`  ${created.body.data.taskId}  ${label}`);
  }
  if (wait) await waitUntilSettled(gatewayUrl, apiKey, tasks, waitMs);
  return tasks;
}

function ok(resultSource, delivery = null) {
  return { status: 'SUCCESS', resultSource, delivery };
}

/** Until each task has its expected end (a failing delivery: a failed attempt at least), firing the cron. */
async function waitUntilSettled(gatewayUrl, apiKey, tasks, waitMs) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const infos = await Promise.all(
      tasks.map((task) => gatewayCall(gatewayUrl, apiKey, `/api/v1/lyrics/record-info?taskId=${encodeURIComponent(task.taskId)}`)),
    );
    const unsettled = tasks.flatMap((task, index) => (settled(task, infos[index].body?.data) ? [] : [{ task, info: infos[index].body?.data }]));
    if (unsettled.length === 0) return;
    if (Date.now() > deadline) {
      const described = unsettled.map(
        ({ task, info }) => `${task.label} (${task.taskId}: ${info ? `${info.status} by ${info.resultSource}, delivery ${info.delivery?.state ?? 'none'}` : 'not found'})`,
      );
      throw new Error(`not settled within ${waitMs} ms: ${described.join(', ')}`);
    }
    // The deployed Cron Trigger's stand-in (wrangler dev --test-scheduled): polls what is due.
    await fetch(`${gatewayUrl}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent('* * * * *')}`).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function settled(task, info) {
  if (!info || info.status !== task.expect.status || info.resultSource !== task.expect.resultSource) return false;
  if (task.expect.delivery === 'delivered') return info.delivery?.state === 'delivered';
  if (task.expect.delivery === 'failing') return Boolean(info.delivery?.lastError);
  return true;
}

async function gatewayCall(gatewayUrl, apiKey, path, init = {}) {
  const response = await fetch(`${gatewayUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

async function postJson(url, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}: ${await response.text()}`);
  return response.json();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const gatewayUrl = process.env.GATEWAY_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  const simulatorUrl = process.env.SIM_URL ?? `http://127.0.0.1:${process.env.SIM_PORT ?? 8790}`;
  const { DEV_ADMIN_API_KEY, DEV_API_KEY } = await import('./local-stack.mjs');
  const apiKey = process.env.API_KEY ?? DEV_API_KEY;
  console.log(`Creating a small mix of tasks through ${gatewayUrl} (upstream simulator ${simulatorUrl}):`);
  try {
    await seedMix({ gatewayUrl, simulatorUrl, apiKey, log: (line) => console.log(line) });
  } catch (error) {
    console.error(`\nSeeding failed: ${error instanceof Error ? error.message : error}`);
    console.error('Is `npm start` running? (GATEWAY_URL, SIM_URL and API_KEY point elsewhere.)');
    process.exit(1);
  }
  console.log(`
Results arrive by callback in a few seconds. The lost callback is recovered by the poller once the
task is POLL_GRACE_SECONDS old (120 s by default; npm start fires the cron every minute), and the
failing webhook is retried on its schedule. Watch it all at ${gatewayUrl}/admin with the admin key ${DEV_ADMIN_API_KEY}.`);
}
