/** Whether a client's callBackUrl may receive deliveries at all (checked at create and at send). */
import { isInternalHost } from "../security/private-address";

/** A sentence saying why the URL is refused, or null when it is acceptable. */
export function callbackUrlProblem(url: string, allowPrivate: boolean): string | null {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return "callBackUrl is not an absolute URL";
	}
	if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "callBackUrl must use http or https";
	if (!allowPrivate && isInternalHost(parsed.hostname)) {
		return (
			`callBackUrl points at ${parsed.hostname}, a loopback, private or internal address the gateway ` +
			"does not deliver to. Use a public http(s) URL."
		);
	}
	if (parsed.username || parsed.password) {
		// fetch() refuses URLs with credentials, so such a URL could never be delivered to.
		return "callBackUrl must not carry credentials (user:password@); check the signatures on each delivery instead";
	}
	return null;
}
