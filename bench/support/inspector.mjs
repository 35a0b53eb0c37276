// The Chrome DevTools protocol of a Worker under `wrangler dev --inspector-port`: wrangler lists the
// Worker's isolate at /json and relays the protocol over a WebSocket (Node 22's own).

/**
 * @param {number} port  wrangler's inspector port
 * @returns {Promise<{ send: (method: string, params?: object) => Promise<any>, close: () => void }>}
 */
export async function connectInspector(port) {
  let targets = [];
  for (const deadline = Date.now() + 15_000; targets.length === 0; ) {
    targets = await fetch(`http://127.0.0.1:${port}/json`).then((r) => r.json()).catch(() => []);
    if (targets.length === 0 && Date.now() > deadline) throw new Error(`no inspector target on port ${port}`);
    if (targets.length === 0) await new Promise((done) => setTimeout(done, 250));
  }
  // wrangler's proxy admits local origins only, and Node's WebSocket names none by itself.
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl, /** @type {any} */ ({ headers: { origin: 'http://127.0.0.1' } }));
  await new Promise((opened, failed) => {
    socket.addEventListener('open', opened, { once: true });
    socket.addEventListener('error', failed, { once: true });
  });
  let nextId = 1;
  const pending = new Map();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data));
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.failed(new Error(`${message.error.message} (${message.error.code})`));
    else waiter.done(message.result);
  });
  return {
    send: (method, params = {}) =>
      new Promise((done, failed) => {
        const id = nextId++;
        pending.set(id, { done, failed });
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}
