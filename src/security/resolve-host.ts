/**
 * Where a hostname points, asked of a DNS-over-HTTPS resolver (RFC 8484's JSON flavour, as
 * Cloudflare's and Google's resolvers answer it). Workers have no DNS API of their own.
 */

/** The addresses a name resolves to (A and AAAA); null when the resolver could not be asked. */
export type Resolution = { kind: "addresses"; addresses: string[] } | { kind: "no-such-name" } | null;

const NXDOMAIN = 3;

interface DnsJsonAnswer {
	Status?: number;
	Answer?: Array<{ type?: number; data?: string }>;
}

const RECORD_TYPES = { A: 1, AAAA: 28 } as const;

export async function resolveHost(resolverUrl: string, hostname: string, timeoutMs: number): Promise<Resolution> {
	const answers = await Promise.all(
		(Object.keys(RECORD_TYPES) as Array<keyof typeof RECORD_TYPES>).map((type) => ask(resolverUrl, hostname, type, timeoutMs)),
	);
	if (answers.some((answer) => answer === null)) return null;
	const complete = answers as DnsJsonAnswer[];
	if (complete.every((answer) => answer.Status === NXDOMAIN)) return { kind: "no-such-name" };
	const addresses = complete.flatMap((answer, i) => {
		const wanted = Object.values(RECORD_TYPES)[i];
		return (answer.Answer ?? []).filter((record) => record.type === wanted && typeof record.data === "string").map((record) => record.data as string);
	});
	return { kind: "addresses", addresses };
}

async function ask(resolverUrl: string, hostname: string, type: string, timeoutMs: number): Promise<DnsJsonAnswer | null> {
	const url = new URL(resolverUrl);
	url.searchParams.set("name", hostname);
	url.searchParams.set("type", type);
	try {
		const response = await fetch(url, { headers: { accept: "application/dns-json" }, signal: AbortSignal.timeout(timeoutMs) });
		if (!response.ok) return null;
		const body = (await response.json()) as DnsJsonAnswer;
		return typeof body.Status === "number" ? body : null;
	} catch {
		return null;
	}
}
