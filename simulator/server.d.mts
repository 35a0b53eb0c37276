// Types for server.mjs, so TypeScript tests (vitest globalSetup) can import the simulator
// without allowJs.

export interface SimulatorOptions {
  /** 0 (default) = a free port. */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** When set, callbacks carry X-Webhook-Timestamp and X-Webhook-Signature. */
  hmacKey?: string;
  /** When set, the only accepted bearer token; otherwise any non-empty token is accepted. */
  apiKey?: string;
  /** Default time from create to callback / record-info SUCCESS. Default 3000. */
  callbackDelayMs?: number;
  /** true = one console line per request; or a function receiving each line. Default false. */
  log?: boolean | ((line: string) => void);
}

export interface Simulator {
  /** e.g. "http://127.0.0.1:41234" (no trailing slash). */
  url: string;
  port: number;
  /** Cancels pending callbacks and timers, drops open connections; idempotent. */
  close(): Promise<void>;
}

export function startSimulator(options?: SimulatorOptions): Promise<Simulator>;
