/**
 * Whether a client's callBackUrl may receive deliveries at all, checked at create and again
 * before every attempt (its DNS may have changed since, or the operator's settings).
 */
import type { Config } from "../config/config";
import { isAddressLiteral, isInternalAddress, isInternalHost } from "../security/private-address";
import { type LookupAnswer, RECORD_TYPES, type RecordType, lookup } from "../security/resolve-host";

/**
 * The ports web servers answer deliveries on. A Worker's fetch reaches any port, so without this a
 * callBackUrl could aim deliveries at a mail, SSH or database port of a public host.
 */
const DELIVERY_PORTS = new Set(["80", "443", "8080", "8443"]);

/** A sentence saying why the URL is refused by its text alone, or null when it is acceptable. */
export function callbackUrlProblem(url: string, allowPrivate: boolean): string | null {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return "callBackUrl is not an absolute URL";
	}
	if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "callBackUrl must use http or https";
	if (!allowPrivate && isInternalHost(parsed.hostname)) return internal(parsed.hostname);
	// The URL parser drops a scheme's default port (":443" on https), leaving "".
	if (!allowPrivate && parsed.port !== "" && !DELIVERY_PORTS.has(parsed.port)) {
		return `callBackUrl must use port 80, 443, 8080 or 8443, not ${parsed.port}`;
	}
	if (parsed.username || parsed.password) {
		// fetch() refuses URLs with credentials, so such a URL could never be delivered to.
		return "callBackUrl must not carry credentials (user:password@); check the signatures on each delivery instead";
	}
	return null;
}

/** callbackUrlProblem, and then resolvedAddressProblem: every reason to refuse the URL. */
export async function callbackUrlRefusal(
	url: string,
	config: Pick<Config, "allowPrivateCallbackUrls" | "callbackDnsResolver" | "callbackDnsTimeoutMs">,
): Promise<string | null> {
	return callbackUrlProblem(url, config.allowPrivateCallbackUrls) ?? (await resolvedAddressProblem(url, config));
}

/**
 * Where the URL's name resolves, for a URL whose text passed callbackUrlProblem: a public name
 * pointing inside a network is refused too. One policy, at create and before every attempt: a
 * name is accepted only when both lookups (A and AAAA) answered, together they name at least one
 * address, and none of them is internal. An internal address refuses at once, whatever the other
 * lookup does; a lookup that failed (resolver unreachable, non-2xx, past CALLBACK_DNS_TIMEOUT_MS, SERVFAIL), NXDOMAIN
 * or no address at all refuse too, as where such a name points cannot be known.
 */
export async function resolvedAddressProblem(
	url: string,
	config: Pick<Config, "allowPrivateCallbackUrls" | "callbackDnsResolver" | "callbackDnsTimeoutMs">,
): Promise<string | null> {
	if (config.allowPrivateCallbackUrls || !config.callbackDnsResolver) return null;
	const { hostname } = new URL(url);
	if (isAddressLiteral(hostname)) return null;
	const answers = await lookUpUntilInternal(config.callbackDnsResolver, hostname, config.callbackDnsTimeoutMs);
	const inside = answers.flatMap(({ answer }) => (answer.kind === "addresses" ? answer.addresses : [])).find(isInternalAddress);
	if (inside) return internal(`${hostname} (${inside})`);
	for (const { type, answer } of answers) {
		if (answer.kind === "failed") {
			return (
				`callBackUrl's host ${hostname} could not be resolved (${type} lookup: ${answer.why}), so the gateway ` +
				"cannot tell whether it points inside a network and does not deliver to it"
			);
		}
	}
	if (answers.some(({ answer }) => answer.kind === "no-such-name")) return `callBackUrl's host ${hostname} does not exist in DNS`;
	if (answers.every(({ answer }) => answer.kind === "addresses" && answer.addresses.length === 0)) {
		return `callBackUrl's host ${hostname} has no A or AAAA address in DNS`;
	}
	return null;
}

/** Both lookups' answers, or as soon as one names an internal address, the answers so far. */
function lookUpUntilInternal(resolverUrl: string, hostname: string, timeoutMs: number): Promise<Array<{ type: RecordType; answer: LookupAnswer }>> {
	const types = Object.keys(RECORD_TYPES) as RecordType[];
	const answers: Array<{ type: RecordType; answer: LookupAnswer }> = [];
	return new Promise((resolve) => {
		for (const type of types) {
			void lookup(resolverUrl, hostname, type, timeoutMs).then((answer) => {
				answers.push({ type, answer });
				const internalFound = answer.kind === "addresses" && answer.addresses.some(isInternalAddress);
				if (internalFound || answers.length === types.length) resolve([...answers]);
			});
		}
	});
}

function internal(where: string): string {
	return (
		`callBackUrl points at ${where}, a loopback, private or internal address the gateway ` +
		"does not deliver to. Use a public http(s) URL."
	);
}
