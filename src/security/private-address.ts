/**
 * Is a client's callBackUrl aimed inside a network rather than at the public internet? The
 * gateway POSTs to that URL from its own infrastructure, so an internal target would turn it
 * into a way to reach hosts a client cannot reach itself (SSRF).
 *
 * Hostnames are judged by name here, literal addresses by range: the WHATWG URL parser has
 * already turned every IPv4 spelling (`2130706433`, `0x7f.1`, `0177.0.0.1`) into dotted decimal
 * and every IPv6 one into its compressed form. Where a public name points is checked by
 * resolving it (src/webhooks/target.ts). Address ranges are ipaddr.js's classification.
 */
import ipaddr from "ipaddr.js";

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

/** ipaddr.js's IPv4 ranges that are not the public internet ("this network", RFC 1918, CGNAT, documentation, benchmarking, reserved…). */
const INTERNAL_IPV4_RANGES = new Set(["unspecified", "broadcast", "multicast", "linkLocal", "loopback", "carrierGradeNat", "private", "reserved"]);
/**
 * Its IPv6 ranges likewise. Teredo (2001::/32) hides its IPv4 obfuscated, so it is refused whole;
 * "reserved" holds the documentation prefix 2001:db8::/32.
 */
const INTERNAL_IPV6_RANGES = new Set([
	"unspecified",
	"linkLocal",
	"multicast",
	"loopback",
	"uniqueLocal",
	"deprecatedSiteLocal",
	"discard",
	"teredo",
	"reserved",
]);

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

/** A dotted-decimal IPv4 address (what the URL parser and resolvers write), or null. */
function parseIpv4(host: string): ipaddr.IPv4 | null {
	return ipaddr.IPv4.isValidFourPartDecimal(host) ? ipaddr.IPv4.parse(host) : null;
}

function isInternalIpv4(address: ipaddr.IPv4): boolean {
	return INTERNAL_IPV4_RANGES.has(address.range());
}

/** The IPv4 address in two 16-bit groups. */
function ipv4Of(high: number, low: number): ipaddr.IPv4 {
	return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

function isInternalIpv6(text: string): boolean {
	const literal = text.split("%")[0] ?? "";
	// Not an address we can read: refuse rather than guess.
	if (!ipaddr.IPv6.isValid(literal)) return true;
	const address = ipaddr.IPv6.parse(literal);
	const g = address.parts;
	const range = address.range();
	// Ranges that carry an IPv4 address are judged by it: IPv4-mapped, SIIT, NAT64, 6to4.
	if (range === "ipv4Mapped" || range === "rfc6145" || range === "rfc6052") return isInternalIpv4(ipv4Of(g[6] as number, g[7] as number));
	if (range === "6to4") return isInternalIpv4(ipv4Of(g[1] as number, g[2] as number));
	if (INTERNAL_IPV6_RANGES.has(range)) return true;
	// Deprecated IPv4-compatible addresses (::a.b.c.d, ::/96), which ipaddr.js counts as unicast.
	return g.slice(0, 6).every((group) => group === 0);
}
