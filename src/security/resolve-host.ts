/**
 * Where a hostname points, asked of a DNS-over-HTTPS resolver (RFC 8484's JSON flavour, as
 * Cloudflare's and Google's resolvers answer it). Workers have no DNS API of their own.
 */

/** One lookup's answer: its addresses (NOERROR, possibly none), NXDOMAIN, or why it gave none. */
export type LookupAnswer =
	| { kind: "addresses"; addresses: string[] }
	| { kind: "no-such-name" }
	| { kind: "failed"; why: string };

export const RECORD_TYPES = { A: 1, AAAA: 28 } as const;
export type RecordType = keyof typeof RECORD_TYPES;

const NOERROR = 0;
const NXDOMAIN = 3;
/** DNS response codes a failed lookup is described by (RFC 1035, 4.1.1). */
const RCODE_NAMES: Record<number, string> = { 1: "FORMERR", 2: "SERVFAIL", 4: "NOTIMP", 5: "REFUSED" };

interface DnsJsonAnswer {
	Status?: unknown;
	Answer?: Array<{ type?: number; data?: string }>;
}

export async function lookup(resolverUrl: string, hostname: string, type: RecordType, timeoutMs: number): Promise<LookupAnswer> {
	const url = new URL(resolverUrl);
	url.searchParams.set("name", hostname);
	url.searchParams.set("type", type);
	let body: DnsJsonAnswer;
	try {
		const response = await fetch(url, { headers: { accept: "application/dns-json" }, signal: AbortSignal.timeout(timeoutMs) });
		if (!response.ok) {
			await response.body?.cancel();
			return { kind: "failed", why: `the resolver answered HTTP ${response.status}` };
		}
		body = (await response.json()) as DnsJsonAnswer;
	} catch (error) {
		const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
		return { kind: "failed", why: timedOut ? `no answer within ${timeoutMs} ms` : "the resolver could not be reached or read" };
	}
	if (body.Status === NXDOMAIN) return { kind: "no-such-name" };
	if (body.Status !== NOERROR) {
		const code = typeof body.Status === "number" ? (RCODE_NAMES[body.Status] ?? `status ${body.Status}`) : "an unreadable answer";
		return { kind: "failed", why: code };
	}
	const wanted = RECORD_TYPES[type];
	const addresses = (body.Answer ?? [])
		.filter((record) => record.type === wanted && typeof record.data === "string")
		.map((record) => record.data as string);
	return { kind: "addresses", addresses };
}
