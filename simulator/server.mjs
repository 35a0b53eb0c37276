#!/usr/bin/env node
// Local simulator of the KIE.AI Suno lyrics API (the gateway's upstream).
//
// This file wires the HTTP server and is the CLI entry point (`node simulator/server.mjs`).
// Used by `npm start` for local development and by vitest's globalSetup (startSimulator on a
// free port). See simulator/README.md for the endpoints and behaviour scripts.

import http from 'node:http';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createControl, notFound } from './control.mjs';
import { sendJson } from './http.mjs';
import { createProvider } from './provider.mjs';
import { SimState } from './state.mjs';

/**
 * @typedef {object} SimulatorOptions
 * @property {number} [port]             0 (default) = a free port.
 * @property {string} [host]             Default 127.0.0.1.
 * @property {string} [hmacKey]          When set, callbacks carry X-Webhook-Timestamp/-Signature.
 * @property {string} [apiKey]           When set, the only accepted bearer token.
 * @property {number} [callbackDelayMs]  Default time from create to callback (3000).
 * @property {boolean | ((line: string) => void)} [log]  true = console.log one line per request.
 */

/**
 * @typedef {object} Simulator
 * @property {string} url     e.g. "http://127.0.0.1:41234" (no trailing slash).
 * @property {number} port
 * @property {() => Promise<void>} close  Cancels pending callbacks, drops open connections.
 */

/**
 * Start a simulator. Resolves once it listens.
 * @param {SimulatorOptions} [options]
 * @returns {Promise<Simulator>}
 */
export async function startSimulator({ port = 0, host = '127.0.0.1', hmacKey, apiKey, callbackDelayMs = 3000, log = false } = {}) {
  /** @type {(line: string) => void} */
  const logLine = typeof log === 'function' ? log : log ? (line) => console.log(`[kie-sim] ${line}`) : () => {};
  const state = new SimState();
  /** @type {import('./callbacks.mjs').CallbackContext} */
  const ctx = { hmacKey: hmacKey || undefined, lifecycle: state.lifecycle, log: logLine };
  /** Responses deliberately left unanswered (hang scripts); ended by close(). */
  const held = new Set();
  /** @param {http.ServerResponse} res */
  const hold = (res) => {
    held.add(res);
    res.on('close', () => held.delete(res));
  };
  const provider = createProvider({ state, apiKey: apiKey || undefined, callbackDelayMs, ctx, hold });
  const control = createControl({ state, ctx });

  const server = http.createServer(async (req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://simulator.local');
    // One line per request; the Authorization header is never logged.
    res.on('close', () => {
      const outcome = res.writableFinished ? String(res.statusCode) : held.has(res) || !res.headersSent ? 'unanswered' : 'aborted';
      logLine(`${req.method} ${url.pathname}${url.search} -> ${outcome} ${Date.now() - started}ms`);
    });
    try {
      if (url.pathname === '/api/v1/lyrics' && req.method === 'POST') return await provider.create(req, res);
      if (url.pathname === '/api/v1/lyrics/record-info' && req.method === 'GET') return await provider.recordInfo(req, res, url);
      if (url.pathname === '/__sim' || url.pathname.startsWith('/__sim/')) return await control.handle(req, res, url);
      notFound(res, url);
    } catch (err) {
      logLine(`error on ${req.method} ${url.pathname}: ${/** @type {Error} */ (err)?.stack ?? err}`);
      sendJson(res, 500, { code: 500, msg: 'simulator error', error: String(/** @type {Error} */ (err)?.message ?? err) });
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(undefined);
    });
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  /** @type {Promise<void> | null} */
  let closing = null;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close() {
      closing ??= new Promise((resolve) => {
        state.reset();
        for (const res of held) res.destroy();
        server.close(() => resolve());
        // Keep-alive sockets (workerd, fetch) would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** @param {string | undefined} value @param {number} fallback @param {string} name */
function intFromEnv(value, fallback, name) {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

/** CLI: configured by environment variables; stops cleanly on SIGINT/SIGTERM. */
async function main() {
  const sim = await startSimulator({
    port: intFromEnv(process.env.SIM_PORT, 8790, 'SIM_PORT'),
    hmacKey: process.env.SIM_HMAC_KEY || undefined,
    apiKey: process.env.SIM_API_KEY || undefined,
    callbackDelayMs: intFromEnv(process.env.SIM_CALLBACK_DELAY_MS, 3000, 'SIM_CALLBACK_DELAY_MS'),
    log: true,
  });
  console.log(`KIE lyrics simulator listening on ${sim.url}`);
  const stop = async () => {
    await sim.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// Run main() only when executed directly, not when imported by tests.
const isMain = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (isMain) {
  main().catch((err) => {
    console.error(`[kie-sim] failed to start: ${err?.message ?? err}`);
    process.exit(1);
  });
}
