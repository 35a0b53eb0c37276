// Tasks as real ones look, for the benches that store them: a 60-word prompt and two takes of
// about 2.5 KB of lyrics each (verses and a chorus that comes back, as songs have). Seeded, so
// every run stores the same text.

/** Seeded words, so every run stores the same text. */
export function words(seed, count, pool) {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return pool[state % pool.length];
  });
}

export const POOL = ('night river light heart road dream fire rain city street morning shadow summer window ocean silver ' +
  'golden whisper thunder highway echo broken open hold remember tonight forever falling rising running waiting ' +
  'burning singing dancing slowly softly together alone again home away stars moon sky cold warm wild free').split(' ');

/** About 2.5 KB of lyrics: verses and a chorus that comes back, as songs have. */
export function lyrics(seed) {
  const line = (n) => words(seed * 31 + n, 7, POOL).join(' ');
  const stanza = (from) => Array.from({ length: 4 }, (_, i) => line(from + i)).join('\n');
  const chorus = `[Chorus]\n${stanza(100)}`;
  const parts = [`[Verse]\n${stanza(0)}`, chorus, `[Verse 2]\n${stanza(10)}`, chorus, `[Bridge]\n${stanza(20)}`, chorus, `[Verse 3]\n${stanza(30)}`, chorus, `[Outro]\n${stanza(40)}`];
  let text = parts.join('\n\n');
  while (text.length < 2400) text += `\n\n${chorus}`;
  return text.slice(0, 2500);
}

/**
 * The callback the simulator would send now for task number `i`, with two realistic takes of
 * lyrics in place of the simulator's own: `{ path, headers, body }`, to deliver (any number of
 * times) to the gateway at `stack.url`. The simulator's own callback must be held back (a long
 * callbackDelayMs).
 */
export async function realisticCallback(stack, taskId, i) {
  const callback = await (await fetch(`${stack.simulatorUrl}/__sim/tasks/${taskId}/callback`)).json();
  const payload = JSON.parse(callback.body);
  payload.data.data = [0, 1].map((take) => ({ title: `Take ${take + 1}`, text: lyrics(i * 2 + take + 1), status: 'complete', error_message: '' }));
  const url = new URL(callback.url);
  return { path: `${url.pathname}${url.search}`, headers: callback.headers, body: JSON.stringify(payload) };
}

/** A 60-word prompt, the same for task number `i` on every run. */
export const realisticPrompt = (i) => words(i + 1, 60, POOL).join(' ');

/**
 * Creates task number `i` on the local stack with a 60-word prompt (and `callBackUrl` when given),
 * and delivers its callback as the simulator would send it, with two realistic takes of lyrics.
 * Returns the taskId.
 */
export async function createWithRealisticResult(stack, headers, i, callBackUrl) {
  const body = { prompt: realisticPrompt(i), ...(callBackUrl ? { callBackUrl } : {}) };
  const created = await (await fetch(`${stack.url}/api/v1/lyrics`, { method: 'POST', headers, body: JSON.stringify(body) })).json();
  if (created.code !== 200) throw new Error(`create answered ${JSON.stringify(created)}`);
  const { taskId } = created.data;
  const callback = await realisticCallback(stack, taskId, i);
  const answer = await fetch(`${stack.url}${callback.path}`, { method: 'POST', headers: callback.headers, body: callback.body });
  if (!answer.ok) throw new Error(`callback answered ${answer.status}`);
  return taskId;
}
