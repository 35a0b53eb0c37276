// Genuine callbacks for the gateway's benches: tasks created through its API, and for each the
// signed request the simulator would send, aimed at the gateway's own workerd socket.

import { DEV_API_KEY } from '../../scripts/local-stack.mjs';
import { inPool } from './load.mjs';

const API = { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' };

/**
 * Tells the simulator not to call back the tasks whose prompt holds `marker` (the bench delivers
 * their callbacks itself), and returns `batch(count, label)`: creates `count` tasks and returns
 * each one's callback request as the upstream would send it.
 * @param {{ origin: string, simulatorUrl: string, marker: string }} options
 */
export async function gatewayCallbacks({ origin, simulatorUrl, marker }) {
  await fetch(`${simulatorUrl}/__sim/scripts`, { method: 'POST', headers: API, body: JSON.stringify({ match: marker, callback: 'drop' }) });
  /** @param {number} count @param {string} label */
  return (count, label) =>
    inPool(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
      const created = await fetch(`${origin}/api/v1/lyrics`, { method: 'POST', headers: API, body: JSON.stringify({ prompt: `${marker} ${label} ${i}` }) });
      const taskId = (await created.json()).data?.taskId;
      if (!taskId) throw new Error(`create answered ${created.status}`);
      const request = await (await fetch(`${simulatorUrl}/__sim/tasks/${taskId}/callback`)).json();
      const url = new URL(request.url);
      return { taskId, url: `${origin}${url.pathname}${url.search}`, headers: request.headers, body: request.body };
    });
}
