/**
 * Is a client's callBackUrl aimed inside a network rather than at the public internet? The
 * gateway POSTs to that URL from its own infrastructure, so an internal target would turn it
 * into a way to reach hosts a client cannot reach itself (SSRF).
 *
 * Hostnames are judged by name here, literal addresses by range: the WHATWG URL parser has
 * already turned every IPv4 spelling (`2130706433`, `0x7f.1`, `0177.0.0.1`) into dotted decimal
 * and every IPv6 one into its compressed form. Where a public name points is checked by
 * resolving it (src/webhooks/target.ts).
 */

/**
 * Names that never resolve on the public internet, by standard (RFC 2606, 6761, 6762, 7686, 8375,
 * 9476) or by common convention (Kubernetes services, home routers).
 */
const INTERNAL_NAME_SUFFIXES = [
	".localhost",
	".local",
	".internal",
	".intranet",
	".lan",
	".home.arpa",
	".alt",
	".localdomain",
	".test",
	".invalid",
	".example",
	".onion",
	".svc",
];

/**
 * Public wildcard-DNS services whose names resolve to whatever address they spell
 * (`10.0.0.1.nip.io`) or always to loopback (`lvh.me`): refused by name, resolver or not.
 */
const ADDRESS_SPELLING_DOMAINS = ["nip.io", "sslip.io", "xip.io", "localtest.me", "lvh.me", "vcap.me", "traefik.me", "local.gd"];

/** IPv4 ranges that are not the public internet: [first octets, prefix length]. */
const INTERNAL_IPV4: ReadonlyArray<readonly [string, number]> = [
	["0.0.0.0", 8], // "this network"
	["10.0.0.0", 8], // private
	["100.64.0.0", 10], // carrier-grade NAT
	["127.0.0.0", 8], // loopback
	["169.254.0.0", 16], // link-local, cloud metadata services
	["172.16.0.0", 12], // private
	["192.0.0.0", 24], // IETF protocol assignments
	["192.0.2.0", 24], // documentation
	["192.88.99.0", 24], // 6to4 relay anycast
	["192.168.0.0", 16], // private
	["198.18.0.0", 15], // benchmarking
	["198.51.100.0", 24], // documentation
	["203.0.113.0", 24], // documentation
	["224.0.0.0", 4], // multicast
	["240.0.0.0", 4], // reserved, broadcast
];

export function isInternalHost(hostname: string): boolean {
	// Any number of trailing dots name the same host ("localhost.." is localhost).
	const host = hostname.toLowerCase().replace(/\.+$/, "");
	if (host.startsWith("[") && host.endsWith("]")) return isInternalIpv6(host.slice(1, -1));
	const ipv4 = parseIpv4(host);
	if (ipv4 !== null) return isInternalIpv4(ipv4);
	// A single label ("intranet", "metadata") is resolved by local search domains, never publicly.
	if (!host.includes(".")) return true;
	if (ADDRESS_SPELLING_DOMAINS.some((domain) => host === domain || host.endsWith(`.${domain}`))) return true;
	return host === "localhost" || INTERNAL_NAME_SUFFIXES.some((suffix) => host.endsWith(suffix));
}

/** An address as a resolver writes it (dotted IPv4 or IPv6 text), judged by range. */
export function isInternalAddress(address: string): boolean {
	const ipv4 = parseIpv4(address);
	if (ipv4 !== null) return isInternalIpv4(ipv4);
	return isInternalIpv6(address);
}

/** Whether the URL host is an address literal rather than a name (so there is nothing to resolve). */
export function isAddressLiteral(hostname: string): boolean {
	return hostname.startsWith("[") || parseIpv4(hostname) !== null;
}

function parseIpv4(host: string): number | null {
	const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
	if (!match) return null;
	const octets = match.slice(1).map(Number);
	if (octets.some((octet) => octet > 255)) return null;
	return octets.reduce((value, octet) => value * 256 + octet, 0);
}

function isInternalIpv4(address: number): boolean {
	return INTERNAL_IPV4.some(([base, prefix]) => {
		const start = parseIpv4(base) as number;
		const size = 2 ** (32 - prefix);
		return address >= start && address < start + size;
	});
}

/** The 8 groups of an IPv6 address, or null when it is not one (an embedded IPv4 tail is folded in). */
function parseIpv6(text: string): number[] | null {
	let address = text.split("%")[0] ?? "";
	const tail = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(address)?.[1];
	if (tail) {
		const ipv4 = parseIpv4(tail);
		if (ipv4 === null) return null;
		address = `${address.slice(0, -tail.length)}${(ipv4 >>> 16).toString(16)}:${(ipv4 & 0xffff).toString(16)}`;
	}
	const halves = address.split("::");
	if (halves.length > 2) return null;
	const groups = (part: string) => (part === "" ? [] : part.split(":"));
	const head = groups(halves[0] as string);
	const rest = halves.length === 2 ? groups(halves[1] as string) : [];
	const missing = 8 - head.length - rest.length;
	if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
	const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
	if (!all.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return null;
	return all.map((group) => Number.parseInt(group, 16));
}

function isInternalIpv6(text: string): boolean {
	const g = parseIpv6(text);
	// Not an address we can read: refuse rather than guess.
	if (!g) return true;
	const embeddedIpv4 = ((g[6] as number) * 65536 + (g[7] as number)) >>> 0;
	const first = g[0] as number;
	if (g.slice(0, 6).every((group) => group === 0)) return true; // ::/96: ::, ::1, IPv4-compatible ::a.b.c.d
	if (g.slice(0, 5).every((group) => group === 0) && g[5] === 0xffff) return isInternalIpv4(embeddedIpv4); // IPv4-mapped
	if (g.slice(0, 4).every((group) => group === 0) && g[4] === 0xffff && g[5] === 0) return isInternalIpv4(embeddedIpv4); // SIIT ::ffff:0:a.b.c.d
	if (first === 0x2001 && g[1] === 0) return true; // Teredo 2001::/32: its IPv4 is obfuscated, so refuse it whole
	if (first === 0x64 && g[1] === 0xff9b) return isInternalIpv4(embeddedIpv4); // NAT64 (64:ff9b::/96, /48)
	if (first === 0x2002) return isInternalIpv4(((g[1] as number) * 65536 + (g[2] as number)) >>> 0); // 6to4
	if ((first & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
	if ((first & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
	if ((first & 0xffc0) === 0xfec0) return true; // site-local fec0::/10 (deprecated)
	if ((first & 0xff00) === 0xff00) return true; // multicast
	if (first === 0x2001 && g[1] === 0x0db8) return true; // documentation
	if (first === 0x0100 && g[1] === 0 && g[2] === 0 && g[3] === 0) return true; // discard-only 100::/64
	return false;
}
