// A stand-in DNS-over-HTTPS resolver (JSON flavour, as cloudflare-dns.com answers), so the
// gateway's check of where a callBackUrl's name points can be tested with no network:
//   GET /__sim/dns-query?name=<host>&type=A|AAAA
// Names under `private.dns.example.net` resolve to 10.20.30.40 / fd00::1, under `loopback6.dns.example.net` to ::1
// (AAAA only), under `missing.dns.example.net` to nothing (NXDOMAIN); every other name to public addresses.

import { sendJson } from './http.mjs';

const TYPES = { A: 1, AAAA: 28 };

/** @param {string} name @param {'A' | 'AAAA'} type @returns {{ Status: number, Answer?: { name: string, type: number, TTL: number, data: string }[] }} */
export function resolve(name, type) {
  const host = name.toLowerCase().replace(/\.+$/, '');
  const under = (/** @type {string} */ domain) => host === domain || host.endsWith(`.${domain}`);
  if (under('missing.dns.example.net')) return { Status: 3 };
  /** @type {Record<'A' | 'AAAA', string | undefined>} */
  let records = { A: '93.184.215.14', AAAA: '2606:2800:21f:cb07:6820:80da:af6b:8b2c' };
  if (under('private.dns.example.net')) records = { A: '10.20.30.40', AAAA: 'fd00::1' };
  if (under('loopback6.dns.example.net')) records = { A: undefined, AAAA: '::1' };
  const data = records[type];
  return { Status: 0, Answer: data ? [{ name: host, type: TYPES[type], TTL: 60, data }] : [] };
}

/** @param {import('node:http').ServerResponse} res @param {URL} url */
export function handleDnsQuery(res, url) {
  const name = url.searchParams.get('name');
  const type = url.searchParams.get('type') ?? 'A';
  if (!name || (type !== 'A' && type !== 'AAAA')) return sendJson(res, 400, { Status: 1, error: 'name and type A or AAAA required' });
  sendJson(res, 200, resolve(name, type));
}
