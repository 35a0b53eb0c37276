import { readCapped } from "../lib/read-capped";
import { errorMessage } from "../lib/error-message";

/** One bounded exchange with the upstream: a deadline over the whole answer and a size cap on it. */

const MAX_UPSTREAM_ANSWER_BYTES = 1024 * 1024;

export type Exchange =
	| { kind: "answered"; status: number; headers: Headers; json: unknown }
	| { kind: "timeout" }
	| { kind: "unreachable"; detail: string }
	| { kind: "unparseable"; status: number; headers: Headers };

/** Never throws: every way the upstream can misbehave comes back as a value. */
export async function exchange(url: string, init: RequestInit, timeoutMs: number): Promise<Exchange> {
	const controller = new AbortController();
	// One timer covers connecting, the headers and the body: a peer that sends headers and then
	// stalls is as late as one that never answers.
	const timer = setTimeout(() => controller.abort(), timeoutMs);
	try {
		const response = await fetch(url, { ...init, signal: controller.signal });
		const bytes = await readCapped(response.body, MAX_UPSTREAM_ANSWER_BYTES);
		if (bytes === null) return { kind: "unparseable", status: response.status, headers: response.headers };
		try {
			return { kind: "answered", status: response.status, headers: response.headers, json: JSON.parse(new TextDecoder().decode(bytes)) };
		} catch {
			return { kind: "unparseable", status: response.status, headers: response.headers };
		}
	} catch (error) {
		if (controller.signal.aborted) return { kind: "timeout" };
		return { kind: "unreachable", detail: errorMessage(error) };
	} finally {
		clearTimeout(timer);
	}
}
