/**
 * The contract's status table for a failed create: which HTTP status and envelope code the
 * client gets, in plain words. Upstream text is never echoed: a hostile or buggy upstream could
 * put anything there, our own key included.
 */
import type { CreateFailure } from "../domain/create-failure";
import type { Exchange } from "./exchange";
import { isRecord } from "../lib/json";

const TRY_AGAIN_SOON = "Try again in a moment.";

export function mapCreateFailure(answer: Exchange, timeoutMs: number): CreateFailure {
	switch (answer.kind) {
		case "timeout":
			return {
				kind: "upstream-timeout",
				status: 504,
				code: 504,
				msg: `The upstream lyrics service did not answer within ${timeoutMs / 1000} s. Try again later.`,
				upstream: "timeout",
			};
		case "unreachable":
			return {
				kind: "upstream",
				status: 502,
				code: 502,
				msg: `The upstream lyrics service could not be reached. ${TRY_AGAIN_SOON}`,
				upstream: `unreachable: ${answer.detail}`,
				// The connection may have broken after the create was sent.
				mayHaveMade: true,
			};
		case "unparseable":
			if (answer.status === 429) return rateLimited(429, answer.headers, "HTTP 429");
			return unintelligible(answer.status);
		case "answered":
			return mapAnswered(answer);
	}
}

function mapAnswered(answer: Extract<Exchange, { kind: "answered" }>): CreateFailure {
	const code = isRecord(answer.json) && typeof answer.json.code === "number" ? answer.json.code : undefined;
	const upstream = `HTTP ${answer.status} code ${code ?? "none"}`;
	// HTTP 429 means rate limited, whatever the body says; body code 429 alone means insufficient
	// credits (the provider's API documentation). The envelope keeps a rate-limit code the body gave, else the status.
	if (answer.status === 429) return rateLimited(code === 405 || code === 430 ? code : 429, answer.headers, upstream);
	switch (code) {
		case 429:
			return {
				kind: "upstream",
				status: 402,
				code: 429,
				msg: "The upstream account has insufficient credits. Top up the KIE account, then try again.",
				upstream,
			};
		case 405:
		case 430:
			return rateLimited(code, answer.headers, upstream);
		case 455:
			return {
				kind: "upstream",
				status: 503,
				code: 455,
				msg: "The upstream lyrics service is down for maintenance. Try again later.",
				upstream,
			};
		case 400:
			return {
				kind: "upstream",
				status: 400,
				code: 400,
				msg: "The upstream refused the request as invalid. Rephrase the prompt and try again.",
				upstream,
			};
		case 413:
			return {
				kind: "upstream",
				status: 413,
				code: 413,
				msg: "The upstream says the prompt is too long. Shorten it and try again.",
				upstream,
			};
		case 401:
			return {
				kind: "upstream",
				status: 502,
				code: 502,
				msg: "The upstream refused the gateway's own credentials. The gateway's operator must check KIE_API_KEY.",
				upstream,
			};
		case 500:
			return internalError(upstream);
	}
	if (answer.status >= 500) return internalError(upstream);
	return unintelligible(answer.status);
}

function rateLimited(code: number, headers: Headers, upstream: string): CreateFailure {
	const retryAfter = headers.get("retry-after");
	return {
		kind: "upstream",
		status: 429,
		code,
		msg: "The upstream lyrics service is rate limiting requests. Wait a few seconds, then try again.",
		retryAfter: retryAfter && /^\d{1,5}$/.test(retryAfter.trim()) ? retryAfter.trim() : "10",
		upstream,
	};
}

function internalError(upstream: string): CreateFailure {
	return {
		kind: "upstream",
		status: 502,
		code: 500,
		msg: `The upstream lyrics service had an internal error. ${TRY_AGAIN_SOON}`,
		upstream,
		mayHaveMade: true,
	};
}

function unintelligible(status: number): CreateFailure {
	if (status >= 500) return internalError(`HTTP ${status} unparseable`);
	return {
		kind: "upstream",
		status: 502,
		code: 502,
		msg: `The upstream lyrics service sent an answer the gateway could not understand. ${TRY_AGAIN_SOON}`,
		upstream: `HTTP ${status} unparseable`,
		mayHaveMade: true,
	};
}
