/** How a create that gave no task is answered: its failure's status, code and words, and Retry-After when it has one. */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { CreateFailure } from "../domain/create-failure";
import { GatewayError } from "./http/errors";

export function failureAnswer(failure: CreateFailure): GatewayError {
	const headers: Record<string, string> = failure.retryAfter ? { "retry-after": failure.retryAfter } : {};
	return new GatewayError(failure.status as ContentfulStatusCode, failure.msg, failure.code, headers);
}
