// A stand-in DNS-over-HTTPS resolver (JSON flavour, as cloudflare-dns.com answers), so the
// gateway's check of where a callBackUrl's name points can be tested with no network:
//   GET /__sim/dns-query?name=<host>&type=A|AAAA
// Each name under one of the zones in ZONES (e.g. `hooks.private.dns.example.net`) gets that
// zone's answer per record type; every other name resolves to public addresses.

import { sendJson } from './http.mjs';

const TYPES = { A: 1, AAAA: 28 };
const PUBLIC = { A: '93.184.215.14', AAAA: '2606:2800:21f:cb07:6820:80da:af6b:8b2c' };
/** How long a stalled lookup goes unanswered: longer than any resolver deadline a gateway uses. */
export const DNS_STALL_MS = 5000;

/**
 * Per zone, what each lookup answers: an address (NOERROR with that record), 'none' (NOERROR,
 * no record), 'nxdomain', 'servfail', 'http-502' (the resolver itself fails), or 'stall'
 * (answered only after DNS_STALL_MS).
 * @type {Record<string, Record<'A' | 'AAAA', string>>}
 */
const ZONES = {
  'private.dns.example.net': { A: '10.20.30.40', AAAA: 'fd00::1' },
  'loopback6.dns.example.net': { A: 'none', AAAA: '::1' },
  'missing.dns.example.net': { A: 'nxdomain', AAAA: 'nxdomain' },
  // Partial answers: one lookup names an internal address at once, the other fails or stalls.
  'partial-stall.dns.example.net': { A: '10.0.0.5', AAAA: 'stall' },
  'partial-servfail.dns.example.net': { A: '10.0.0.5', AAAA: 'servfail' },
  'partial6-http-error.dns.example.net': { A: 'http-502', AAAA: 'fd00::5' },
  // A public address, but the other lookup never says where else the name points.
  'public-stall.dns.example.net': { A: PUBLIC.A, AAAA: 'stall' },
  'public-servfail.dns.example.net': { A: PUBLIC.A, AAAA: 'servfail' },
  // Nothing usable at all.
  'servfail.dns.example.net': { A: 'servfail', AAAA: 'servfail' },
  'http-error.dns.example.net': { A: 'http-502', AAAA: 'http-502' },
  'empty.dns.example.net': { A: 'none', AAAA: 'none' },
  // Public over IPv4 only: an empty AAAA answer is normal.
  'v4only.dns.example.net': { A: PUBLIC.A, AAAA: 'none' },
};

/** @param {string} name @param {'A' | 'AAAA'} type @returns {string} what the lookup answers (see ZONES) */
export function behaviourOf(name, type) {
  const host = name.toLowerCase().replace(/\.+$/, '');
  for (const [zone, answers] of Object.entries(ZONES)) {
    if (host === zone || host.endsWith(`.${zone}`)) return answers[type];
  }
  return PUBLIC[type];
}

/** @param {string} name @param {'A' | 'AAAA'} type @returns {{ Status: number, Answer?: { name: string, type: number, TTL: number, data: string }[] }} */
export function resolve(name, type) {
  const host = name.toLowerCase().replace(/\.+$/, '');
  const behaviour = behaviourOf(name, type);
  if (behaviour === 'nxdomain') return { Status: 3 };
  if (behaviour === 'servfail') return { Status: 2 };
  const data = behaviour === 'none' || behaviour === 'stall' || behaviour === 'http-502' ? undefined : behaviour;
  return { Status: 0, Answer: data ? [{ name: host, type: TYPES[type], TTL: 60, data }] : [] };
}

/**
 * @param {import('node:http').ServerResponse} res @param {URL} url
 * @param {(ms: number) => Promise<unknown>} sleep  ends early when the simulator closes
 */
export async function handleDnsQuery(res, url, sleep) {
  const name = url.searchParams.get('name');
  const type = url.searchParams.get('type') ?? 'A';
  if (!name || (type !== 'A' && type !== 'AAAA')) return sendJson(res, 400, { Status: 1, error: 'name and type A or AAAA required' });
  const behaviour = behaviourOf(name, type);
  if (behaviour === 'http-502') return sendJson(res, 502, { error: 'resolver unavailable' });
  if (behaviour === 'stall') {
    await sleep(DNS_STALL_MS);
    if (res.destroyed) return;
  }
  sendJson(res, 200, resolve(name, type));
}
