import { z } from "@hono/zod-openapi";

/** Every JSON answer is `{code, msg, data}`; `code` is the KIE code when the outcome came from upstream. */
export const ErrorEnvelope = z
	.object({
		code: z.number().int().openapi({ example: 400 }),
		msg: z.string().openapi({ example: "The prompt is empty. Send a non-empty prompt string." }),
		data: z.null(),
	})
	.openapi("ErrorEnvelope");

export function successEnvelope<T extends z.ZodType>(data: T) {
	return z.object({
		code: z.literal(200),
		msg: z.literal("success"),
		data,
	});
}

type ErrorExample = z.infer<typeof ErrorEnvelope>;

/**
 * OpenAPI response entries for the error statuses a route can answer, each with an example of
 * its own (its body `code` is the status unless `codes` names the upstream's, e.g. 402 → 429).
 */
export function errorResponses<S extends number>(statuses: Record<S, string>, codes: Partial<Record<S, number>> = {}) {
	return Object.fromEntries(
		Object.entries(statuses).map(([status, description]) => {
			const example: ErrorExample = {
				code: codes[Number(status) as S] ?? Number(status),
				msg: `${description as string}.`,
				data: null,
			};
			// Rate limits and outages say when to come back.
			const headers = status === "429" || status === "503" ? RETRY_AFTER : undefined;
			return [
				status,
				{ description: description as string, ...(headers ? { headers } : {}), content: { "application/json": { schema: ErrorEnvelope, example } } },
			];
		}),
	) as Record<S, { description: string; content: { "application/json": { schema: typeof ErrorEnvelope; example: ErrorExample } } }>;
}

const RETRY_AFTER = {
	"Retry-After": {
		description: "Seconds to wait before trying again (on 429 always; on 503 when the outage is passing)",
		schema: { type: "integer" as const, minimum: 1 },
	},
};

/**
 * For an operation that answers no error of its own to a well-formed request (the public GETs):
 * the shape every client error of the gateway takes, so a client still knows what to parse.
 */
export const ANY_CLIENT_ERROR = {
	"4XX": {
		description: "Any client error, in the envelope (e.g. 405 with Allow for a method the path does not serve)",
		content: { "application/json": { schema: ErrorEnvelope } },
	},
};
