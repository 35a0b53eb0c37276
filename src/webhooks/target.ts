/**
 * Whether a client's callBackUrl may receive deliveries at all, checked at create and again
 * before every attempt (its DNS may have changed since, or the operator's settings).
 */
import type { Config } from "../config";
import { isAddressLiteral, isInternalAddress, isInternalHost } from "../security/private-address";
import { resolveHost } from "../security/resolve-host";

const RESOLVE_TIMEOUT_MS = 2000;

/** The host (and port) of a callBackUrl, for the stats: never its path, query or credentials. */
export function callbackHost(url: string | null): string | null {
	if (!url) return null;
	try {
		return new URL(url).host || null;
	} catch {
		return null;
	}
}

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
	if (parsed.username || parsed.password) {
		// fetch() refuses URLs with credentials, so such a URL could never be delivered to.
		return "callBackUrl must not carry credentials (user:password@); check the signatures on each delivery instead";
	}
	return null;
}

/** callbackUrlProblem, and then resolvedAddressProblem: every reason to refuse the URL. */
export async function callbackUrlRefusal(
	url: string,
	config: Pick<Config, "allowPrivateCallbackUrls" | "callbackDnsResolver">,
): Promise<string | null> {
	return callbackUrlProblem(url, config.allowPrivateCallbackUrls) ?? (await resolvedAddressProblem(url, config));
}

/**
 * Where the URL's name resolves, for a URL whose text passed callbackUrlProblem: a public name
 * pointing inside a network is refused too. A resolver that cannot be asked does not block
 * (Workers' own outbound fetch does not reach private networks, and deliveries never follow
 * redirects).
 */
export async function resolvedAddressProblem(
	url: string,
	config: Pick<Config, "allowPrivateCallbackUrls" | "callbackDnsResolver">,
): Promise<string | null> {
	if (config.allowPrivateCallbackUrls || !config.callbackDnsResolver) return null;
	const { hostname } = new URL(url);
	if (isAddressLiteral(hostname)) return null;
	const resolution = await resolveHost(config.callbackDnsResolver, hostname, RESOLVE_TIMEOUT_MS);
	if (resolution?.kind === "no-such-name") return `callBackUrl's host ${hostname} does not exist in DNS`;
	const inside = resolution?.addresses.find(isInternalAddress);
	return inside ? internal(`${hostname} (${inside})`) : null;
}

function internal(where: string): string {
	return (
		`callBackUrl points at ${where}, a loopback, private or internal address the gateway ` +
		"does not deliver to. Use a public http(s) URL."
	);
}
