// Cloudflare's list prices on Workers Paid, in one place (docs/performance.md reads the bench's
// output, not these): update the date and the figures together when Cloudflare changes them.

export const PRICES_CHECKED = '2026-12 (Workers Paid, list prices)';

/** Dollars per unit. */
export const PRICE = {
  workerRequest: 0.3 / 1e6,
  workerCpuMs: 0.02 / 1e6,
  objectRequest: 0.15 / 1e6,
  /** 128 MB per active object: $12.50 per million GB-s. */
  objectActiveSecond: (12.5 / 1e6) * 0.128,
  objectRowRead: 0.001 / 1e6,
  objectRowWritten: 1.0 / 1e6,
  objectStoredGbMonth: 0.2,
  d1RowRead: 0.001 / 1e6,
  d1RowWritten: 1.0 / 1e6,
  d1StoredGbMonth: 0.75,
  r2ClassA: 4.5 / 1e6,
  r2ClassB: 0.36 / 1e6,
  r2StoredGbMonth: 0.015,
};

/** What the $5 a month of Workers Paid includes each month (R2's free tier alike). */
export const INCLUDED = {
  planDollars: 5,
  workerRequests: 10e6,
  workerCpuMs: 30e6,
  objectRequests: 1e6,
  objectActiveSeconds: 400_000 / 0.128,
  objectRowsRead: 25e9,
  objectRowsWritten: 50e6,
  objectStoredGb: 5,
  d1RowsRead: 25e9,
  d1RowsWritten: 50e6,
  d1StoredGb: 5,
  r2ClassA: 1e6,
  r2ClassB: 10e6,
  r2StoredGb: 10,
};
