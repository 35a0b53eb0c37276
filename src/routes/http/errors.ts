/** Every error leaves the gateway as the contract's envelope `{code, msg, data: null}`. */
import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { logEvent } from "../../lib/log";
import { noteForLog } from "./log-fields";

/** An error whose status, envelope code and message the client is meant to see. */
export class GatewayError extends HTTPException {
	constructor(
		status: ContentfulStatusCode,
		message: string,
		readonly code: number = status,
		readonly headers: Record<string, string> = {},
	) {
		super(status, { message });
	}
}

export function errorEnvelope(c: Context, status: ContentfulStatusCode, code: number, msg: string, headers = {}) {
	if (code !== status) noteForLog(c.req.raw, { code });
	return c.json({ code, msg, data: null }, status, headers);
}

export const onError: ErrorHandler = (error, c) => {
	if (error instanceof GatewayError) {
		return errorEnvelope(c, error.status as ContentfulStatusCode, error.code, error.message, error.headers);
	}
	if (error instanceof HTTPException && error.status < 500) {
		return errorEnvelope(c, error.status as ContentfulStatusCode, error.status, error.message || "Bad request.");
	}
	logEvent("error", "unhandled_error", {
		path: new URL(c.req.url).pathname,
		error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
	});
	return errorEnvelope(c, 500, 500, "The gateway hit an internal error. Try again in a moment.");
};
