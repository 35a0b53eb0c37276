// `npm start`: the gateway on http://127.0.0.1:8787 against the local upstream simulator, with the
// cron fired every minute as the deployed Cron Trigger would. Ctrl-C stops everything, and so does
// any other way of stopping it (scripts/process-group.mjs): nothing is left running.

import { DEV_ADMIN_API_KEY, DEV_API_KEY, startLocalStack } from './local-stack.mjs';

const port = Number(process.env.PORT ?? 8787);
const simulatorPort = Number(process.env.SIM_PORT ?? 8790);
// wrangler's debugger port (9229 unless set; 0: any free port).
const inspectorPort = process.env.INSPECTOR_PORT ? Number(process.env.INSPECTOR_PORT) : undefined;

// The gateway's request and event lines are shown by default; VERBOSE=1 shows everything.
const verbose = process.env.VERBOSE === '1';
// Local D1 and objects live in .wrangler/state unless PERSIST_TO names another folder.
const persistTo = process.env.PERSIST_TO || undefined;
const stack = await startLocalStack({ port, simulatorPort, inspectorPort, persistTo, log: verbose, gatewayLog: !verbose }).catch((error) => {
  console.error(`Could not start the local gateway: ${error.message}`);
  console.error(`(Is something else on port ${port} or ${simulatorPort}? Set PORT / SIM_PORT to move them, INSPECTOR_PORT for the debugger's 9229.)`);
  process.exit(1);
});

const cronTimer = setInterval(async () => {
  try {
    await stack.fireCron();
  } catch (error) {
    console.error(`cron tick failed: ${error instanceof Error ? error.message : error}`);
  }
}, 60_000);

console.log(`
lyrics-gateway is running at ${stack.url}
  upstream simulator: ${stack.simulatorUrl}   (lyrics arrive by callback after ~3 s)
  API key:            ${DEV_API_KEY}   (tenant "dev")
  admin API key:      ${DEV_ADMIN_API_KEY}   (every tenant's tasks and usage)
  API reference:      ${stack.url}/docs   (read it, authorize with the key, try calls)
  operator's view:    ${stack.url}/admin   (enter the admin API key ${DEV_ADMIN_API_KEY})
  cron:               fired every minute (tasks pending over POLL_GRACE_SECONDS are polled)
  logs:               the gateway's JSON lines (one per request and task event) appear below;
                      VERBOSE=1 npm start shows wrangler's and the simulator's output as well

Create a task:
  curl -s -X POST ${stack.url}/api/v1/lyrics -H 'Authorization: Bearer ${DEV_API_KEY}' -H 'Content-Type: application/json' -d '{"prompt":"A song about the sea at night"}'

Fetch it (put the taskId from the answer in place of TASK_ID):
  curl -s '${stack.url}/api/v1/lyrics/record-info?taskId=TASK_ID' -H 'Authorization: Bearer ${DEV_API_KEY}'

Both at once:
  TASK_ID=$(curl -s -X POST ${stack.url}/api/v1/lyrics -H 'Authorization: Bearer ${DEV_API_KEY}' -H 'Content-Type: application/json' -d '{"prompt":"A song about the sea at night"}' | sed -E 's/.*"taskId":"([^"]+)".*/\\1/'); sleep 4; curl -s "${stack.url}/api/v1/lyrics/record-info?taskId=$TASK_ID" -H 'Authorization: Bearer ${DEV_API_KEY}'

Something to look at in ${stack.url}/admin: in another terminal,
  npm run seed
makes a small mix of tasks through the simulator (successes, a failure, a lost callback the poller
recovers within about three minutes, a delivered and a failing client webhook).

Press Ctrl-C to stop. Logs:
`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(cronTimer);
    await stack.close();
    process.exit(0);
  });
}
